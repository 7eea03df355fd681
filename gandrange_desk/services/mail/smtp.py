"""Talking to the SMTP server: an open, secured, logged-in session, or a French reason why not.

The sender (`mail.sender`) claims, sends and records; this module only connects and explains a
failure of the network, TLS or login in words the clerk can act on.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gandrange_desk.services.mail.sender import SmtpConfig


class ConnectFailed(Exception):
    """The server could not be reached or refused the session (not one message's fault)."""

    def __init__(self, text: str, auth: bool = False):
        super().__init__(text)
        self.text = text
        self.auth = auth


def answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def connect(config: SmtpConfig, password: str | None, timeout: float | None = None) -> smtplib.SMTP:
    """An open, secured and logged-in session, or ConnectFailed with a French reason."""
    wait = timeout or config.timeout
    # Loading the system's CA store costs ~0.1 s: only when TLS is used.
    context = ssl.create_default_context(cafile=config.ca_file or None) if config.security != "none" else None
    local = socket.gethostname() or "localhost"
    smtp: smtplib.SMTP | None = None
    phase = "connect"
    try:
        if config.security == "ssl":
            smtp = smtplib.SMTP_SSL(config.host, config.port, local_hostname=local, timeout=wait,
                                    context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, local_hostname=local, timeout=wait)
            if config.security == "starttls":
                phase = "starttls"
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
        if config.user:
            phase = "login"
            smtp.login(config.user, password or "")
        return smtp
    except smtplib.SMTPAuthenticationError as exc:
        close(smtp)
        raise ConnectFailed("Identifiant ou mot de passe SMTP refusé par le serveur "
                             f"({answer(exc.smtp_code, exc.smtp_error)}).", auth=True) from exc
    except smtplib.SMTPNotSupportedError as exc:
        close(smtp)
        what = "STARTTLS" if phase == "starttls" else "l'authentification"
        raise ConnectFailed(f"Le serveur SMTP {config.label} ne propose pas {what} : "
                             "vérifiez la sécurité choisie.") from exc
    except ssl.SSLCertVerificationError as exc:
        close(smtp)
        raise ConnectFailed(f"Certificat du serveur SMTP {config.label} non reconnu "
                             f"({exc.verify_message or exc.reason}) : vérifiez l'adresse du serveur "
                             "ou le fichier d'autorité de certification.") from exc
    except smtplib.SMTPResponseException as exc:
        close(smtp)
        raise ConnectFailed(f"Le serveur SMTP {config.label} a refusé la connexion : "
                             f"{answer(exc.smtp_code, exc.smtp_error)}.") from exc
    except (OSError, smtplib.SMTPException) as exc:
        close(smtp)
        raise ConnectFailed(network_reason(config, exc)) from exc


def network_reason(config: SmtpConfig, exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return f"Serveur SMTP injoignable ({config.label}) : connexion refusée."
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return f"Le serveur SMTP ({config.label}) n'a pas répondu à temps."
    if isinstance(exc, socket.gaierror):
        return f"Serveur SMTP inconnu : « {config.host} » (adresse introuvable)."
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"Le serveur SMTP ({config.label}) a coupé la connexion."
    if isinstance(exc, ssl.SSLError):
        return f"Échec du chiffrement TLS avec {config.label} ({exc.reason or exc})."
    return f"Échec de connexion au serveur SMTP ({config.label}) : {exc}."


def close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except Exception:
        try:
            smtp.close()
        except Exception:
            pass
