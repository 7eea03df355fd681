"""The exportable lists' French titles, without the lists' code: a window shows an "Exporter…"
button (its tooltip names the list) long before anything is exported, and must not import the
queries, the queue and the PDF layer for it."""

TITLES: dict[str, str] = {
    "families": "Familles",
    "grid": "Grille de réservations du mois",
    "queue": "Demandes en attente",
    "invoices": "Factures",
    "payments": "Règlements",
    "unpaid": "Impayés",
    "attendance": "Pointage du mois",
    "day": "Listes du jour et repas",
    "caf": "Rapport CAF",
}
