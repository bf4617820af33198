"""A real HTTP server on loopback that serves the pages the fetch tests need.

Each route is one behaviour a fetcher meets on the web. The server runs in a thread; "slow"
routes wait on an event that the fixture sets at teardown, so nothing here sleeps to synchronise.
"""

import gzip
import threading
import zlib
from functools import cache
from http import HTTPStatus
from pathlib import Path

from tests.loopback import LoopbackServer, Request, send

DATA = Path(__file__).parent / "data"
LATIN1_TEXT = "Café in Zürich: crème brûlée, smørrebrød and façades. Ça coûte cher, n'est-ce pas?"
HUGE_BYTES = 12_000_000
BOMB_BYTES = 64 * 2**20  # what the gzip and deflate bombs inflate to; the zstd one is 16 times that
ROBOTS_RULES = b"User-agent: *\nDisallow: /private-area\n"


@cache
def bomb(encoding: str) -> bytes:
    """A small body that inflates to `BOMB_BYTES` of text under `encoding` (1 GiB for zstd);
    "robots": robots.txt rules followed by such a bomb of comment, gzipped."""
    import zstandard

    if encoding == "robots":
        return gzip.compress(ROBOTS_RULES + b"#" + b"a" * BOMB_BYTES, 6)
    if encoding == "zstd":
        c = zstandard.ZstdCompressor(level=3).compressobj()
        return b"".join([c.compress(b"a" * 2**24) for _ in range(64)] + [c.flush()])
    c = zlib.compressobj(9, wbits=31 if encoding.startswith("gzip") else zlib.MAX_WBITS)
    body = b"".join([c.compress(b"a" * 2**22) for _ in range(BOMB_BYTES // 2**22)] + [c.flush()])
    return gzip.compress(body) if encoding == "gzip, gzip" else body


def minimal_pdf(text: str) -> bytes:
    """A valid one-page PDF that draws `text` in Helvetica (offsets computed, not hand-typed)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


class PageServer:
    def __init__(self, robots_bomb: bool = False) -> None:
        self.robots_bomb = robots_bomb  # robots.txt: the rules, then a gzip bomb of comment
        self.release = threading.Event()  # set at teardown: lets slow handlers finish at once
        self.hits: dict[str, int] = {}
        self.holding = 0  # requests now inside /hold, and the most there were at once
        self.max_holding = 0
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._handle)
        self.url = self._server.url

    def start(self) -> "PageServer":
        self._server.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.stop()

    def _handle(self, h: Request) -> None:
        with self._lock:
            self.hits[h.path] = self.hits.get(h.path, 0) + 1
        self.route(h)

    # ---------------------------------------------------------------------------------------

    def route(self, h: Request) -> None:
        path = h.path.split("?")[0]
        if path == "/article":
            return send(h, 200, (DATA / "article.html").read_bytes(), "text/html; charset=utf-8")
        if path == "/boilerplate":
            return send(h, 200, (DATA / "boilerplate.html").read_bytes(), "text/html")
        if path == "/huge":
            return self.huge(h)
        if path == "/slow":
            h.send_response(200)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", "5")
            h.end_headers()
            self.release.wait(30)  # outlives any read timeout a test sets
            h.wfile.write(b"late\n")
            return None
        if path == "/hold":  # a short, bounded hold so concurrent requests overlap
            with self._lock:
                self.holding += 1
                self.max_holding = max(self.max_holding, self.holding)
            self.release.wait(0.2)
            with self._lock:
                self.holding -= 1
            return send(h, 200, b"held " + h.path.encode(), "text/plain")
        if path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            return redirect(h, f"/redirect/{n - 1}" if n > 1 else "/article")
        if path == "/to-private":
            return redirect(h, "http://10.255.255.1/secret")
        if path == "/to-metadata":
            return redirect(h, "http://169.254.169.254/latest/meta-data/")
        if path == "/to-ftp":
            return redirect(h, "ftp://example.org/file")
        if path == "/latin1":
            body = f"<html><head><title>Café</title></head><body><article><p>{LATIN1_TEXT}</p><p>{LATIN1_TEXT}</p></article></body></html>"
            return send(h, 200, body.encode("latin-1"), "text/html; charset=iso-8859-1")
        if path in ("/terminal", "/terminal.html"):  # a page that tries to drive the reader's terminal
            text = ("Plain words.\x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J\x1b[31mRed words.\x1b[0m \x9b2J"
                    "\x1b]0;pwned\x1b\\ The end.\r\n")
            if path == "/terminal":
                return send(h, 200, text.encode(), "text/plain; charset=utf-8")
            body = (f"<html><head><title>Title\x1b[2J\x07</title></head><body><article><p>{text * 8}</p>"
                    "</article></body></html>")
            return send(h, 200, body.encode(), "text/html; charset=utf-8")
        if path == "/binary":
            return send(h, 200, bytes(range(256)) * 64, "application/octet-stream")
        if path == "/pdf":
            return send(h, 200, minimal_pdf("Sleuth reads PDF files too"), "application/pdf")
        if path == "/flaky":  # 500 on the first request, 200 afterwards
            if self.hits[h.path] == 1:
                return send(h, 500, b"try again", "text/plain")
            return send(h, 200, b"Recovered after one server error.", "text/plain")
        if path == "/limited":  # 429 with Retry-After on the first request
            if self.hits[h.path] == 1:
                return send(h, 429, b"slow down", "text/plain", {"Retry-After": "0"})
            return send(h, 200, b"Served after the rate limit.", "text/plain")
        if path == "/always-500":
            return send(h, 503, b"down", "text/plain")
        if path == "/robots.txt" and self.robots_bomb:
            return send(h, 200, bomb("robots"), "text/plain", {"Content-Encoding": "gzip"})
        if path == "/robots.txt":
            return send(h, 200, ROBOTS_RULES, "text/plain")
        if path.startswith("/encoded/"):  # /encoded/<content-encoding>: a bomb, or the article
            encoding = path.removeprefix("/encoded/").replace("%20", " ")
            if encoding == "gzip-article":
                body, encoding = gzip.compress((DATA / "article.html").read_bytes()), "gzip"
                return send(h, 200, body, "text/html; charset=utf-8", {"Content-Encoding": encoding})
            body = b"\x1b\x00\x00" if encoding == "br" else bomb(encoding)
            return send(h, 200, body, "text/plain", {"Content-Encoding": encoding})
        if path == "/private-area":
            return send(h, 200, b"Crawlers should not see this.", "text/plain")
        return send(h, 404, b"<html><body>not found</body></html>", "text/html")

    def huge(self, h: Request) -> None:
        paragraph = b"<p>" + b"All work and no play makes Jack a dull boy. " * 20 + b"</p>\n"
        head = b"<html><head><title>Huge</title></head><body><article>"
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(HUGE_BYTES))
        h.end_headers()
        h.wfile.write(head)
        sent = len(head)
        while sent < HUGE_BYTES:
            chunk = paragraph[: HUGE_BYTES - sent]
            h.wfile.write(chunk)
            sent += len(chunk)


def redirect(h, location: str) -> None:
    h.send_response(HTTPStatus.FOUND)
    h.send_header("Location", location)
    h.send_header("Content-Length", "0")
    h.end_headers()
