"""Mon compte → adresse e-mail (confirmed by a link to the new address), and completing the file
after an accepted Inscription: routes kept apart from app.py, each one service call."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from gandrange_desk.errors import DeskError, NotFound
from gandrange_desk.services.portal import completion, email_change

SEEN = "completer_vu"  # the completion page was shown once in this session: no more redirects to it


class AccountPages:
    def __init__(self, pages):
        self.pages = pages

    # --- e-mail ----------------------------------------------------------------------------

    async def email(self, request: Request):
        signed, redirect = await self.pages.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        current = await run_in_threadpool(email_change.current_email, fdesk, account.family_id)
        if request.method == "GET":
            return self.pages.render(request, "email.html", current=current, problems=[], new="")
        form = await self.pages.form(request)
        new = str(form.get("email", ""))
        base = self.pages._base(request) + "/confirmer-email/"
        try:
            sent_to = await run_in_threadpool(email_change.request_change, fdesk, self.pages.config.secret,
                                              account, str(form.get("mot_de_passe", "")), new, base)
        except DeskError as exc:
            return self.pages.render(request, "email.html", status=400, current=current,
                                     problems=self.pages.problems(exc), new=new)
        request.session["flash"] = email_change.SENT.format(email=sent_to)
        return RedirectResponse("/compte", 303)

    async def confirm_email(self, request: Request):
        """The link from the e-mail shows a button: a mail scanner opening the link changes nothing."""
        token = request.path_params["token"]
        secret = self.pages.config.secret
        if request.method == "GET":
            try:
                pending = await run_in_threadpool(email_change.check, self.pages.desk, secret, token)
            except DeskError as exc:
                return self.pages.render(request, "email_confirmer.html", status=400, invalid=exc.message,
                                         token=token, new="")
            return self.pages.render(request, "email_confirmer.html", invalid=None, token=token,
                                     new=pending.new_email)
        await self.pages.form(request)
        try:
            pending = await run_in_threadpool(email_change.confirm, self.pages.desk, secret, token)
        except DeskError as exc:
            return self.pages.render(request, "email_confirmer.html", status=400, invalid=exc.message,
                                     token=token, new="")
        request.session["flash"] = email_change.DONE.format(email=pending.new_email)
        signed_in = isinstance(request.session.get("fid"), int)
        return RedirectResponse("/compte" if signed_in else "/connexion", 303)

    # --- completing the file -----------------------------------------------------------------

    async def complete(self, request: Request):
        signed, redirect = await self.pages.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        request.session[SEEN] = True
        if not await run_in_threadpool(completion.needed, fdesk, account.family_id):
            request.session["flash"] = completion.ALREADY
            return RedirectResponse("/famille", 303)
        form = await run_in_threadpool(completion.blank_form, fdesk, account.family_id)
        if request.method == "GET":
            return self.pages.render(request, "completer.html", form=form, problems=[])
        data = await self.pages.form(request)
        text = lambda key: str(data.get(key, ""))  # noqa: E731
        for c in form.children:
            key = f"enfant{c.child_id}"
            c.allergies, c.doctor = text(f"{key}_allergies"), text(f"{key}_medecin")
            c.health_notes, c.pai = text(f"{key}_sante"), data.get(f"{key}_pai") == "oui"
        form.pickups = [completion.Pickup(text(f"personne{n}_nom"), text(f"personne{n}_lien"),
                                          text(f"personne{n}_telephone"))
                        for n in range(1, completion.MAX_PICKUPS + 1)]
        try:
            await run_in_threadpool(completion.complete, fdesk, account.family_id, form)
        except NotFound:
            raise HTTPException(404, "Page introuvable.") from None
        except DeskError as exc:
            return self.pages.render(request, "completer.html", status=400, form=form,
                                     problems=self.pages.problems(exc))
        request.session["flash"] = completion.DONE
        return RedirectResponse("/accueil", 303)


def completion_lead(request: Request, due: bool) -> bool:
    """Whether Accueil leads to the completion form now: once per session while it is due."""
    return bool(due and not request.session.get(SEEN))


def routes(pages) -> list[Route]:
    acc = AccountPages(pages)
    both = ["GET", "POST"]
    return [
        Route("/compte/email", acc.email, methods=both),
        Route("/confirmer-email/{token}", acc.confirm_email, methods=both),
        Route("/completer", acc.complete, methods=both),
    ]


__all__ = ["completion_lead", "routes"]
