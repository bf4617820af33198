"""HCAM decode attention: attend exactly over the top-k chunks of the KV cache, chosen by one
summary key per chunk and KV head, plus the sink and the local window, merged by log-sum-exp.

Chunks are aligned to absolute positions (chunk c holds keys c*cs .. c*cs+cs-1; align `cs` with
the engine's KV blocks). Candidates are the full chunks after the sink and before the local
window; every other key (sink, local window, the partial chunks at their edges) is attended
exactly, so with top-k = all candidates the result equals dense attention.
"""

import math
from dataclasses import dataclass

import torch

from attention_runtime.sparse.dense import dense_attention, expand_kv


@dataclass(frozen=True)
class HCAMParams:
    chunk_size: int = 64
    top_k: int = 16
    sink: int = 64  # first tokens always attended
    local: int = 1024  # last tokens always attended
    min_context: int = 4096  # shorter contexts take dense attention


class ChunkSummaries:
    """Running mean key of each full chunk, kept as keys are appended (as blocks fill during decode)."""

    def __init__(self, chunk_size: int) -> None:
        self.cs = chunk_size
        self.sums: torch.Tensor | None = None  # [B, Hkv, n_chunks_started, D]
        self.length = 0

    def append(self, k: torch.Tensor) -> None:
        """Add keys `[B, Hkv, n, D]` at the end."""
        B, H, n, D = k.shape
        start, end = self.length, self.length + n
        chunks = math.ceil(end / self.cs)
        if self.sums is None:
            self.sums = torch.zeros(B, H, 0, D, device=k.device)
        if chunks > self.sums.shape[2]:
            self.sums = torch.cat([self.sums, torch.zeros(B, H, chunks - self.sums.shape[2], D, device=k.device)], 2)
        index = (torch.arange(start, end, device=k.device) // self.cs).expand(B, H, n)
        self.sums.scatter_add_(2, index[..., None].expand(B, H, n, D), k.float())
        self.length = end

    @property
    def means(self) -> torch.Tensor:
        """Summary keys of the full chunks: `[B, Hkv, length // cs, D]`."""
        assert self.sums is not None
        return self.sums[:, :, : self.length // self.cs] / self.cs


def hcam_positions(q: torch.Tensor, k: torch.Tensor, params: HCAMParams, summaries: torch.Tensor | None = None,
                   scale: float | None = None) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The cache positions one decode query attends to: (`[B, Hq, top_k * cs]` of its top-k
    chunks, `[n]` of the sink, the local window and the partial chunks at their edges), or None
    when the context is short enough for dense attention."""
    B, Hq, _, D = q.shape
    Hkv, L = k.shape[1], k.shape[2]
    groups, cs = Hq // Hkv, params.chunk_size
    scale = scale if scale is not None else D ** -0.5
    first = math.ceil(params.sink / cs)  # candidate chunks: full, after the sink, before the local window
    last = (L - params.local) // cs
    if L < params.min_context or last - first <= params.top_k:
        return None
    if summaries is None:
        summaries = k[:, :, : (L // cs) * cs].float().view(B, Hkv, L // cs, cs, D).mean(3)
    coarse = torch.einsum("bhd,bhcd->bhc", q[:, :, 0].float(), expand_kv(summaries[:, :, first:last], groups))
    top = coarse.topk(params.top_k, dim=-1).indices + first  # [B, Hq, top_k], chunk numbers
    chosen = (top[..., None] * cs + torch.arange(cs, device=q.device)).flatten(2)
    rest = torch.cat([torch.arange(0, first * cs, device=q.device), torch.arange(last * cs, L, device=q.device)])
    return chosen, rest


def hcam_decode(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, params: HCAMParams = HCAMParams(), *,
                summaries: torch.Tensor | None = None, scale: float | None = None) -> torch.Tensor:
    """Attention of one new query per sequence, `q [B, Hq, 1, D]`, over the cache `k, v [B, Hkv, L, D]`.
    `summaries` `[B, Hkv, >= L // cs, D]` (from `ChunkSummaries`) is computed here when not given."""
    B, Hq, _, D = q.shape
    groups = Hq // k.shape[1]
    scale = scale if scale is not None else D ** -0.5
    where = hcam_positions(q, k, params, summaries, scale)
    if where is None:
        return dense_attention(q, k, v, scale=scale)
    chosen, rest = where
    dev = q.device
    qf = q[:, :, 0].float()  # [B, Hq, D]
    b = torch.arange(B, device=dev)[:, None, None]
    h = (torch.arange(Hq, device=dev) // groups)[None, :, None]
    out1, lse1 = _attend(qf, k[b, h, chosen].float(), v[b, h, chosen].float(), scale)
    out2, lse2 = _attend(qf, expand_kv(k[:, :, rest], groups).float(), expand_kv(v[:, :, rest], groups).float(), scale)
    m = torch.maximum(lse1, lse2)
    w1, w2 = (lse1 - m).exp(), (lse2 - m).exp()
    out = (w1[..., None] * out1 + w2[..., None] * out2) / (w1 + w2)[..., None]
    return out[:, :, None].to(q.dtype)


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax attention of `q [B, H, D]` over `k, v [B, H, n, D]`: the output and its log-sum-exp."""
    scores = torch.einsum("bhd,bhnd->bhn", q, k) * scale
    lse = torch.logsumexp(scores, dim=-1)
    return torch.einsum("bhn,bhnd->bhd", (scores - lse[..., None]).exp(), v), lse
