"""Mes envois and the attestations of « Factures et documents »: routes kept apart from app.py.

Each handler takes the app's `Pages` (rendering, sign-in, CSRF) and calls one service; the
family always comes from the session.
"""

from __future__ import annotations

from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from gandrange_desk.errors import DeskError, NotFound
from gandrange_desk.services.portal import attestations, uploads

from .responses import attachment
from .security import check_csrf

# What a request may weigh beyond the file itself (the other fields, multipart framing).
_SLACK = 64 * 1024


def _day(text) -> date | None:
    try:
        return date.fromisoformat(str(text or "").strip())
    except ValueError:
        return None


class DocumentPages:
    def __init__(self, pages):
        self.pages = pages

    async def _page(self, request: Request, fdesk, account, status: int = 200, problems=(), kind: str = ""):
        rows = await run_in_threadpool(uploads.envois, fdesk, account.family_id)
        return self.pages.render(request, "envois.html", status=status, rows=rows, kinds=uploads.KINDS,
                                 problems=list(problems), kind=kind, max_mb=uploads.MAX_MEGABYTES)

    async def envois(self, request: Request):
        signed, redirect = await self.pages.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        if request.method == "GET":
            return await self._page(request, fdesk, account)
        # Refused before reading the body when the browser says it is too big.
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > uploads.MAX_BYTES + _SLACK:
            return await self._page(request, fdesk, account, 413, [uploads.TOO_BIG])
        form = await request.form(max_files=1, max_fields=10)
        check_csrf(request, form)
        kind = str(form.get("type", ""))
        upload = form.get("fichier")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._page(request, fdesk, account, 400, [uploads.NO_FILE], kind)
        content = await upload.read(uploads.MAX_BYTES + 1)
        await form.close()
        try:
            await run_in_threadpool(uploads.upload, fdesk, account.family_id, kind, upload.filename, content)
        except DeskError as exc:
            status = 413 if uploads.TOO_BIG in self.pages.problems(exc) else 400
            return await self._page(request, fdesk, account, status, self.pages.problems(exc), kind)
        request.session["flash"] = ("Votre document est envoyé à la structure : il est en attente de "
                                    "vérification.")
        return RedirectResponse("/envois", 303)

    async def envoi_file(self, request: Request):
        signed, redirect = await self.pages.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        try:
            name, mime, content = await run_in_threadpool(uploads.envoi_file, fdesk, account.family_id,
                                                          request.path_params["id"])
        except NotFound:
            raise HTTPException(404, "Document introuvable.") from None
        return attachment(name, content, mime)

    async def fiscal(self, request: Request):
        signed, redirect = await self.pages.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        try:
            name, pdf = await run_in_threadpool(attestations.fiscal_pdf, fdesk, account.family_id,
                                                request.path_params["year"])
        except DeskError as exc:
            raise HTTPException(404, exc.message) from None
        return attachment(name, pdf)

    async def period(self, request: Request):
        """GET with the two dates (a download needs no CSRF: it changes nothing but the audit)."""
        signed, redirect = await self.pages.signed_in(request)
        if redirect:
            return redirect
        account, fdesk = signed
        start, end = _day(request.query_params.get("debut")), _day(request.query_params.get("fin"))
        try:
            name, pdf = await run_in_threadpool(attestations.period_pdf, fdesk, account.family_id, start, end)
        except DeskError as exc:
            request.session["flash"] = " ".join(self.pages.problems(exc))
            return RedirectResponse("/factures#attestations", 303)
        return attachment(name, pdf)


def routes(pages) -> list[Route]:
    docs = DocumentPages(pages)
    return [
        Route("/envois", docs.envois, methods=["GET", "POST"]),
        Route("/envois/{id:int}", docs.envoi_file),
        Route("/attestations/fiscale/{year:int}.pdf", docs.fiscal),
        Route("/attestations/periode", docs.period),
    ]


__all__ = ["routes"]
