"""`gandrange-desk demo [--families N] [--seed S] [--year YYYY]`."""

from __future__ import annotations

from gandrange_desk.cli import emit, open_desk


def register(sub) -> None:
    demo = sub.add_parser("demo", help="remplit une base vide avec une année scolaire de démonstration")
    demo.add_argument("--families", type=int, default=250, metavar="N", help="nombre de familles (250)")
    demo.add_argument("--seed", type=int, default=1, metavar="S",
                      help="graine du hasard : même graine, mêmes données (1)")
    demo.add_argument("--year", type=int, default=None, metavar="AAAA",
                      help="année de la rentrée (par défaut l'année scolaire en cours)")
    demo.set_defaults(handler=demo_command)


def demo_command(args) -> int:
    import sys

    from gandrange_desk.demo import run_demo
    from gandrange_desk.services.progress import Progress

    def report(done: int, total: int, label: str) -> None:
        # On stderr, so --json output stays a single document.
        print(f"{label} : {done}/{total}", file=sys.stderr, flush=True)

    desk = open_desk(args, first_run_ok=True)
    summary = run_demo(desk, families=args.families, seed=args.seed, year=args.year,
                       progress=Progress(report=report))
    from gandrange_desk.services.portal.demo import demo_logins, demo_logins_text

    logins = demo_logins(desk)
    text = summary.text() if callable(summary.text) else summary.text
    emit(args, {**summary.as_dict(), "portal_logins": [{"login": l, "password": p, "family": n}
                                                       for l, p, n in logins]},
         lambda: text + demo_logins_text(logins))
    return 0
