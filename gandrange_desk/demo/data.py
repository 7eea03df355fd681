"""Names, streets and banks the demo draws from: a Moselle steel-valley commune, not a census.

E-mail addresses use the reserved example.* domains (RFC 2606) so a demo database wired to a
real SMTP server can never write to a stranger.
"""

from __future__ import annotations

# Lorraine and Germanic family names, with the Italian, Polish, Portuguese, Maghrebi and Turkish
# names the Orne valley's steelworks brought over a century.
LAST_NAMES = (
    "Muller", "Schmitt", "Weber", "Klein", "Meyer", "Becker", "Hoffmann", "Wagner", "Schneider",
    "Fischer", "Kieffer", "Bour", "Thiel", "Lang", "Jung", "Hamm", "Kremer", "Wolff", "Zimmermann",
    "Gross", "Schaeffer", "Burger", "Koch", "Stoffel", "Lorentz", "Bettinger", "Reiter", "Hilt",
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Masson", "Henry", "Collin", "Mathieu", "Nicolas", "François", "Guillaume", "Gérard",
    "Rossi", "Bianchi", "Ferrari", "Russo", "Colombo", "Ricci", "Marino", "Greco", "Conti", "Costa",
    "Bruno", "Gallo", "Lombardi", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi",
    "Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański",
    "Da Silva", "Ferreira", "Pereira", "Rodrigues", "Fernandes", "Gonçalves", "Lopes", "Teixeira",
    "Benali", "Haddad", "Belkacem", "Mansouri", "Bouzid", "Cherif", "Amrani", "Khelifi", "Saidi",
    "Yilmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın",
)

GIRL_NAMES = (
    "Léa", "Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Rose", "Anna", "Mia", "Ambre",
    "Julia", "Inès", "Léna", "Juliette", "Zoé", "Manon", "Agathe", "Lou", "Camille", "Sarah",
    "Eva", "Nina", "Romane", "Jeanne", "Iris", "Margaux", "Clémence", "Victoire", "Adèle", "Héloïse",
    "Maëlys", "Lyna", "Yasmine", "Sofia", "Giulia", "Zoë", "Élise", "Capucine", "Apolline", "Lucie",
    "Charlotte", "Éloïse", "Maya", "Nour", "Alba", "Olivia", "Ella", "Lola", "Candice", "Océane",
)

BOY_NAMES = (
    "Gabriel", "Léo", "Raphaël", "Arthur", "Louis", "Jules", "Adam", "Maël", "Lucas", "Hugo",
    "Noah", "Liam", "Gabin", "Sacha", "Paul", "Nathan", "Aaron", "Mohamed", "Éthan", "Tom",
    "Léon", "Timéo", "Théo", "Noé", "Nolan", "Martin", "Mathis", "Axel", "Marius", "Victor",
    "Robin", "Valentin", "Naël", "Eden", "Malo", "Antoine", "Clément", "Baptiste", "Enzo",
    "Matteo", "Lorenzo", "Ilyes", "Rayan", "Amir", "Yanis", "Kylian", "Samuel", "Elio", "Côme",
    "Augustin", "Joseph", "Émile", "Oscar", "Théodore", "Milo", "Ayden",
)

MOTHER_NAMES = (
    "Sandrine", "Céline", "Aurélie", "Julie", "Émilie", "Stéphanie", "Caroline", "Élodie", "Laetitia",
    "Audrey", "Virginie", "Nathalie", "Sophie", "Marie", "Anne", "Claire", "Amélie", "Mélanie",
    "Sabrina", "Jessica", "Vanessa", "Karine", "Laura", "Pauline", "Fatima", "Samira", "Elif",
    "Agnieszka", "Ana", "Francesca", "Myriam", "Delphine", "Valérie", "Isabelle", "Hélène",
)

FATHER_NAMES = (
    "Nicolas", "Julien", "Sébastien", "Christophe", "Mickaël", "Jérôme", "Guillaume", "Thomas",
    "Romain", "Cédric", "David", "Frédéric", "Olivier", "Stéphane", "Laurent", "Anthony", "Kevin",
    "Mathieu", "Pierre", "Jean", "François", "Yann", "Karim", "Mehdi", "Mustafa", "Piotr", "João",
    "Marco", "Alexandre", "Benoît", "Fabien", "Grégory", "Arnaud", "Damien", "Vincent",
)

# Streets of Gandrange and its hamlets (Boussange, Gandrange-Village), 57175.
GANDRANGE_STREETS = (
    "rue de Verdun", "rue de la Gare", "rue du Général de Gaulle", "rue des Tilleuls",
    "rue Jeanne d'Arc", "rue de Metz", "rue de Thionville", "rue des Écoles", "rue de la Forêt",
    "rue des Vergers", "rue Saint-Hubert", "allée des Acacias", "rue du Stade", "rue de Boussange",
    "rue de Richemont", "rue de l'Orne", "rue des Prés", "impasse des Lilas", "rue de la Fontaine",
    "rue des Jardins", "rue du Moulin", "rue de la Paix", "rue des Roses", "rue Pasteur",
    "rue Victor Hugo", "rue Jean Jaurès", "rue de la Libération", "rue des Mésanges",
    "rue des Alouettes", "allée des Peupliers", "rue du Bois", "rue des Sports", "rue des Mineurs",
    "rue de l'Église", "cité des Jardins", "rue Clemenceau", "rue de Mondelange",
)

# A few families live in the neighbouring communes and still use Gandrange's schools.
NEIGHBOUR_COMMUNES = (
    ("57120", "Rombas", ("rue de Metz", "rue Foch", "rue des Écoles", "rue Clemenceau")),
    ("57360", "Amnéville", ("rue de la Source", "rue des Thermes", "rue de la Paix")),
    ("57270", "Richemont", ("rue de Gandrange", "rue de la Gare", "rue des Prés")),
    ("57300", "Mondelange", ("rue de Metz", "rue des Acacias", "rue du Parc")),
)

EMAIL_DOMAINS = ("example.org", "example.net", "example.com")

# French bank codes with their BIC; account numbers and RIB keys are generated.
BANKS = (
    ("30003", "SOGEFRPP"), ("30004", "BNPAFRPP"), ("30002", "CRLYFRPP"), ("20041", "PSSTFRPP"),
    ("10278", "CMCIFR2A"), ("14707", "CCBPFRPP"), ("30087", "CMCIFRPP"),
)

ALLERGIES = ("Arachide", "Lait de vache", "Œuf", "Gluten", "Fruits à coque", "Kiwi", "Poisson",
             "Moutarde", "Soja")
HEALTH_NOTES = (
    "Asthme : Ventoline dans le cartable.",
    "Porte des lunettes.",
    "Eczéma : pas de savon parfumé.",
    "Diabète de type 1 : collation à 10 h, lecteur de glycémie dans le sac.",
    "Épilepsie : protocole d'urgence au dossier.",
    "Ne mange pas de porc.",
    "Repas sans viande.",
)
DOCTORS = ("Dr Weber, Gandrange", "Dr Lambert, Rombas", "Dr Rossi, Amnéville", "Dr Klein, Richemont",
           "Dr Muller, Hagondange", "Maison de santé de Rombas")
PICKUP_RELATIONS = ("Grand-mère", "Grand-père", "Tante", "Oncle", "Voisine", "Assistante maternelle",
                    "Parrain", "Marraine", "Frère aîné", "Sœur aînée")
REFUSAL_REASONS = ("Capacité atteinte ce jour-là.", "Demande en double.",
                   "Dossier périscolaire incomplet (fiche sanitaire manquante).")
