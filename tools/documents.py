"""What a corpus document is, its `sleuth://doc/<doc_id>` address, and how the files `sleuth index add`
is given become documents: JSONL (`doc_id, title, text[, url]` per line), Markdown, plain text and HTML.

Per line: a bad line (not UTF-8, not JSON, nested too deeply, a lone surrogate, no text, longer
than the per-document cap) is skipped and reported with its line number, the rest is kept; a text
file over the cap is cut to it and reported.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

SCHEME = "sleuth"
TEXT_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".html": "html", ".htm": "html"}
SUFFIXES = {".jsonl", *TEXT_SUFFIXES}
MAX_DOCUMENT_BYTES = 5_000_000  # per document (a JSONL line, a text file); `max_document_bytes` setting


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    url: str


@dataclass
class IngestReport:
    """What `add` did: counts per outcome and one reason per skipped input."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    files: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)  # documents kept only up to the per-document cap


def doc_url(doc_id: str) -> str:
    return f"{SCHEME}://doc/{quote(doc_id, safe=':@')}"


def doc_id_from_url(url: str) -> str | None:
    """The doc_id inside a `sleuth://doc/<doc_id>` URL, or None for any other URL."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME or parts.netloc != "doc" or len(parts.path) < 2:
        return None
    return unquote(parts.path[1:])


def documents(path: Path, report: IngestReport, max_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[Document]:
    """The documents of one file; what cannot be read is said in `report`."""
    try:
        if path.suffix.lower() == ".jsonl":
            yield from read_jsonl(path, report.skipped, max_bytes)
        else:
            doc = _text_document(path, max_bytes, report.cut)
            if doc is None:
                report.skipped.append(f"{path}: no text found")
            else:
                yield doc
    except (OSError, UnicodeDecodeError) as e:
        report.skipped.append(f"{path}: cannot be read ({e.__class__.__name__}: {e})")


def read_jsonl(path: Path, skipped: list[str], max_bytes: int = MAX_DOCUMENT_BYTES) -> Iterator[Document]:
    """Documents from a JSONL file (`doc_id, title, text[, url]` per line); each bad line is skipped
    and described in `skipped` with its number, and the rest is read."""
    with path.open("rb") as f:
        for n, line in enumerate(_lines(f, max_bytes), 1):
            if line is None:
                skipped.append(f"{path}:{n}: longer than the per-document cap of {max_bytes:,} bytes (max_document_bytes)")
                continue
            if not line.strip():
                continue
            try:
                row = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as e:
                skipped.append(f"{path}:{n}: not valid UTF-8 (byte {line[e.start]:#04x} at column {e.start + 1})")
                continue
            except json.JSONDecodeError as e:
                skipped.append(f"{path}:{n}: not valid JSON ({e.msg} at column {e.colno})")
                continue
            except RecursionError:
                skipped.append(f"{path}:{n}: nested too deeply to read")
                continue
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or not row["text"].strip():
                skipped.append(f"{path}:{n}: no 'text' field")
                continue
            title, doc_id, url = (str(row.get(key) or "").strip() for key in ("title", "doc_id", "url"))
            if not _encodable(title, doc_id, url, row["text"]):
                skipped.append(f"{path}:{n}: holds a lone surrogate escape (such as \\ud800), which is not text")
                continue
            doc_id = doc_id or _digest(title + "\0" + row["text"])
            yield Document(doc_id=doc_id, title=title, text=row["text"], url=url or doc_url(doc_id))


def _lines(f, max_bytes: int) -> Iterator[bytes | None]:
    """The lines of a binary file, each read only up to `max_bytes` (None for a longer one, whose
    rest is skipped without being held in memory)."""
    while line := f.readline(max_bytes + 1):
        if len(line) <= max_bytes or line.endswith(b"\n"):
            yield line
            continue
        while (rest := f.readline(1 << 20)) and not rest.endswith(b"\n"):
            pass
        yield None


def _encodable(*values: str) -> bool:
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _text_document(path: Path, max_bytes: int, cut: list[str]) -> Document | None:
    kind = TEXT_SUFFIXES[path.suffix.lower()]
    with path.open("rb") as f:
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raw = raw[:max_bytes]
        while raw and (raw[-1] & 0xC0) == 0x80:  # no half a UTF-8 character at the cut
            raw = raw[:-1]
        raw = raw[:-1] if raw and raw[-1] >= 0xC0 else raw
        cut.append(f"{path}: kept its first {len(raw):,} bytes (the per-document cap, max_document_bytes)")
    doc_id = "file:" + _digest(str(path.resolve()))
    if kind == "html":
        from tools.extract import extract

        result = extract(raw, content_type="text/html", url=path.resolve().as_uri())
        if not result.text:
            return None
        return Document(doc_id=doc_id, title=result.title or path.stem, text=result.text, url=doc_url(doc_id))
    text = raw.decode("utf-8")
    if not text.strip():
        return None
    title = path.stem
    if kind == "markdown":
        heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
        if heading:
            title = heading.group(1).strip()
    return Document(doc_id=doc_id, title=title, text=text, url=doc_url(doc_id))
