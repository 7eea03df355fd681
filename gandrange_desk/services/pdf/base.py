"""The common base of every PDF the desk produces (invoices, credit notes, attestations).

fpdf2 with the DejaVu fonts of `resources/fonts` embedded (€, accents, œ). A4, millimetres.

Speed: fpdf2 parses the whole TrueType file for every document and subsets it again on output;
with the full DejaVu files that is most of the time of a one-page invoice. We therefore build,
once per machine, a Latin subset of each font (Latin-1, Latin Extended-A/B, punctuation,
currency) in the user cache folder and use it whenever every text of the document is covered;
a document with another script (a name in Cyrillic, Vietnamese…) falls back to the full files.

Nothing here imports fpdf2 (nor fontTools, nor pypdf) until a PDF is drawn, built or cut:
billing, validation and their screens use the structure, the amounts and the fonts' rules
without paying ~40 MB and ~0.3 s of drawing modules. `DeskPDF`, the document class, lives in
`pdf.document`, imported by the modules that draw.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Iterable, Sequence

from gandrange_desk import formats
from gandrange_desk.paths import resource

FONT_DIR = resource("fonts")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"

# Code points of the fast subset; everything a French invoice and most European names need.
_FAST_RANGES = (
    (0x20, 0x7E), (0xA0, 0x24F), (0x2000, 0x206F), (0x20A0, 0x20C0), (0x2116, 0x2116),
    (0x2122, 0x2122),
)
_FAST_SET = frozenset(cp for lo, hi in _FAST_RANGES for cp in range(lo, hi + 1)) | {0x0A, 0x0D, 0x09}
_fast_lock = threading.Lock()
_fast_paths: dict[str, Path] | None = None

GREY = (110, 110, 110)
LIGHT = (235, 238, 242)
INK = (20, 20, 20)


def font_dir() -> Path:
    override = os.environ.get("GANDRANGE_DESK_FONT_DIR")
    return Path(override) if override else FONT_DIR


def covered(text: str) -> bool:
    """True when every character of `text` is in the fast Latin subset."""
    return all(ord(ch) in _FAST_SET for ch in text)


def _cache_dir() -> Path:
    try:
        from platformdirs import user_cache_dir

        folder = Path(user_cache_dir("gandrange-desk", "Commune de Gandrange")) / "fonts"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    except OSError:
        folder = Path(tempfile.gettempdir()) / "gandrange-desk-fonts"
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _make_subset(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "FFTM", "kern", "hdmx"]
    font = TTFont(str(source))
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(_FAST_SET))
    subsetter.subset(font)
    # Written aside then renamed: two processes building it at once never read half a file.
    fd, tmp = tempfile.mkstemp(suffix=".ttf", dir=target.parent)
    os.close(fd)
    try:
        font.save(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fast_font_paths() -> dict[str, Path]:
    """Style → path of the Latin subset (built on first use, then reused)."""
    global _fast_paths
    with _fast_lock:
        if _fast_paths is not None and all(p.exists() for p in _fast_paths.values()):
            return _fast_paths
        paths: dict[str, Path] = {}
        folder = _cache_dir()
        for style, name in FONT_FILES.items():
            source = font_dir() / name
            digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
            target = folder / f"{source.stem}-latin-{digest}.ttf"
            if not target.exists():
                _make_subset(source, target)
            paths[style] = target
        _fast_paths = paths
        return paths


def full_font_paths() -> dict[str, Path]:
    return {style: font_dir() / name for style, name in FONT_FILES.items()}


def pdf_text(value: str) -> str:
    # babel writes French amounts with U+202F; keep it a no-break space every viewer shows.
    return value.replace("\u202f", "\u00a0")


def money(cents: int) -> str:
    """'70,55 €' (no-break space), for PDFs."""
    return pdf_text(formats.euros(cents))


@dataclass(frozen=True)
class StructureInfo:
    """What a document says about its issuer, copied from the Structure row."""

    name: str = ""
    address: str = ""
    siret: str = ""
    email: str = ""
    phone: str = ""
    portal_url: str = ""
    issuer_name: str = ""
    issuer_role: str = ""
    sepa_ics: str = ""
    appeal_text: str = ""
    payment_terms_days: int = 30

    @classmethod
    def from_structure(cls, structure) -> "StructureInfo":
        if structure is None:
            return cls()
        return cls(
            name=structure.name or "", address=structure.address or "", siret=structure.siret or "",
            email=structure.email or "", phone=structure.phone or "",
            portal_url=structure.portal_url or "", issuer_name=structure.issuer_name or "",
            issuer_role=structure.issuer_role or "", sepa_ics=structure.sepa_ics or "",
            appeal_text=structure.appeal_text or "",
            payment_terms_days=structure.payment_terms_days or 30,
        )

    def texts(self) -> list[str]:
        return [self.name, self.address, self.siret, self.email, self.phone, self.portal_url,
                self.issuer_name, self.issuer_role, self.sepa_ics, self.appeal_text]


def load_structure(session) -> StructureInfo:
    from sqlalchemy import select

    from gandrange_desk.models import Structure

    row = session.execute(select(Structure).order_by(Structure.id).limit(1)).scalar_one_or_none()
    return StructureInfo.from_structure(row)


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # mm
    align: str = "L"  # L, C, R


def split_pages(data: bytes, ranges: Sequence[tuple[int, int]], titles: Sequence[str] = (),
                author: str = "") -> list[bytes]:
    """Cut one PDF into several: `ranges` are (first, last) page indexes, 0-based, inclusive.

    Drawing a month's invoices as one fpdf2 document and cutting it afterwards embeds and
    subsets the fonts once per batch instead of once per invoice (most of the time of a page).
    """
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    out = []
    for n, (first, last) in enumerate(ranges):
        writer = PdfWriter()
        for index in range(first, last + 1):
            writer.add_page(reader.pages[index])
        meta = {"/Creator": "Gandrange Desk", "/Producer": "fpdf2 + pypdf"}
        if n < len(titles):
            meta["/Title"] = titles[n]
        if author:
            meta["/Author"] = author
        writer.add_metadata(meta)
        buffer = io.BytesIO()
        writer.write(buffer)
        out.append(buffer.getvalue())
    return out


def merge_pdfs(documents: Iterable[bytes]) -> bytes:
    """One PDF of several, pages in order (the month's invoices for printing)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for data in documents:
        writer.append(io.BytesIO(data))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def cents_from_text(text: str) -> int:
    """'4,15' / '4.15' / '4,15 €' → 415; raises ValueError on anything else (editors use it)."""
    cleaned = (text or "").replace("€", "").replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    cleaned = cleaned.replace(",", ".")
    if not cleaned:
        raise ValueError("empty")
    value = Decimal(cleaned)
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("more than two decimals")
    return int(value * 100)
