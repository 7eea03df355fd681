"""The families' portal (DESIGN §11): a third front-end beside the window and the command line.

Server-rendered pages in the seed guide's words; every action is one service call (run in a
worker thread: the services are synchronous); no business rule lives here. Pages after sign-in
take the family from the session, never from the address: another family's ids give 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, NotFound, ValidationFailed
from gandrange_desk.services.context import Desk
from gandrange_desk.services.portal import (
    accounts, attestations, bookings, completion, email_change, household, online_payment, registration,
)

from . import account_pages, documents
from .responses import attachment as _attachment
from .security import SecurityHeaders, check_csrf, client_address, csrf_token, start_session

HERE = Path(__file__).parent
SESSION_COOKIE = "gd_portail"
SESSION_HOURS = 8


@dataclass(frozen=True)
class PortalConfig:
    secret: str
    secure_cookies: bool = True  # False only for plain http on one machine (demo, tests)
    public_url: str = ""  # "https://portail.example.fr" for links in e-mails; else the request's
    payments: object | None = None  # a services.portal.payfip.PaymentProvider: "Payer" shown when set


class Pages:
    def __init__(self, desk: Desk, config: PortalConfig):
        self.desk, self.config = desk, config
        # auto_reload off: a template is compiled once per process and never checked against its
        # file again (the templates ship with the package; restart the server after changing one).
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.env.filters["ddmmyyyy"] = lambda d: formats.ddmmyyyy(d) if d else ""
        self.env.filters["euros"] = lambda c: formats.amount(c) + " €"

    # --- helpers --------------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        context.update(request=request, csrf=csrf_token(request), flash=request.session.pop("flash", None),
                       account=getattr(request.state, "account", None))
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    async def account(self, request: Request) -> accounts.PortalAccount | None:
        fid = request.session.get("fid")
        if not isinstance(fid, int):
            return None
        account = await run_in_threadpool(accounts.current_account, self.desk, fid, request.session.get("fp", ""))
        if account is None:
            request.session.clear()
        request.state.account = account
        return account

    async def signed_in(self, request: Request, *, allow_temporary: bool = False):
        """(account, family desk) or a redirect to Connexion / to the forced password change."""
        account = await self.account(request)
        if account is None:
            return None, RedirectResponse("/connexion", 303)
        if account.must_change_password and not allow_temporary:
            return None, RedirectResponse("/mot-de-passe", 303)
        return (account, accounts.family_desk(self.desk, account)), None

    async def signed_page(self, request: Request, work, *, allow_temporary: bool = False):
        """((account, family desk, data), None), or (None, a redirect to Connexion / to the forced
        password change). One trip to the thread pool and one read transaction for the whole
        page: the session's account checked, then `work(account, fdesk)` (the page's service
        reads) gives `data`. Its exceptions (NotFound, HTTPException) come out as raised."""
        fid = request.session.get("fid")
        if not isinstance(fid, int):
            return None, RedirectResponse("/connexion", 303)
        fingerprint = request.session.get("fp", "")

        def run():
            with self.desk.one_read():
                account = accounts.current_account(self.desk, fid, fingerprint)
                if account is None or (account.must_change_password and not allow_temporary):
                    return account, None, None
                fdesk = accounts.family_desk(self.desk, account)
                return account, fdesk, work(account, fdesk)

        account, fdesk, data = await run_in_threadpool(run)
        request.state.account = account
        if account is None:
            request.session.clear()
            return None, RedirectResponse("/connexion", 303)
        if fdesk is None:
            return None, RedirectResponse("/mot-de-passe", 303)
        return (account, fdesk, data), None

    async def form(self, request: Request):
        form = await request.form()
        check_csrf(request, form)
        return form

    @staticmethod
    def problems(exc: DeskError) -> list[str]:
        return exc.problems if isinstance(exc, ValidationFailed) else [exc.message]

    # --- connexion --------------------------------------------------------------------------

    async def home(self, request: Request):
        account = await self.account(request)
        return RedirectResponse("/accueil" if account else "/connexion", 303)

    async def login(self, request: Request):
        if request.method == "GET":
            return self.render(request, "connexion.html", problems=[], login="")
        form = await self.form(request)
        login, password = str(form.get("identifiant", "")), str(form.get("mot_de_passe", ""))
        try:
            account = await run_in_threadpool(accounts.sign_in, self.desk, login, password,
                                              client_address(request))
        except DeskError as exc:
            return self.render(request, "connexion.html", status=400, problems=self.problems(exc), login=login)
        start_session(request, account.family_id, account.fingerprint)
        return RedirectResponse("/mot-de-passe" if account.must_change_password else "/accueil", 303)

    async def logout(self, request: Request):
        await self.form(request)
        request.session.clear()
        request.session["flash"] = "Vous êtes déconnecté."
        return RedirectResponse("/connexion", 303)

    async def password(self, request: Request):
        (signed, redirect) = await self.signed_in(request, allow_temporary=True)
        if redirect:
            return redirect
        account, fdesk = signed
        if request.method == "GET":
            return self.render(request, "mot_de_passe.html", problems=[])
        form = await self.form(request)
        try:
            new = await run_in_threadpool(accounts.change_password, self.desk, account,
                                          str(form.get("actuel", "")), str(form.get("nouveau", "")),
                                          str(form.get("confirmation", "")))
        except DeskError as exc:
            return self.render(request, "mot_de_passe.html", status=400, problems=self.problems(exc))
        start_session(request, new.family_id, new.fingerprint)
        request.session["flash"] = "Votre mot de passe est enregistré."
        return RedirectResponse("/accueil", 303)

    async def forgotten(self, request: Request):
        if request.method == "GET":
            return self.render(request, "oubli.html", sent=False)
        form = await self.form(request)
        base = (self.config.public_url or str(request.base_url)).rstrip("/") + "/nouveau-mot-de-passe/"
        await run_in_threadpool(accounts.request_reset, self.desk, self.config.secret,
                                str(form.get("identifiant", "")), base, client_address(request))
        return self.render(request, "oubli.html", sent=True)

    async def register(self, request: Request):
        """S'inscrire: the first details, a registration request for the desk's queue."""
        names = await run_in_threadpool(registration.schools, self.desk)
        if request.method == "GET":
            return self.render(request, "inscription.html", form=registration.RegistrationForm(),
                               schools=names, problems=[], sent=False, slots=registration.MAX_CHILDREN)
        data = await self.form(request)
        text = lambda key: str(data.get(key, ""))  # noqa: E731
        form = registration.RegistrationForm(
            name=text("nom"), first_name=text("prenom"), last_name=text("nom_responsable"), email=text("email"),
            phone=text("telephone"), street=text("adresse"), postcode=text("code_postal"), city=text("ville"),
            children=[registration.ChildForm(text(f"enfant{n}_prenom"), text(f"enfant{n}_nom"),
                                             text(f"enfant{n}_naissance"), text(f"enfant{n}_ecole"),
                                             text(f"enfant{n}_classe"))
                      for n in range(1, registration.MAX_CHILDREN + 1)])
        try:
            await run_in_threadpool(registration.register, self.desk, form, client_address(request))
        except DeskError as exc:
            return self.render(request, "inscription.html", status=400, form=form, schools=names,
                               problems=self.problems(exc), sent=False, slots=registration.MAX_CHILDREN)
        return self.render(request, "inscription.html", form=None, schools=names, problems=[], sent=True,
                           sent_text=registration.SENT, slots=0)

    async def reset(self, request: Request):
        token = request.path_params["token"]
        if request.method == "GET":
            try:
                await run_in_threadpool(accounts.check_reset, self.desk, self.config.secret, token)
            except DeskError as exc:
                return self.render(request, "nouveau_mot_de_passe.html", status=400, invalid=exc.message,
                                   problems=[], token=token)
            return self.render(request, "nouveau_mot_de_passe.html", invalid=None, problems=[], token=token)
        form = await self.form(request)
        try:
            await run_in_threadpool(accounts.reset_password, self.desk, self.config.secret, token,
                                    str(form.get("nouveau", "")), str(form.get("confirmation", "")))
        except ValidationFailed as exc:
            return self.render(request, "nouveau_mot_de_passe.html", status=400, invalid=None,
                               problems=exc.problems, token=token)
        except DeskError as exc:
            return self.render(request, "nouveau_mot_de_passe.html", status=400, invalid=exc.message,
                               problems=[], token=token)
        request.session.clear()
        request.session["flash"] = "Votre nouveau mot de passe est enregistré : connectez-vous."
        return RedirectResponse("/connexion", 303)

    # --- pages of the signed-in family ------------------------------------------------------

    async def welcome(self, request: Request):
        signed, redirect = await self.signed_page(request, lambda account, fdesk: completion.needed(
            fdesk, account.family_id))
        if redirect:
            return redirect
        _account, _fdesk, due = signed
        if account_pages.completion_lead(request, due):
            return RedirectResponse("/completer", 303)
        return self.render(request, "accueil.html", complete=due)

    async def reservations(self, request: Request):
        if request.method == "GET":
            return await self.reservations_grid(request)
        signed, redirect = await self.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        params = request.query_params if request.method == "GET" else await self.form(request)
        kids = await run_in_threadpool(bookings.children, fdesk, account.family_id)
        acts = await run_in_threadpool(bookings.activities, fdesk)
        if not kids or not acts:
            return self.render(request, "reservations.html", grid=None, kids=kids, acts=acts, problems=[],
                               message=None, legend=bookings.LEGEND)
        child_id, activity_id, month = _grid_choice(params, kids, acts, fdesk)
        if request.method == "POST":
            # Post/Redirect/Get: the answer is a 303 to the grid, so a reload asks nothing again.
            try:
                unit_text, _, day_text = str(params.get("case", "")).partition(":")
                unit_id, day = int(unit_text), date.fromisoformat(day_text)
            except ValueError:
                raise HTTPException(400, "Case invalide.") from None
            try:
                result = await run_in_threadpool(bookings.click_cell, fdesk, account.family_id, child_id,
                                                 unit_id, day)
                request.session["flash"] = result.summary()
            except NotFound:
                raise HTTPException(404, "Page introuvable.") from None
            except DeskError as exc:
                request.session["problems"] = self.problems(exc)
            return RedirectResponse(f"/reservations?enfant={child_id}&activite={activity_id}"
                                    f"&mois={month.strftime('%Y-%m')}", 303)
        problems, message = request.session.pop("problems", None) or [], None
        try:
            grid = await run_in_threadpool(bookings.month_grid, fdesk, account.family_id, child_id, activity_id, month)
        except NotFound:
            raise HTTPException(404, "Page introuvable.") from None
        return self.render(request, "reservations.html", grid=grid, kids=kids, acts=acts, problems=problems,
                           message=message, legend=bookings.LEGEND)

    async def reservations_grid(self, request: Request):
        """Mes réservations: the children, the activities and the month's grid in one read."""
        params = request.query_params

        def work(account, fdesk):
            kids = bookings.children(fdesk, account.family_id)
            acts = bookings.activities(fdesk)
            if not kids or not acts:
                return kids, acts, None
            child_id, activity_id, month = _grid_choice(params, kids, acts, fdesk)
            try:
                return kids, acts, bookings.month_grid(fdesk, account.family_id, child_id, activity_id, month)
            except NotFound:
                raise HTTPException(404, "Page introuvable.") from None

        signed, redirect = await self.signed_page(request, work)
        if redirect:
            return redirect
        kids, acts, grid = signed[2]
        if grid is None:
            return self.render(request, "reservations.html", grid=None, kids=kids, acts=acts, problems=[],
                               message=None, legend=bookings.LEGEND)
        problems = request.session.pop("problems", None) or []
        return self.render(request, "reservations.html", grid=grid, kids=kids, acts=acts, problems=problems,
                           message=None, legend=bookings.LEGEND)

    def _period_form(self, params) -> bookings.PeriodForm:
        try:
            return bookings.PeriodForm(
                child_ids=[int(v) for v in params.getlist("enfant")],
                unit_id=int(params.get("structure") or 0),
                first=_day(params.get("debut")), last=_day(params.get("fin")),
                week_type=str(params.get("semaines") or "all"),
                weekdays=[int(v) for v in params.getlist("jour") if str(v).isdigit() and int(v) < 7])
        except ValueError:
            raise HTTPException(400, "Formulaire invalide.") from None

    async def period(self, request: Request):
        signed, redirect = await self.signed_page(request, lambda account, fdesk: (
            bookings.children(fdesk, account.family_id), bookings.units(fdesk)))
        if redirect:
            return redirect
        account, fdesk, (kids, units) = signed
        problems, message, total, form = [], None, None, None
        if request.method == "POST":
            params = await self.form(request)
            form = self._period_form(params)
            action = bookings.book_period if params.get("action") == "reserver" else bookings.period_total
            try:
                done = await run_in_threadpool(action, fdesk, account.family_id, form)
                if isinstance(done, int):
                    total = done
                else:
                    message = done.summary()
            except NotFound:
                raise HTTPException(404, "Page introuvable.") from None
            except DeskError as exc:
                problems = self.problems(exc)
        return self.render(request, "periode.html", kids=kids, units=units, form=form, total=total,
                           problems=problems, message=message, week_types=bookings.WEEK_TYPES,
                           weekdays=bookings.WEEKDAYS, status=400 if problems else 200)

    async def period_total(self, request: Request):
        """The live "Total : N" of the period form (its little script); computed by the service."""
        signed, redirect = await self.signed_in(request)
        if redirect:
            return JSONResponse({"error": "Connexion requise."}, 401)
        account, fdesk = signed
        try:
            total = await run_in_threadpool(bookings.period_total, fdesk, account.family_id,
                                            self._period_form(request.query_params))
        except NotFound:
            return JSONResponse({"error": "Page introuvable."}, 404)
        except DeskError as exc:
            return JSONResponse({"error": " ".join(self.problems(exc))}, 400)
        return JSONResponse({"total": total, "text": f"Total : {total}"})

    async def bills(self, request: Request):
        signed, redirect = await self.signed_page(request, lambda account, fdesk: (
            household.history(fdesk, account.family_id), household.on_prelevement(fdesk, account.family_id),
            attestations.fiscal_years(fdesk, account.family_id)))
        if redirect:
            return redirect
        rows, prelevement, years = signed[2]
        return self.render(request, "factures.html", rows=rows, prelevement=prelevement, years=years,
                           prelevement_sentence=household.PRELEVEMENT_SENTENCE,
                           payer=self.config.payments is not None and not prelevement)

    def _base(self, request: Request) -> str:
        return (self.config.public_url or str(request.base_url)).rstrip("/")

    async def pay(self, request: Request):
        """« Payer »: off to the provider's page for what is still due on the invoice."""
        signed, redirect = await self.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        await self.form(request)
        if self.config.payments is None:
            raise HTTPException(404, "Page introuvable.")
        base = self._base(request)
        try:
            started = await run_in_threadpool(online_payment.start, fdesk, account.family_id,
                                              request.path_params["id"], self.config.payments,
                                              base + "/paiement/notification", base + "/paiement/retour")
        except NotFound:
            raise HTTPException(404, "Facture introuvable.") from None
        except DeskError as exc:
            request.session["flash"] = exc.message
            return RedirectResponse("/factures", 303)
        return RedirectResponse(started.redirect_url, 303)

    async def pay_notification(self, request: Request):
        """The provider's server-to-server call: only an operation id, checked back with it."""
        if self.config.payments is None:
            raise HTTPException(404, "Page introuvable.")
        form = await request.form()
        idop = str(form.get("idop") or request.query_params.get("idop") or "")
        try:
            await run_in_threadpool(online_payment.notified, self.desk, self.config.payments, idop)
        except NotFound:
            return PlainTextResponse("inconnu", 404)
        except DeskError as exc:
            return PlainTextResponse(exc.message, 400)
        return PlainTextResponse("OK")

    async def pay_return(self, request: Request):
        """The family's browser back from the provider: the same check, then Historique."""
        signed, redirect = await self.signed_in(request)
        if redirect:
            return redirect
        account, _fdesk = signed
        if self.config.payments is None:
            raise HTTPException(404, "Page introuvable.")
        try:
            decision = await run_in_threadpool(online_payment.notified, self.desk, self.config.payments,
                                               str(request.query_params.get("idop", "")), account.family_id)
        except NotFound:
            raise HTTPException(404, "Paiement inconnu.") from None
        except DeskError as exc:
            request.session["flash"] = exc.message
        else:
            request.session["flash"] = decision.sentence()
        return RedirectResponse("/factures", 303)

    async def bill_pdf(self, request: Request):
        signed, redirect = await self.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        try:
            name, content = await run_in_threadpool(household.bill_pdf, fdesk, account.family_id,
                                                    request.path_params["kind"], request.path_params["id"])
        except NotFound:
            raise HTTPException(404, "Document introuvable.") from None
        return _attachment(name, content)

    async def family(self, request: Request):
        signed, redirect = await self.signed_page(request, lambda account, fdesk: household.household(
            fdesk, account.family_id))
        if redirect:
            return redirect
        return self.render(request, "famille.html", home=signed[2])

    async def family_section(self, request: Request):
        signed, redirect = await self.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        key = request.path_params["key"]
        try:
            sec = await run_in_threadpool(household.section, fdesk, account.family_id, key)
        except NotFound:
            raise HTTPException(404, "Page introuvable.") from None
        if request.method == "GET":
            return self.render(request, "famille_modifier.html", sec=sec, problems=[], values={})
        form = await self.form(request)
        values = {f.path: str(form.get(f.path, f.value)) for f in sec.fields}
        try:
            await run_in_threadpool(household.ask_change, fdesk, account.family_id, key, values)
        except DeskError as exc:
            return self.render(request, "famille_modifier.html", status=400, sec=sec, problems=self.problems(exc),
                               values=values)
        request.session["flash"] = ("Votre demande de modification est envoyée à la structure : "
                                    "elle est en attente de validation.")
        return RedirectResponse("/famille", 303)

    async def downloads(self, request: Request):
        signed, redirect = await self.signed_page(request, lambda _account, fdesk: household.published(fdesk))
        if redirect:
            return redirect
        return self.render(request, "telechargements.html", docs=signed[2])

    async def download(self, request: Request):
        signed, redirect = await self.signed_in(request)
        if redirect:
            return redirect
        _account, fdesk = signed
        try:
            name, mime, content = await run_in_threadpool(household.published_file, fdesk, request.path_params["id"])
        except NotFound:
            raise HTTPException(404, "Document introuvable.") from None
        return _attachment(name, content, mime)

    async def my_account(self, request: Request):
        signed, redirect = await self.signed_page(request, lambda account, fdesk: email_change.current_email(
            fdesk, account.family_id))
        if redirect:
            return redirect
        return self.render(request, "compte.html", email=signed[2])


def _grid_choice(params, kids, acts, fdesk) -> tuple[int, int, date]:
    """Mes réservations' child, activity and month: the query's, or the first ones and this
    month; a malformed one is a page that does not exist."""
    try:
        child_id = int(params.get("enfant") or kids[0].id)
        activity_id = int(params.get("activite") or acts[0].id)
        month = _month(params.get("mois")) or fdesk.today().replace(day=1)
    except ValueError:
        raise HTTPException(404, "Page introuvable.") from None
    return child_id, activity_id, month


def _month(text) -> date | None:
    if not text:
        return None
    year, _, month = str(text).partition("-")
    return date(int(year), int(month), 1)


def _day(text) -> date | None:
    text = str(text or "").strip()
    return date.fromisoformat(text) if text else None


async def _not_found(request: Request, exc: HTTPException):
    text = exc.detail if isinstance(exc.detail, str) else "Page introuvable."
    body = (f"<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Portail Famille</title>"
            f"<link rel=\"stylesheet\" href=\"/static/portail.css\"></head><body><main class=\"page\">"
            f"<h1>{exc.status_code}</h1><p class=\"probleme\">{_escape(text)}</p>"
            f"<p><a href=\"/accueil\">Retour à l'accueil</a></p></main></body></html>")
    return HTMLResponse(body, status_code=exc.status_code)


def _origin(url: str) -> str:
    """The scheme and host a form may lead to (the provider's page after « Payer »)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def create_app(desk: Desk, config: PortalConfig) -> Starlette:
    pages = Pages(desk, config)
    both = ["GET", "POST"]
    routes = [
        Route("/", pages.home),
        Route("/connexion", pages.login, methods=both),
        Route("/deconnexion", pages.logout, methods=["POST"]),
        Route("/mot-de-passe", pages.password, methods=both),
        Route("/mot-de-passe-oublie", pages.forgotten, methods=both),
        Route("/inscription", pages.register, methods=both),
        Route("/nouveau-mot-de-passe/{token}", pages.reset, methods=both),
        Route("/accueil", pages.welcome),
        Route("/reservations", pages.reservations, methods=both),
        Route("/reservations/periode", pages.period, methods=both),
        Route("/reservations/periode/total", pages.period_total),
        Route("/factures", pages.bills),
        Route("/factures/{kind:str}/{id:int}.pdf", pages.bill_pdf),
        Route("/factures/payer/{id:int}", pages.pay, methods=["POST"]),
        Route("/paiement/notification", pages.pay_notification, methods=["POST"]),
        Route("/paiement/retour", pages.pay_return),
        Route("/famille", pages.family),
        Route("/famille/{key:str}", pages.family_section, methods=both),
        Route("/telechargements", pages.downloads),
        Route("/telechargements/{id:int}", pages.download),
        Route("/compte", pages.my_account),
        *documents.routes(pages),
        *account_pages.routes(pages),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders, hsts=config.secure_cookies,
                   form_action=[_origin(getattr(config.payments, "pay_url", ""))]),
        Middleware(SessionMiddleware, secret_key=config.secret, session_cookie=SESSION_COOKIE,
                   max_age=SESSION_HOURS * 3600, same_site="lax", https_only=config.secure_cookies),
    ]
    return Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: _not_found})


__all__ = ["PortalConfig", "create_app"]
