"""HCAM decode attention: attend exactly over the top-k chunks of the KV cache, chosen by one
summary key per chunk and KV head, plus the sink and the local window, merged by log-sum-exp.

Chunks are aligned to absolute positions (chunk c holds keys c*cs .. c*cs+cs-1; align `cs` with
the engine's KV blocks). Candidates are the full chunks after the sink and before the local
window; every other key (sink, local window, the partial chunks at their edges) is attended
exactly, so with top-k = all candidates the result equals dense attention.
"""

import math

import torch

from attention_runtime.params import HCAMParams
from attention_runtime.sparse.dense import dense_attention


def chunk_means(k: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """The summary keys of the full chunks of `k [B, Hkv, L, D]`, all at once: `[B, Hkv, L // cs, D]` fp32"""
    B, H, L, D = k.shape
    n = L // chunk_size
    return k[:, :, : n * chunk_size].float().view(B, H, n, chunk_size, D).mean(3)


def hcam_chunks(q: torch.Tensor, length: int, summaries: torch.Tensor, params: HCAMParams,
                scale: float | None = None) -> tuple[torch.Tensor, int, int] | None:
    """The chunks one decode query `q [B, Hq, 1, D]` attends to in a cache of `length` keys, from the
    chunk summaries `[B, Hkv, >= length // cs, D]`: (`[B, Hkv, top_k]` the chunk numbers each KV
    head's query group attends to, `first`, `last`: the candidate chunks are `first .. last-1`, the
    sink is the positions before `first * cs` and the local window those from `last * cs`), or None
    when there are fewer candidate chunks than top-k.

    The query heads that share a KV head (GQA) share their chunks, chosen by the sum of their
    softmax over the chunk scores, so each KV head's chunks are gathered once."""
    B, Hq, _, D = q.shape
    Hkv, cs = summaries.shape[1], params.chunk_size
    scale = scale if scale is not None else D ** -0.5
    first = math.ceil(params.sink / cs)  # candidate chunks: full, after the sink, before the local window
    last = (length - params.local) // cs
    if length < params.min_context or last - first < params.top_k:
        return None
    coarse = torch.einsum("bhrd,bhcd->bhrc", q[:, :, 0].float().view(B, Hkv, Hq // Hkv, D),
                          summaries[:, :, first:last].float()) * scale
    return torch.softmax(coarse, dim=-1).sum(2).topk(params.top_k, dim=-1).indices + first, first, last


def hcam_select(q: torch.Tensor, length: int, summaries: torch.Tensor, params: HCAMParams,
                scale: float | None = None) -> tuple[torch.Tensor, torch.Tensor] | None:
    """`hcam_chunks` with the sink and the local window as positions: (`[B, Hkv, top_k]` the chunk
    numbers, `[n]` the positions of the sink, the local window and the partial chunks at their
    edges), or None when there are fewer candidate chunks than top-k."""
    where = hcam_chunks(q, length, summaries, params, scale)
    if where is None:
        return None
    top, first, last = where
    cs = params.chunk_size
    rest = torch.cat([torch.arange(0, first * cs, device=q.device), torch.arange(last * cs, length, device=q.device)])
    return top, rest


def hcam_positions(q: torch.Tensor, k: torch.Tensor, params: HCAMParams, summaries: torch.Tensor | None = None,
                   scale: float | None = None) -> tuple[torch.Tensor, torch.Tensor] | None:
    """`hcam_select` over the cache `k [B, Hkv, L, D]`, its chunks given as positions
    `[B, Hkv, top_k * cs]`; the summaries are computed from `k` when not given."""
    B, Hkv, L, D = k.shape
    cs = params.chunk_size
    if summaries is None:
        summaries = chunk_means(k, cs)
    where = hcam_select(q, L, summaries, params, scale)
    if where is None:
        return None
    top, rest = where
    return (top[..., None] * cs + torch.arange(cs, device=q.device)).flatten(2), rest


def hcam_decode(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, params: HCAMParams = HCAMParams(), *,
                summaries: torch.Tensor | None = None, scale: float | None = None) -> torch.Tensor:
    """Attention of one new query per sequence, `q [B, Hq, 1, D]`, over the cache `k, v [B, Hkv, L, D]`.
    `summaries` `[B, Hkv, >= L // cs, D]` (from `chunk_means`) is computed here when not given."""
    B, Hq, _, D = q.shape
    Hkv = k.shape[1]
    scale = scale if scale is not None else D ** -0.5
    where = hcam_positions(q, k, params, summaries, scale)
    if where is None:
        return dense_attention(q, k, v, scale=scale)
    chosen, rest = where
    b = torch.arange(B, device=q.device)[:, None, None]
    h = torch.arange(Hkv, device=q.device)[None, :, None]
    out = attend_parts(q[:, :, 0].view(B, Hkv, Hq // Hkv, D),
                       [(k[b, h, chosen], v[b, h, chosen]), (k[:, :, rest], v[:, :, rest])], scale)
    return out.reshape(B, Hq, 1, D).to(q.dtype)


def attend_parts(q: torch.Tensor, parts: list[tuple[torch.Tensor, torch.Tensor]], scale: float) -> torch.Tensor:
    """Softmax attention of each KV head's query group `q [B, Hkv, r, D]` over the union of disjoint
    key sets `(k, v)`, each `[B, Hkv, n, D]`, merged exactly by log-sum-exp; fp32 `[B, Hkv, r, D]`."""
    outs, lses = zip(*(_attend(q.float(), k.float(), v.float(), scale) for k, v in parts))
    lse = torch.stack(lses)  # [P, B, Hkv, r]
    weights = (lse - lse.max(0).values).exp()
    return (weights[..., None] * torch.stack(outs)).sum(0) / weights.sum(0)[..., None]


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax attention of `q [B, H, r, D]` over `k, v [B, H, n, D]`: the output and its log-sum-exp."""
    scores = torch.einsum("bhrd,bhnd->bhrn", q, k) * scale
    lse = torch.logsumexp(scores, dim=-1)
    return torch.einsum("bhrn,bhnd->bhrd", (scores - lse[..., None]).exp(), v), lse
