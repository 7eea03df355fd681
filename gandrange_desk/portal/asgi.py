"""The portal as uvicorn builds it in each worker (`--factory`), configured by the environment.

GANDRANGE_DESK_DB: the database (as for the desk); GANDRANGE_DESK_PORTAL_SECRET: the key that
signs sessions and reset links, the same for every worker (else one kept in a file of the user's
data folder, created on first use); GANDRANGE_DESK_PORTAL_INSECURE=1: cookies without Secure,
only for plain http on one machine; GANDRANGE_DESK_PORTAL_URL: the public address in e-mails.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ENV_SECRET = "GANDRANGE_DESK_PORTAL_SECRET"
ENV_INSECURE = "GANDRANGE_DESK_PORTAL_INSECURE"
ENV_URL = "GANDRANGE_DESK_PORTAL_URL"
# Database connections each worker keeps open. SQLAlchemy's default (5 kept, 10 more opened and
# closed again as needed) made a burst of families open a new connection for one page in ten
# (SQLite: open, pragmas, WAL; PostgreSQL: a new backend process). The same 15 at most as before,
# all kept: a page waits for one (as beyond 15 before) rather than open one. PostgreSQL's
# max_connections must allow 15 per worker (the README's production section).
POOL_SIZE = 15


def secret_key() -> str:
    value = os.environ.get(ENV_SECRET, "").strip()
    if value:
        return value
    from platformdirs import user_data_dir

    path = Path(user_data_dir("gandrange-desk", "Commune de Gandrange")) / "portal-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def payment_provider():
    """PayFiP when the collectivity's client number is set (GANDRANGE_DESK_PAYFIP_NUMCLI; mode
    GANDRANGE_DESK_PAYFIP_SAISIE T test, X activation, W production; default T); else no « Payer »."""
    numcli = os.environ.get("GANDRANGE_DESK_PAYFIP_NUMCLI", "").strip()
    if not numcli:
        return None
    from gandrange_desk.services.portal.payfip import ENDPOINT, PAY_URL, PayFiP

    return PayFiP(numcli, os.environ.get("GANDRANGE_DESK_PAYFIP_SAISIE", "T").strip() or "T",
                  endpoint=os.environ.get("GANDRANGE_DESK_PAYFIP_ENDPOINT", ENDPOINT),
                  pay_url=os.environ.get("GANDRANGE_DESK_PAYFIP_PAY_URL", PAY_URL))


def create():
    from gandrange_desk.db import make_engine, resolve_url
    from gandrange_desk.errors import DeskError
    from gandrange_desk.services.context import Desk
    from gandrange_desk.services.system import schema

    from .app import PortalConfig, create_app

    engine = make_engine(resolve_url(None), pool_size=POOL_SIZE, max_overflow=0)
    if schema.needs_upgrade(engine):
        raise DeskError("La base de données n'est pas à jour : lancez « gandrange-desk db upgrade ».")
    config = PortalConfig(secret=secret_key(), secure_cookies=os.environ.get(ENV_INSECURE) != "1",
                          public_url=os.environ.get(ENV_URL, ""), payments=payment_provider())
    return create_app(Desk(engine), config)
