"""The page fetcher: concurrent, bounded, polite and safe, returning a `Page` for every URL.

One shared httpx connection pool; a global and a per-host concurrency limit; connect, read and
total timeouts; at most `max_redirects` hops, each one through the address guard; a streamed body
cap on the body as sent and again on every layer of its Content-Encoding as it is undone (the rest
is discarded, so a compression bomb costs at most the cap); bounded retries with backoff on 429 and
5xx; optional robots.txt, read under its own cap. Decoding and extraction count against the page's
total time limit.
`fetch` never raises for what a web page or network does: the `Page` says what went wrong in
`error`. `sleuth://doc/<id>` URLs are read from the local corpus.
"""

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
from pydantic import BaseModel

from tools.clock import now
from tools.decode import ACCEPT_ENCODING, decode
from tools.errors import FetchError
from tools.extract import extract
from tools.netguard import AddressPolicy, guarded_transport
from tools.retry import Retries
from tools.corpus import Corpus
from tools.documents import SCHEME, doc_id_from_url

USER_AGENT = "Mozilla/5.0 (compatible; sleuth/0.1; research agent; +https://pypi.org/project/sleuth/)"
ROBOTS_MAX_BYTES = 500_000  # what Google's crawler reads of a robots.txt; the rest is ignored
_RETRY_STATUS = {429, 500, 502, 503, 504}


class Page(BaseModel):
    """A fetched and extracted page. `error` is set, and `text` empty, when nothing usable came back."""

    url: str
    final_url: str
    title: str | None = None
    text: str = ""
    published: datetime | None = None
    fetched_at: datetime
    status: int | None = None
    error: str | None = None
    content_type: str | None = None
    author: str | None = None
    language: str | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.text)


@dataclass(frozen=True)
class FetchLimits:
    max_connections: int = 32
    per_host: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_redirects: int = 5
    max_bytes: int = 5_000_000
    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 10.0
    respect_robots: bool = False
    user_agent: str = USER_AGENT


@dataclass
class _Body:
    status: int
    url: str
    content: bytes
    content_type: str | None
    truncated: bool
    reason: str


class Fetcher:
    """`async with Fetcher() as f: page = await f.fetch(url)`."""

    def __init__(
        self,
        limits: FetchLimits = FetchLimits(),
        policy: AddressPolicy = AddressPolicy(),
        local: Corpus | None = None,
    ) -> None:
        self.limits = limits
        self.policy = policy
        self.local = local
        pool = httpx.Limits(max_connections=limits.max_connections, max_keepalive_connections=limits.max_connections)
        self._client = httpx.AsyncClient(
            transport=guarded_transport(policy, pool),
            timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
            headers={"User-Agent": limits.user_agent, "Accept-Encoding": ACCEPT_ENCODING,
                     "Accept": "text/html,application/xhtml+xml,text/plain,application/pdf;q=0.9,*/*;q=0.5"},
            follow_redirects=False,  # followed by hand, so every hop is counted and guarded
        )
        self._global = asyncio.Semaphore(limits.max_connections)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(limits.per_host))
        self._robots: dict[str, RobotFileParser | None] = {}

    async def __aenter__(self) -> "Fetcher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str) -> Page:
        fetched_at = now()
        try:
            async with asyncio.timeout(self.limits.total_timeout):
                if urlsplit(url).scheme == SCHEME:
                    return await self._local(url, fetched_at)
                body = await self._get(url)
                if body.status >= 400:
                    return Page(
                        url=url, final_url=body.url, fetched_at=fetched_at, status=body.status,
                        content_type=body.content_type, error=f"HTTP {body.status} {body.reason}".strip(),
                    )
                # Extraction is CPU work (lxml, pypdf): keep it off the event loop.
                result = await asyncio.to_thread(extract, body.content, content_type=body.content_type, url=body.url)
        except TimeoutError:
            return _failed(url, fetched_at, f"no complete answer within {self.limits.total_timeout:g} s")
        except FetchError as e:
            return _failed(url, fetched_at, str(e))
        except httpx.TimeoutException:
            return _failed(url, fetched_at, "the server did not answer in time")
        except httpx.HTTPError as e:
            return _failed(url, fetched_at, f"the request failed ({e.__class__.__name__}: {e})")
        return Page(
            url=url, final_url=body.url, title=result.title, text=result.text, published=result.published,
            fetched_at=fetched_at, status=body.status, error=result.reason, content_type=body.content_type,
            author=result.author, language=result.language, truncated=body.truncated,
        )

    # -----------------------------------------------------------------------------------------

    async def _get(self, url: str) -> _Body:
        for attempt in Retries(self.limits.retries, self.limits.backoff, cap=self.limits.max_retry_after):
            body, retry_after = await self._follow(url)
            if body.status not in _RETRY_STATUS or attempt.last:
                return body
            await attempt.wait(retry_after)
        raise AssertionError("unreachable")

    async def _follow(self, url: str) -> tuple[_Body, float | None]:
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https"):
                raise FetchError(f"only http and https URLs are fetched, not {parts.scheme}:" if parts.scheme
                                 else f"{current} is not a URL; write it with https:// or http://")
            if not parts.hostname:
                raise FetchError(f"{current} has no host.")
            if self.limits.respect_robots and not await self._allowed(current):
                raise FetchError(f"robots.txt of {parts.hostname} disallows fetching {current}.")
            async with self._global, self._hosts[parts.hostname]:
                async with self._client.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    content, truncated = await _read(response, self.limits.max_bytes)
                    body = _Body(
                        status=response.status_code, url=str(response.url), content=content,
                        content_type=response.headers.get("content-type"), truncated=truncated,
                        reason=response.reason_phrase,
                    )
                    return body, _retry_after(response.headers.get("retry-after"))
        raise FetchError(f"more than {self.limits.max_redirects} redirects starting at {url}.")

    async def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            parser: RobotFileParser | None = None
            try:
                async with self._client.stream("GET", origin + "/robots.txt") as response:
                    if response.status_code < 400:
                        content, _ = await _read(response, ROBOTS_MAX_BYTES)
                        parser = RobotFileParser()
                        parser.parse(content.decode("utf-8", "replace").splitlines())
            except (httpx.HTTPError, FetchError):
                pass  # no readable robots.txt means no restrictions
            self._robots[origin] = parser
        parser = self._robots[origin]
        return parser is None or parser.can_fetch(self.limits.user_agent, url)

    async def _local(self, url: str, fetched_at: datetime) -> Page:
        doc_id = doc_id_from_url(url)
        doc = await asyncio.to_thread(self.local.get, doc_id) if (self.local and doc_id) else None
        if doc is None:
            return _failed(url, fetched_at, "no such document in the local corpus")
        return Page(url=url, final_url=url, title=doc.title, text=doc.text, fetched_at=fetched_at, status=200,
                    content_type="text/plain")


async def _read(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The body, decoded, at most `limit` bytes of it, and whether there was more (left unread).

    It is read as sent (`aiter_raw`: httpx decodes each read whole, without a bound) and decoded
    here under the same limit."""
    chunks: list[bytes] = []
    size, more = 0, False
    async for chunk in response.aiter_raw():
        if size + len(chunk) > limit:
            chunks.append(chunk[: limit - size])
            more = True
            break
        chunks.append(chunk)
        size += len(chunk)
    encoding = response.headers.get("content-encoding")
    if not encoding:
        return b"".join(chunks), more
    content, cut = await asyncio.to_thread(decode, b"".join(chunks), encoding, limit)
    return content, more or cut


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _failed(url: str, fetched_at: datetime, error: str) -> Page:
    return Page(url=url, final_url=url, fetched_at=fetched_at, error=error)
