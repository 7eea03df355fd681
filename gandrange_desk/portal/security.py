"""What the portal does for every request because it faces the internet: headers, CSRF, sign-in.

The session is Starlette's signed cookie (HttpOnly, SameSite=Lax, Secure unless serving plain
http locally); it holds the family id, a fingerprint of its password hash (a new password ends
every other session) and the CSRF token every form carries.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Adds the headers to every response, error pages included."""

    def __init__(self, app, hsts: bool = False, form_action: list[str] | None = None):
        self.app = app
        headers = list(HEADERS)
        extra = " ".join(o for o in (form_action or []) if o)
        if extra:  # a form's redirect to the payment provider is a form action too
            headers[0] = (b"content-security-policy",
                          CSP.replace("form-action 'self'", f"form-action 'self' {extra}").encode())
        self.headers = headers + ([(b"strict-transport-security", b"max-age=31536000")] if hsts else [])

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in self.headers if k not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, form) -> None:
    """Every POST carries the session's token; anything else is refused before any service call."""
    sent = form.get("csrf") or ""
    expected = request.session.get("csrf") or ""
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "Formulaire expiré ou invalide : rechargez la page puis recommencez.")


def start_session(request: Request, family_id: int, fingerprint: str) -> None:
    """A fresh session at sign-in (nothing carried over from before it: no fixation)."""
    request.session.clear()
    request.session.update({"fid": family_id, "fp": fingerprint, "csrf": secrets.token_urlsafe(32)})


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None
