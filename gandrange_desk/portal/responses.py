"""Responses shared by the portal's route modules."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response


def attachment(name: str, content: bytes, mime: str = "application/pdf") -> Response:
    """Always a download, never shown inline by the portal's origin."""
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_.") or "document.pdf"
    if mime not in ("application/pdf", "image/jpeg", "image/png"):
        mime = "application/octet-stream"
    return Response(content, media_type=mime, headers={
        "content-disposition": f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(name)}"})


__all__ = ["attachment"]
