"""Content-Encoding decoding with a bound on what comes out.

httpx decodes each network read in one call, so a few kilobytes of zstd or gzip can grow into
gigabytes before any cap is applied. Here the body is read still encoded (at most the byte cap),
then each encoding layer is undone with its output limited to the cap: a compression bomb costs
at most the cap per layer, and the result says whether anything was cut off.
"""

import io
import zlib

import zstandard

from tools.errors import FetchError

ACCEPT_ENCODING = "gzip, deflate, zstd"
_STEP = 64 * 1024  # input fed to a decoder per call; its output is bounded separately


def decode(body: bytes, content_encoding: str | None, limit: int) -> tuple[bytes, bool]:
    """`body` with every layer of `content_encoding` undone (the last applied is undone first),
    at most `limit` bytes of it, and whether the decoded body went on past that."""
    layers = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
    truncated = False
    for layer in reversed(layers):
        if layer in ("identity", ""):
            continue
        undo = _DECODERS.get(layer)
        if undo is None:
            raise FetchError(f"the page is encoded with '{layer}', which sleuth does not decode.")
        body, cut = undo(body, limit)
        truncated = truncated or cut
    if len(body) > limit:
        return body[:limit], True
    return body, truncated


def _zlib(wbits: int):
    def undo(data: bytes, limit: int) -> tuple[bytes, bool]:
        out = bytearray()
        d = zlib.decompressobj(wbits)
        view, pos, tail = memoryview(data), 0, b""
        try:
            while (tail or pos < len(view)) and len(out) <= limit:
                if not tail:
                    tail, pos = view[pos:pos + _STEP], pos + _STEP
                out += d.decompress(tail, limit + 1 - len(out))
                tail = d.unconsumed_tail
                if d.eof:  # gzip allows several members one after another
                    rest = d.unused_data + tail + view[pos:]
                    if not rest.strip(b"\0"):
                        break
                    view, pos, tail = memoryview(rest), 0, b""
                    d = zlib.decompressobj(wbits)
        except zlib.error as e:
            if not out:
                raise FetchError(f"the page's compressed body is damaged ({e}).") from None
            return bytes(out[:limit]), True  # keep what decoded before the damage
        return bytes(out[:limit]), len(out) > limit
    return undo


def _deflate(data: bytes, limit: int) -> tuple[bytes, bool]:
    """`deflate` is meant to be zlib-wrapped; some servers send raw deflate (httpx accepts both)."""
    try:
        return _zlib(zlib.MAX_WBITS)(data, limit)
    except FetchError:
        return _zlib(-zlib.MAX_WBITS)(data, limit)


def _zstd(data: bytes, limit: int) -> tuple[bytes, bool]:
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    out = bytearray()
    try:
        while len(out) <= limit:
            piece = reader.read(limit + 1 - len(out))
            if not piece:
                break
            out += piece
    except zstandard.ZstdError as e:
        if not out:
            raise FetchError(f"the page's compressed body is damaged ({e}).") from None
        return bytes(out[:limit]), True
    return bytes(out[:limit]), len(out) > limit


_DECODERS = {
    "gzip": _zlib(16 + zlib.MAX_WBITS),
    "x-gzip": _zlib(16 + zlib.MAX_WBITS),
    "deflate": _deflate,
    "zstd": _zstd,
}
