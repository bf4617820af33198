"""FlexPrefill: block-sparse prefill attention with a pattern chosen per head at run time.

`flexprefill_mask` is the index search: which key blocks each query block attends to.
`block_sparse_attention` computes attention over those blocks only. `flexprefill_attention` is
both, with the dense fallback for short inputs.

Blocks are aligned to absolute positions (block j holds keys j*bs .. j*bs+bs-1), so a query chunk
of a longer prompt (chunked prefill, a prefix cache) uses the same blocks as the whole prompt,
and its last query block probes the whole prefix. Everything is batched over batch, heads and
blocks; the only host synchronisation is one per call (the most blocks any query block keeps).
"""

import math

import torch

from attention_runtime.params import FlexPrefillParams
from attention_runtime.sparse.dense import allowed, dense_attention


def flexprefill_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, params: FlexPrefillParams = FlexPrefillParams(),
                          *, scale: float | None = None, window: int | None = None) -> torch.Tensor:
    if q.shape[2] <= params.dense_below():
        return dense_attention(q, k, v, scale=scale, window=window)
    out, _ = flexprefill_sparse(q, k, v, params, scale=scale, window=window)
    return out if out is not None else dense_attention(q, k, v, scale=scale, window=window)


def flexprefill_sparse(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, params: FlexPrefillParams, *,
                       scale: float | None = None, window: int | None = None) -> tuple[torch.Tensor | None, float]:
    """The index search, then the block-sparse attention: the output and the fraction of blocks
    kept, or None and that fraction when it is above `params.dense_above` (dense is then faster)."""
    mask = flexprefill_mask(q, k, params, scale=scale, window=window)
    kept = density(mask, q.shape[2], k.shape[2], params.block_size, window)
    if kept > params.dense_above:
        return None, kept
    return block_sparse_attention(q, k, v, mask, params.block_size, scale=scale, window=window), kept


def _visible(Lq: int, Lk: int, bs: int, window: int | None, dev: torch.device):
    """For the query blocks `first .. nKB-1` of the last `Lq` of `Lk` positions: which key blocks hold
    a key some query of the block may see `[nQB, nKB]`, the blocks' numbers, first and last queries."""
    nKB, first = math.ceil(Lk / bs), (Lk - Lq) // bs
    qb_abs = torch.arange(first, nKB, device=dev)
    q_lo = torch.maximum(qb_abs * bs, torch.tensor(Lk - Lq, device=dev))  # first and last query of each block
    q_hi = torch.minimum(qb_abs * bs + bs, torch.tensor(Lk, device=dev)) - 1
    kb = torch.arange(nKB, device=dev)
    valid = kb[None, :] * bs <= q_hi[:, None]  # some key of the block is not in the future
    if window is not None:
        valid &= (kb[None, :] * bs + bs - 1) > (q_lo[:, None] - window)
    return valid, qb_abs, q_lo, q_hi


def density(mask: torch.Tensor, Lq: int, Lk: int, bs: int, window: int | None = None) -> float:
    """The fraction of the visible key blocks that `mask` keeps."""
    valid, *_ = _visible(Lq, Lk, bs, window, mask.device)
    return float(mask.sum() / (valid.sum() * mask.shape[0] * mask.shape[1]))


def _blocks(x: torch.Tensor, bs: int, front: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, H, L, D] -> ([B, H, n, bs, D] zero-padded, [n, bs] which slots are real), `front` pad first."""
    L = x.shape[2]
    n = math.ceil((front + L) / bs)
    padded = torch.nn.functional.pad(x, (0, 0, front, n * bs - L - front))
    real = torch.zeros(n * bs, dtype=torch.bool, device=x.device)
    real[front:front + L] = True
    return padded.view(*x.shape[:2], n, bs, x.shape[3]), real.view(n, bs)


def _block_means(x: torch.Tensor, bs: int, front: int = 0) -> torch.Tensor:
    """[B, H, L, D] -> [B, H, n, D] fp32: the mean of each block's real rows (`front` padding first)."""
    if front:
        blocks, real = _blocks(x.float(), bs, front)
        return blocks.sum(3) / real.sum(1).clamp(min=1)[:, None].to(blocks.dtype)
    B, H, L, D = x.shape
    full = L // bs  # without padding: the full blocks as a view, then the partial one
    means = x[:, :, : full * bs].reshape(B, H, full, bs, D).sum(3, dtype=torch.float32) / bs
    if L % bs:
        means = torch.cat([means, x[:, :, full * bs:].sum(2, keepdim=True, dtype=torch.float32) / (L % bs)], 2)
    return means


def _keep_to_mass(p: torch.Tensor, gamma: float) -> torch.Tensor:
    """Along the last dim: the fewest entries, largest first, whose sum reaches `gamma` of the total."""
    p = p / p.sum(-1, keepdim=True).clamp(min=1e-30)
    sorted_p, order = p.sort(-1, descending=True)
    before = sorted_p.cumsum(-1) - sorted_p
    return torch.zeros_like(p, dtype=torch.bool).scatter(-1, order, (before < gamma) & (sorted_p > 0))


def _jsd_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    m = (a + b) / 2

    def kl(x: torch.Tensor) -> torch.Tensor:
        return torch.where(x > 0, x * (x.clamp(min=1e-30).log() - m.clamp(min=1e-30).log()), 0.0).sum(-1)

    return (0.5 * kl(a) + 0.5 * kl(b)).clamp(min=0).sqrt()


def _diagonal_sums(probe: torch.Tensor) -> torch.Tensor:
    """`[B, H, p, Lk]` attention of the last `p` queries -> `[B, H, Lk]` its mass at each distance
    query - key: the sums along the diagonals, read through a strided view of the padded rows."""
    B, H, p, Lk = probe.shape
    width = Lk + 2 * p
    padded = torch.nn.functional.pad(probe, (p, p))  # row i, column c: key c - p
    # Row i read from column i: entry t is key i + t - p, at distance Lk - t from query Lk - p + i.
    sums = padded.as_strided((B, H, p, Lk + p), (H * p * width, p * width, width + 1, 1)).sum(2)
    return sums[..., 1:Lk + 1].flip(-1)


def flexprefill_mask(q: torch.Tensor, k: torch.Tensor, params: FlexPrefillParams = FlexPrefillParams(), *,
                     scale: float | None = None, window: int | None = None) -> torch.Tensor:
    """Which key blocks each query block keeps: bool `[B, Hq, nQB, nKB]`, query blocks being the
    absolute blocks `first .. nKB-1` that hold the queries."""
    B, Hq, Lq, D = q.shape
    Lk, groups, bs = k.shape[2], Hq // k.shape[1], params.block_size
    scale = scale if scale is not None else D ** -0.5
    offset, dev = Lk - Lq, q.device
    nKB, first = math.ceil(Lk / bs), (Lk - Lq) // bs
    valid, qb_abs, q_lo, q_hi = _visible(Lq, Lk, bs, window, dev)
    kb = torch.arange(nKB, device=dev)
    if params.gamma >= 1.0:
        return valid.expand(B, Hq, -1, -1).clone()

    kbar = _block_means(k, bs).repeat_interleave(groups, dim=1)  # [B, Hq, nKB, D]
    qbar = _block_means(q, bs, front=offset - first * bs)  # [B, Hq, nQB, D]
    block_scores = (qbar @ kbar.transpose(-1, -2)) * scale
    estimate = torch.softmax(block_scores.masked_fill(~valid, float("-inf")), dim=-1)  # [B, Hq, nQB, nKB]

    # The probe: the last query block against every key, exactly (a KV head's query heads in one product).
    p = min(bs, Lq)
    probe_pos = torch.arange(Lk - p, Lk, device=dev)
    k_pos = torch.arange(Lk, device=dev)
    probe = q[:, :, -p:].float().reshape(B, k.shape[1], groups * p, D) @ k.float().transpose(-1, -2)
    probe = probe.view(B, Hq, p, Lk).mul_(scale).masked_fill_(~allowed(probe_pos, k_pos, window), float("-inf"))
    probe = torch.softmax(probe, dim=-1)  # [B, Hq, p, Lk]
    columns = probe.sum(2)  # attention mass per key
    pad = nKB * bs - Lk
    true_blocks = torch.nn.functional.pad(columns / p, (0, pad)).view(B, Hq, nKB, bs).sum(-1)
    query_aware = _jsd_distance(estimate[:, :, -1], true_blocks) < params.tau  # [B, Hq]

    aware = _keep_to_mass(estimate, params.gamma)

    vertical = _keep_to_mass(columns, params.gamma)  # key columns
    slash = _keep_to_mass(_diagonal_sums(probe), params.gamma)  # diagonals, by distance query - key
    vertical_blocks = torch.nn.functional.pad(vertical, (0, pad)).view(B, Hq, nKB, bs).any(-1)
    slash_count = torch.nn.functional.pad(slash.long().cumsum(-1), (1, 0))  # [B, Hq, Lk + 1]
    d_lo = (q_lo[:, None] - (kb[None, :] * bs + bs - 1)).clamp(min=0, max=Lk - 1)
    d_hi = (q_hi[:, None] - kb[None, :] * bs).clamp(min=0, max=Lk - 1)
    hits = (slash_count.gather(-1, (d_hi + 1).flatten().expand(B, Hq, -1))
            - slash_count.gather(-1, d_lo.flatten().expand(B, Hq, -1))).view(B, Hq, len(qb_abs), nKB)
    shape = vertical_blocks[:, :, None, :] | (hits > 0)

    keep = torch.where(query_aware[:, :, None, None], aware, shape)
    forced = (kb[None, :] < params.sink_blocks) | ((qb_abs[:, None] - kb[None, :] >= 0)
                                                     & (qb_abs[:, None] - kb[None, :] < params.local_blocks))
    rank = estimate.argsort(-1, descending=True).argsort(-1)  # 0 for each query block's best block
    keep |= rank < math.ceil(params.min_budget / bs)
    if params.max_budget is not None:
        chosen_rank = torch.where(keep, estimate, -1.0).argsort(-1, descending=True).argsort(-1)
        keep &= chosen_rank < params.max_budget // bs
    return (keep | forced) & valid


def kept_blocks(mask: torch.Tensor) -> torch.Tensor:
    """Each query block's kept key blocks in order, padded with -1 to the most any keeps:
    `[B, Hq, nQB, kept]` from the bool `[B, Hq, nQB, nKB]` mask (the one host synchronisation)."""
    nKB = mask.shape[-1]
    arange = torch.arange(nKB, device=mask.device)
    order = torch.where(mask, arange, nKB + arange).sort(-1).values[..., : int(mask.sum(-1).max())]
    return torch.where(order < nKB, order, -1)


def block_sparse_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, block_size: int, *,
                           scale: float | None = None, window: int | None = None,
                           max_elements: int = 1 << 27) -> torch.Tensor:
    """Attention of each query block over its kept key blocks only (`mask` from `flexprefill_mask`).

    The query heads that share a KV head (GQA) share one gather of the blocks any of them keeps;
    each head then attends to its own blocks only."""
    B, Hq, Lq, D = q.shape
    Hkv, Lk, bs = k.shape[1], k.shape[2], block_size
    groups = Hq // Hkv
    scale = scale if scale is not None else D ** -0.5
    offset, dev = Lk - Lq, q.device
    nKB, first = math.ceil(Lk / bs), (Lk - Lq) // bs
    nQB = nKB - first
    qblocks, q_real = _blocks(q.float(), bs, front=offset - first * bs)
    qblocks = qblocks.view(B, Hkv, groups, nQB, bs, D)
    kblocks, _ = _blocks(k.float(), bs)  # [B, Hkv, nKB, bs, D]
    vblocks, _ = _blocks(v.float(), bs)
    per_head = mask.view(B, Hkv, groups, nQB, nKB)
    idx = kept_blocks(per_head.any(2))  # [B, Hkv, nQB, kept]: what any head of the group keeps
    kept, idx_ok = idx.shape[-1], idx >= 0
    idx = torch.where(idx_ok, idx, 0)
    head_ok = per_head.gather(-1, idx[:, :, None].expand(B, Hkv, groups, nQB, kept)) & idx_ok[:, :, None]
    b = torch.arange(B, device=dev)[:, None, None, None]
    h = torch.arange(Hkv, device=dev)[None, :, None, None]
    out = torch.empty(B, Hkv, groups, nQB, bs, D, device=dev)
    step = max(1, max_elements // max(1, B * Hq * kept * bs * max(bs, D)))
    for g in range(0, nQB, step):  # groups of query blocks, to bound memory (not one block at a time)
        sl = slice(g, min(nQB, g + step))
        ks, vs = kblocks[b, h, idx[:, :, sl]], vblocks[b, h, idx[:, :, sl]]  # [B, Hkv, G, kept, bs, D]
        scores = torch.einsum("bhrgqd,bhgskd->bhrgqsk", qblocks[:, :, :, sl], ks) * scale
        q_pos = ((first + torch.arange(sl.start, sl.stop, device=dev))[:, None] * bs
                 + torch.arange(bs, device=dev))[None, None, None, :, :, None, None]
        k_pos = (idx[:, :, sl, :, None] * bs + torch.arange(bs, device=dev))[:, :, None, :, None]
        ok = (k_pos <= q_pos) & (k_pos < Lk) & head_ok[:, :, :, sl, None, :, None]
        if window is not None:
            ok &= q_pos - k_pos < window
        scores = scores.masked_fill(~ok, float("-inf")).flatten(-2)
        probs = torch.softmax(scores, dim=-1).nan_to_num(0.0).view_as(ok)  # padding queries see nothing
        out[:, :, :, sl] = torch.einsum("bhrgqsk,bhgskd->bhrgqd", probs, vs)
    return out.view(B, Hq, nQB, bs, D).flatten(2, 3)[:, :, q_real.flatten()].to(q.dtype)
