"""Turn a fetched body into readable text: trafilatura for HTML, pypdf for PDF, plain text as is.

Extraction never raises for bad input: an empty, boilerplate-only, undecodable or unsupported body
gives an `Extracted` with empty text and a `reason` a person can read.
"""

import io
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_HTML_LANG = re.compile(r"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})""", re.IGNORECASE)
# Site furniture, removed before extraction: otherwise, on a page with no article, trafilatura's
# fallbacks return the menu ("Home | Log in") as if it were content.
_BOILERPLATE = ["//nav", "//footer", "//aside"]
# Dates from the page's markup (meta tags, JSON-LD, <time>, the URL), not from a scan of its whole
# text: that scan took four fifths of the extraction time (bench/pipeline.py).
_DATES = {"extensive_search": False, "original_date": True}
_OPTIONS = {"with_metadata": True, "include_comments": False, "prune_xpath": _BOILERPLATE, "date_extraction_params": _DATES}
_ENOUGH = 200  # characters of main text below which the fallbacks are tried too
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)

# trafilatura and its date library log every page they cannot parse; those are not our errors.
for _name in ("trafilatura", "htmldate", "courlan"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str | None = None
    published: datetime | None = None
    author: str | None = None
    language: str | None = None
    reason: str | None = None  # why `text` is empty, when it is


# Terminal control a page may carry: escape sequences (CSI such as clear-screen, OSC such as a
# clipboard write or a title change, the rest), C1 controls, and C0 controls but tab and newline.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x9b[0-?]*[ -/]*[@-~]"
                      r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[@-_]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str | None) -> str | None:
    """`text` without terminal control: what a page says can be stored and printed safely."""
    if text is None:
        return None
    return _CONTROLS.sub("", _ESCAPES.sub("", text.replace("\r\n", "\n")))


def extract(body: bytes, *, content_type: str | None = None, url: str | None = None) -> Extracted:
    """Extract the main text of a document from its bytes and (optional) Content-Type header; text,
    title and author come without control characters."""
    found = _extract(body, content_type, url)
    if found.reason:
        return found
    text = clean(found.text).strip()
    if not text:
        return Extracted(text="", reason="the page is empty")
    return replace(found, text=text, title=clean(found.title), author=clean(found.author))


def _extract(body: bytes, content_type: str | None, url: str | None) -> Extracted:
    if not body or not body.strip():
        return Extracted(text="", reason="the page is empty")
    kind = _kind(body, content_type)
    if kind == "html":
        return _html(body, content_type, url)
    if kind == "pdf":
        return _pdf(body)
    if kind == "text":
        text = _decode(body, content_type)
        if text is None:
            return Extracted(text="", reason="the text is not in a known encoding")
        text = text.strip()
        return Extracted(text=text) if text else Extracted(text="", reason="the page is empty")
    mime = (content_type or "unknown").split(";")[0].strip()
    return Extracted(text="", reason=f"{mime} content is not text and is skipped")


def _kind(body: bytes, content_type: str | None) -> str:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in ("text/html", "application/xhtml+xml"):
        return "html"
    if mime == "application/pdf":
        return "pdf"
    if mime.startswith("text/") or mime in ("application/json", "application/xml"):
        return "text"
    if mime and mime != "application/octet-stream":
        return "binary"
    head = body[:1024].lstrip().lower()
    if head.startswith(b"%pdf"):
        return "pdf"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    if b"\x00" not in body[:4096] and _decode(body[:4096], None) is not None:
        return "text"
    return "binary"


def _decode(body: bytes, content_type: str | None) -> str | None:
    """Decode with the declared charset, else UTF-8, else the best statistical guess."""
    declared = None
    if content_type and (m := _HEADER_CHARSET.search(content_type)):
        declared = m.group(1)
    elif m := _META_CHARSET.search(body[:4096]):
        declared = m.group(1).decode("ascii", "ignore")
    if declared:
        try:
            return body.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    return str(best) if best is not None else None


def _html(body: bytes, content_type: str | None, url: str | None) -> Extracted:
    import trafilatura

    html = _decode(body, content_type)
    if html is None:
        return Extracted(text="", reason="the page is not in a known encoding")
    try:
        # trafilatura's own algorithm first; its fallbacks (readability, jusText) only when that
        # finds little: they took half the extraction time on ordinary article pages.
        doc = trafilatura.bare_extraction(html, fast=True, **_OPTIONS, url=url)
        if len((getattr(doc, "text", None) or "").strip()) < _ENOUGH:
            doc = trafilatura.bare_extraction(html, fast=False, **_OPTIONS, url=url)
    except Exception as e:  # trafilatura has no error hierarchy; any failure means "no text"
        return Extracted(text="", reason=f"the HTML could not be parsed ({e.__class__.__name__})")
    text = (getattr(doc, "text", None) or "").strip() if doc is not None else ""
    if not text:
        return Extracted(text="", reason="no main content was found (navigation or boilerplate only)")
    lang = getattr(doc, "language", None)
    if not lang and (m := _HTML_LANG.search(html[:4096])):
        lang = m.group(1).lower()
    return Extracted(
        text=text,
        title=getattr(doc, "title", None) or None,
        published=_date(getattr(doc, "date", None)),
        author=getattr(doc, "author", None) or None,
        language=lang,
    )


def _pdf(body: bytes) -> Extracted:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(body))
        text = "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()
        meta = reader.metadata
        title = (meta.title if meta else None) or None
        author = (meta.author if meta else None) or None
        published = meta.creation_date if meta else None
    except Exception as e:  # pypdf raises many unrelated types on malformed files; all mean "unreadable"
        return Extracted(text="", reason=f"the PDF could not be read ({e.__class__.__name__})")
    if not text:
        return Extracted(text="", reason="the PDF has no extractable text")
    return Extracted(text=text, title=title, published=published, author=author)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
