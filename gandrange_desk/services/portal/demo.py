"""A few demo families a newcomer can sign in with on the portal (never on a real base)."""

from __future__ import annotations

from sqlalchemy import select

from gandrange_desk.models import Family, PortalState
from gandrange_desk.services.context import Desk, stamp
from gandrange_desk.services.families.portal import temporary_password
from gandrange_desk.services.system.users import hash_password


def demo_logins(desk: Desk, count: int = 3) -> list[tuple[str, str, str]]:
    """(login, temporary password, family name) of `count` families with a portal account;
    the first sign-in asks for a new password, as after the credentials e-mail."""
    out = []
    with desk.unit_of_work() as s:
        families = s.execute(select(Family).where(Family.portal_login.is_not(None), Family.archived.is_(False))
                             .order_by(Family.id).limit(count)).scalars().all()
        for f in families:
            password = temporary_password()
            f.portal_password_hash = hash_password(password)
            f.portal_state = PortalState.SENT
            stamp(f, desk)
            desk.audit(s, "portal.demo_login", "family", f.id, family_id=f.id)
            out.append((f.portal_login, password, f.name))
    return out


def demo_logins_text(logins: list[tuple[str, str, str]]) -> str:
    if not logins:
        return ""
    lines = ["", "Portail Famille (gandrange-desk portal serve --http-local) : comptes de démonstration"]
    lines += [f"  {login} / {password}  (famille {name})" for login, password, name in logins]
    return "\n".join(lines)
