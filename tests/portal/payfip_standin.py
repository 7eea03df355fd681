"""A local stand-in for PayFiP: its SOAP service (creerPaiementSecurise,
recupererDetailPaiementSecurise) on a loopback port, in a thread. No money, no network.

`settle(idop, "P")` is the family paying on the provider's page (R refused, A abandoned);
`tamper` changes what the next detail answers say, to play a forged or wrong answer.
"""

from __future__ import annotations

import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree
from xml.sax.saxutils import escape


class PayFiPStandIn:
    def __init__(self):
        self.operations: dict[str, dict[str, str]] = {}
        self.tamper: dict[str, str] = {}
        self.calls: list[str] = []
        self._ids = itertools.count(1)
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status, xml = standin._answer(body)
                data = xml.encode()
                self.send_response(status)
                self.send_header("content-type", "text/xml; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.endpoint = self.url + "/tpa/services/securite"
        self.pay_url = self.url + "/tpa/paiementws.web"
        self.thread = threading.Thread(target=self.server.serve_forever, name="payfip-standin", daemon=True)

    def __enter__(self) -> "PayFiPStandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)

    def settle(self, idop: str, result: str, numauto: str = "123456") -> None:
        self.operations[idop].update(resultrans=result, numauto=numauto, dattrans="02122026", heurtrans="1034")

    def _answer(self, body: bytes) -> tuple[int, str]:
        root = ElementTree.fromstring(body)
        fields = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
        if "creerPaiementSecurise" in fields:
            self.calls.append("creer")
            idop = f"op-{next(self._ids):04d}"
            self.operations[idop] = {k: fields.get(k, "") for k in (
                "exer", "mel", "montant", "numcli", "objet", "refdet", "saisie", "urlnotif", "urlredirect")}
            return 200, _envelope("creerPaiementSecuriseResponse", {"idOp": idop})
        if "recupererDetailPaiementSecurise" in fields:
            self.calls.append("detail")
            op = self.operations.get(fields.get("idOp", ""))
            if op is None:
                return 500, _fault("idOp inconnu")
            answer = {"idOp": fields["idOp"], "resultrans": "", "numauto": "", "dattrans": "", "heurtrans": "",
                      **op, **self.tamper}
            return 200, _envelope("recupererDetailPaiementSecuriseResponse", answer)
        return 500, _fault("opération inconnue")


def _envelope(name: str, values: dict[str, str]) -> str:
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in values.items())
    return ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            f'<ns2:{name} xmlns:ns2="urn:standin"><return>{inner}</return></ns2:{name}></soap:Body></soap:Envelope>')


def _fault(text: str) -> str:
    return ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>'
            f'<faultcode>soap:Server</faultcode><faultstring>{escape(text)}</faultstring></soap:Fault>'
            '</soap:Body></soap:Envelope>')
