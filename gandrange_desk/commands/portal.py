"""`portal serve`: the families' portal over http (uvicorn), on the desk's database."""

from __future__ import annotations

import os

from gandrange_desk.errors import DeskError


# How long uvicorn keeps an idle connection (its default is 5 s). Longer than the reverse proxy's
# own idle time (nginx's upstream keepalive_timeout: 60 s), so that the proxy, not the server,
# closes an idle connection: otherwise a request sent as the server closes it is lost in between
# (the client reads a closed connection), and more so when the server is short of CPU.
KEEP_ALIVE_S = 75


def register(sub) -> None:
    portal = sub.add_parser("portal", help="portail des familles (site web)")
    portal_sub = portal.add_subparsers(dest="portal_command", metavar="ACTION", required=True)
    serve = portal_sub.add_parser("serve", help="sert le portail des familles (derrière un proxy TLS en production)")
    serve.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (défaut : 8000)")
    serve.add_argument("--workers", type=int, default=1, help="processus (PostgreSQL seulement au-delà de 1)")
    serve.add_argument("--proxy-headers", action="store_true",
                       help="croire X-Forwarded-For/Proto du proxy (adresse des familles, https)")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                       help="adresses du proxy de confiance (défaut : 127.0.0.1)")
    serve.add_argument("--http-local", action="store_true",
                       help="cookies sans l'attribut Secure : http simple sur ce poste (démonstration)")
    serve.add_argument("--timeout-keep-alive", type=int, default=KEEP_ALIVE_S, metavar="SECONDES",
                       help=f"garder une connexion inactive ouverte (défaut : {KEEP_ALIVE_S} s, plus que "
                            "les 60 s du proxy nginx)")
    serve.add_argument("--public-url", default="", help="adresse publique du portail (liens des e-mails)")
    serve.set_defaults(handler=serve_command)


def serve_command(args) -> int:
    import uvicorn

    from gandrange_desk.db import make_engine, resolve_url

    url = resolve_url(args.db)
    if args.timeout_keep_alive < 1:
        raise DeskError("--timeout-keep-alive : au moins 1 seconde.")
    if args.workers < 1:
        raise DeskError("--workers : au moins 1.")
    if args.workers > 1 and make_engine(url).url.get_backend_name() == "sqlite":
        raise DeskError("Plusieurs processus demandent PostgreSQL : avec SQLite, gardez --workers 1.")
    # The workers build the app themselves (uvicorn --factory): they read these.
    os.environ["GANDRANGE_DESK_DB"] = url.render_as_string(hide_password=False)
    if args.http_local:
        os.environ["GANDRANGE_DESK_PORTAL_INSECURE"] = "1"
    if args.public_url:
        os.environ["GANDRANGE_DESK_PORTAL_URL"] = args.public_url
    from gandrange_desk.portal.asgi import secret_key

    os.environ.setdefault("GANDRANGE_DESK_PORTAL_SECRET", secret_key())
    print(f"Portail Famille : http://{args.host}:{args.port}/ (Ctrl+C pour arrêter)")
    uvicorn.run("gandrange_desk.portal.asgi:create", factory=True, host=args.host, port=args.port,
                workers=args.workers, proxy_headers=args.proxy_headers,
                forwarded_allow_ips=args.forwarded_allow_ips, timeout_keep_alive=args.timeout_keep_alive,
                server_header=False, log_level="info")
    return 0
