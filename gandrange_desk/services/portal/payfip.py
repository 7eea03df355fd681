"""Online card payment providers; PayFiP, the public treasury's (DGFiP), from its published protocol.

PayFiP's web-service flavour ("PayFiP Régie / titres" through `paiementws.web`):

1. `creerPaiementSecurise` (SOAP) with the collectivity's client number `numcli`, the year
   `exer`, the debt reference `refdet` (6 to 30 letters or digits, unique), `objet`, the amount
   `montant` in cents, the payer's e-mail `mel`, `saisie` (T test, X activation, W production),
   `urlnotif` (the provider's server-to-server call) and `urlredirect` (the family's browser
   back). It answers an operation id `idOp`.
2. The family pays on `https://www.payfip.gouv.fr/tpa/paiementws.web?idop=<idOp>`.
3. The provider posts `idop` to `urlnotif`; nothing in that call is trusted: the portal asks
   `recupererDetailPaiementSecurise(idOp)` for the result (`resultrans` P or V paid, R refused,
   A abandoned; `numauto`, `dattrans` DDMMYYYY, `heurtrans` HHMM, `montant`, `refdet`, `numcli`).

No money, no network in the tests: they point `endpoint` and `pay_url` at a local stand-in.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from gandrange_desk.errors import DeskError

UNAVAILABLE = ("Le paiement en ligne est momentanément indisponible. Réessayez plus tard ou payez "
               "par un autre moyen indiqué sur la facture.")
ENDPOINT = "https://www.payfip.gouv.fr/tpa/services/securite"
PAY_URL = "https://www.payfip.gouv.fr/tpa/paiementws.web"
NAMESPACE = ("http://securite.service.tpa.cp.finances.gouv.fr/services/mas_securite/"
             "contrat_paiement_securise/PaiementSecuriseService")
MODES = {"T": "test", "X": "activation", "W": "production"}
PAID = ("P", "V")


@dataclass(frozen=True)
class Order:
    refdet: str
    amount_cents: int
    email: str
    objet: str
    year: int
    notify_url: str
    return_url: str


@dataclass(frozen=True)
class Started:
    idop: str
    redirect_url: str


@dataclass(frozen=True)
class Outcome:
    idop: str
    refdet: str
    amount_cents: int
    result: str  # resultrans
    numauto: str
    numcli: str
    day: str  # dattrans, DDMMYYYY
    mode: str  # saisie

    @property
    def paid(self) -> bool:
        return self.result in PAID


class PaymentProvider(Protocol):
    name: str
    numcli: str

    def start(self, order: Order) -> Started: ...

    def outcome(self, idop: str) -> Outcome: ...


def clean_objet(text: str) -> str:
    """PayFiP takes plain letters, digits and spaces in `objet` (no accents), 100 at most."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^A-Za-z0-9 ]", " ", plain).split())[:100]


class PayFiP:
    name = "PayFiP"

    def __init__(self, numcli: str, saisie: str = "T", endpoint: str = ENDPOINT, pay_url: str = PAY_URL,
                 timeout: float = 20):
        if not re.fullmatch(r"\d{6}", numcli or ""):
            raise DeskError(f"Numéro client PayFiP invalide « {numcli} » : six chiffres attendus.")
        if saisie not in MODES:
            raise DeskError(f"Mode PayFiP invalide « {saisie} » : T (test), X (activation) ou W (production).")
        self.numcli, self.saisie, self.endpoint, self.pay_url, self.timeout = numcli, saisie, endpoint, pay_url, timeout

    def _call(self, operation: str, fields: dict[str, str]) -> dict[str, str]:
        arg = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
        body = (f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                f'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pai="{NAMESPACE}">'
                f"<soapenv:Header/><soapenv:Body><pai:{operation}><arg0>{arg}</arg0></pai:{operation}>"
                f"</soapenv:Body></soapenv:Envelope>").encode()
        request = urllib.request.Request(self.endpoint, data=body, method="POST", headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": ""})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                xml = answer.read()
        except urllib.error.HTTPError as exc:  # a SOAP fault comes back as 500
            xml = exc.read()
        except (OSError, ValueError) as exc:
            raise DeskError(UNAVAILABLE) from exc
        try:
            root = ElementTree.fromstring(xml)
        except ElementTree.ParseError as exc:
            raise DeskError(UNAVAILABLE) from exc
        values = {el.tag.rsplit("}", 1)[-1]: (el.text or "").strip() for el in root.iter()}
        if "Fault" in values or "faultcode" in values:
            raise DeskError(UNAVAILABLE)
        return values

    def start(self, order: Order) -> Started:
        values = self._call("creerPaiementSecurise", {
            "exer": order.year, "mel": order.email, "montant": order.amount_cents, "numcli": self.numcli,
            "objet": clean_objet(order.objet), "refdet": order.refdet, "saisie": self.saisie,
            "urlnotif": order.notify_url, "urlredirect": order.return_url})
        idop = values.get("idOp", "")
        if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", idop):
            raise DeskError(UNAVAILABLE)
        return Started(idop, f"{self.pay_url}?idop={idop}")

    def outcome(self, idop: str) -> Outcome:
        v = self._call("recupererDetailPaiementSecurise", {"idOp": idop})
        try:
            amount = int(v.get("montant", ""))
        except ValueError:
            raise DeskError(UNAVAILABLE) from None
        return Outcome(v.get("idOp", idop), v.get("refdet", ""), amount, v.get("resultrans", ""),
                       v.get("numauto", ""), v.get("numcli", ""), v.get("dattrans", ""), v.get("saisie", ""))


__all__ = ["Order", "Outcome", "PayFiP", "PaymentProvider", "Started", "UNAVAILABLE", "clean_objet"]
