"""Checking the addresses of an outbox message before it is built: one bad address (a CR/LF
smuggled in from a feed, "pas-un-courriel") sets that message aside, never the whole outbox."""

from __future__ import annotations

import re
from email.utils import parseaddr


def visible(text: str) -> str:
    """A stored value as a clerk can read it: control characters written out (\\r, \\n…)."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text or "")


def address_problem(address: str) -> str:
    """Why one address cannot be used (French), or "" when it can."""
    shown = visible(address)
    if any(not ch.isprintable() for ch in address):
        return f"Adresse invalide : « {shown} » (caractère de contrôle ou retour à la ligne)."
    if not _ADDRESS.fullmatch(address.strip()):
        return f"Adresse invalide : « {shown} »."
    return ""


# local@domain.tld: accented letters allowed (SMTPUTF8), no spaces, brackets or second "@".
_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\\\".]+(?:\.[^\s@<>()\[\],;:\\\".]+)*"
                      r"@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}")


def recipients_problem(recipients: str) -> str:
    """Why a message's recipients cannot be used (French), or "" when they all can."""
    if any(not ch.isprintable() for ch in recipients or ""):
        return f"Adresse invalide : « {visible(recipients)} » (caractère de contrôle ou retour à la ligne)."
    addresses = [a.strip() for a in re.split(r"[,;]", recipients or "") if a.strip()]
    if not addresses:
        return "Aucune adresse de destinataire."
    for address in addresses:
        # "Name <addr>" is allowed; a bare value is checked whole ("encore faux" is not "encore").
        addr = parseaddr(address)[1] if "<" in address else address
        problem = address_problem(addr or address)
        if problem:
            return problem
    return ""
