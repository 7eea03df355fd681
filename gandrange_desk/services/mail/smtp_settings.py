"""The SMTP settings as the dialog edits them: load, validate, save (audited, version-checked).

The password is never here: see `gandrange_desk.services.system.secrets`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from email.utils import parseaddr

from sqlalchemy import select

from gandrange_desk.models import AppSetting, SmtpSettings
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.sender import CA_FILE_KEY, DEFAULT_TIMEOUT, SECURITY_CHOICES, SmtpConfig

@dataclass(frozen=True)
class SmtpForm:
    host: str
    port: int
    security: str
    user: str = ""
    sender: str = ""
    reply_to: str = ""
    ca_file: str = ""
    version: int | None = None  # the version the form was loaded from (stale edits are refused)
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)  # set by save_form


def load_form(desk: Desk) -> SmtpForm:
    with desk.read() as s:
        row = s.execute(select(SmtpSettings).order_by(SmtpSettings.id).limit(1)).scalar_one_or_none()
        ca = s.get(AppSetting, CA_FILE_KEY)
        if row is None:
            return SmtpForm(host="", port=587, security="starttls", ca_file=ca.value if ca else "")
        return SmtpForm(host=row.host, port=row.port, security=row.security, user=row.user, sender=row.sender,
                        reply_to=row.reply_to, ca_file=ca.value if ca else "", version=row.version)


def validate_form(form: SmtpForm) -> list[str]:
    problems = []
    if form.host and not form.sender:
        problems.append("Expéditeur : obligatoire dès qu'un serveur est indiqué.")
    if not 1 <= int(form.port) <= 65535:
        problems.append(f"Port : {form.port} n'est pas un port valable (1 à 65535).")
    if form.security not in SECURITY_CHOICES:
        problems.append(f"Sécurité : « {form.security} » inconnue (starttls, ssl ou none).")
    for label, value in (("Expéditeur", form.sender), ("Répondre à", form.reply_to)):
        if value and "@" not in parseaddr(value)[1]:
            problems.append(f"{label} : « {value} » n'est pas une adresse électronique.")
    if form.ca_file and not os.path.isfile(form.ca_file):
        problems.append(f"Fichier d'autorité de certification introuvable : {form.ca_file}.")
    return problems


def save_form(desk: Desk, form: SmtpForm) -> SmtpForm:
    """Save the SMTP settings in one transaction; audited; a stale form is refused."""
    from gandrange_desk.errors import ValidationFailed
    from gandrange_desk.models import Role
    from gandrange_desk.services.context import check_version, stamp

    desk.require(Role.RESPONSABLE, "Modifier les paramètres SMTP")
    problems = validate_form(form)
    if problems:
        raise ValidationFailed(problems, "Paramètres SMTP non enregistrés :")
    with desk.unit_of_work() as s:
        row = s.execute(select(SmtpSettings).order_by(SmtpSettings.id).limit(1)).scalar_one_or_none()
        if row is None:
            row = SmtpSettings()
            s.add(row)
            before = None
        else:
            check_version(row, form.version, "la configuration SMTP")
            before = {k: getattr(row, k) for k in ("host", "port", "security", "user", "sender", "reply_to")}
        for key in ("host", "port", "security", "user", "sender", "reply_to"):
            value = getattr(form, key)
            setattr(row, key, value.strip() if isinstance(value, str) else int(value))
        stamp(row, desk)
        ca = s.get(AppSetting, CA_FILE_KEY)
        if form.ca_file:
            if ca is None:
                s.add(AppSetting(key=CA_FILE_KEY, value=form.ca_file))
            else:
                ca.value = form.ca_file
        elif ca is not None:
            s.delete(ca)
        s.flush()
        after = {k: getattr(row, k) for k in ("host", "port", "security", "user", "sender", "reply_to")}
        after["ca_file"] = form.ca_file
        desk.audit(s, "smtp_settings", "smtp_settings", row.id, before=before, after=after)
    return replace(load_form(desk), changes=Changes(settings=True))


def config_from_form(form: SmtpForm, timeout: float = DEFAULT_TIMEOUT) -> SmtpConfig:
    return SmtpConfig(host=form.host.strip(), port=int(form.port), security=form.security,
                      user=form.user.strip(), sender=form.sender, reply_to=form.reply_to,
                      ca_file=form.ca_file, timeout=timeout)
