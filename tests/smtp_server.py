"""A real SMTP server on loopback for the tests (aiosmtpd), with scripted misbehaviour.

`SmtpServer(...)` starts a server in a thread; its `handler` records every message it accepted
(`handler.received`) and follows a script: answers for given recipients (e.g. 550), a queue of
answers for the next DATA commands ("451 …", "421 …", or DROP to cut the connection after the
message was transmitted but before any answer).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.ports import closed_port  # noqa: F401 - the mail tests import it from here

DROP = "drop"


# Other test runs share this machine: a port that was free a moment ago may be taken by the
# time a server binds it, so the server binds port 0 itself (see tests/ports.py).
SMTP_TIMEOUT = 30  # seconds: only bounds a hang; no test here waits for a timeout to fire


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: tuple

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)

    @property
    def message_id(self) -> str:
        return self.message["Message-ID"]


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    rcpt_answers: dict[str, str] = field(default_factory=dict)  # address (lower) -> answer
    data_script: list[str] = field(default_factory=list)  # answers for the next DATA commands
    data_delay: float = 0.0
    # When set, DATA waits until this many distinct clients connected (or `barrier_timeout`).
    barrier_clients: int = 0
    barrier_timeout: float = 10.0
    peers: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.peers.add(session.peer)
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.rcpt_answers.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.barrier_clients:
            waited = 0.0
            while len(self.peers) < self.barrier_clients and waited < self.barrier_timeout:
                await asyncio.sleep(0.02)
                waited += 0.02
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        with self.lock:
            action = self.data_script.pop(0) if self.data_script else None
        if action == DROP:
            # The whole message reached the server, which vanishes before answering.
            server.transport.abort()
            return "250 never seen by the client"
        if action:
            return action
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content or envelope.content, session.peer))
        return "250 2.0.0 Message accepted for delivery"


class _PortZeroController(Controller):
    """Lets the kernel pick a free port when the server binds, then learns which one (before
    `start()` connects to it to check the server answers)."""

    def _create_server(self):
        async def create():
            server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=0,
                                                   ssl=self.ssl_context)
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class SmtpServer:
    """`with SmtpServer() as server:` … `server.port`, `server.handler.received`."""

    def __init__(self, *, auth: tuple[str, str] | None = None, starttls: ssl.SSLContext | None = None,
                 implicit_tls: ssl.SSLContext | None = None, handler: Handler | None = None,
                 smtputf8: bool = True):
        self.handler = handler or Handler()
        kwargs: dict = {"enable_SMTPUTF8": smtputf8}
        if auth:
            user, password = auth

            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                      and auth_data.password.decode() == password)
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=starttls is not None)
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=True)
        if implicit_tls is not None:
            kwargs.update(ssl_context=implicit_tls)
        self.controller = _PortZeroController(self.handler, hostname="127.0.0.1", port=0,
                                              ready_timeout=30, **kwargs)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def make_self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (cert.pem, key.pem), made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gandrange Desk tests")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=True, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    return context
