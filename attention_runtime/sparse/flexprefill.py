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
                       scale: float | None = None, window: int | None = None,
                       kernel: str = "vec") -> tuple[torch.Tensor | None, float]:
    """The index search, then the block-sparse attention: the output and the fraction of blocks
    kept, or None and that fraction when it is above `params.dense_limit(kernel)`, the dense kernel
    being then faster."""
    mask = flexprefill_mask(q, k, params, scale=scale, window=window)
    kept = density(mask, q.shape[2], k.shape[2], params.block_size, window)
    if kept > params.dense_limit(kernel):
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
                           max_elements: int = 1 << 26) -> torch.Tensor:
    """Attention of each query block over its kept key blocks only (`mask` from `flexprefill_mask`).

    Each (head, query block) gathers its own kept blocks and torch's fused attention (SDPA) reads
    them. Rows that keep as many blocks, and all keep or all drop their diagonal block, go in one
    call, so nothing is padded and the only mask is the causal triangle of the diagonal block,
    shared by the call (a sliding window needs one per row). `max_elements` bounds a call's keys."""
    B, Hq, Lq, D = q.shape
    Hkv, Lk, bs = k.shape[1], k.shape[2], block_size
    groups, dev = Hq // Hkv, q.device
    nKB, first = math.ceil(Lk / bs), (Lk - Lq) // bs
    nQB = nKB - first
    valid, qb_abs, *_ = _visible(Lq, Lk, bs, window, dev)
    flat_mask = (mask & valid).reshape(B * Hq * nQB, nKB)  # no block wholly in the future
    qblocks, q_real = _blocks(q, bs, front=Lk - Lq - first * bs)
    qrows = qblocks.reshape(B * Hq * nQB, bs, D)
    kflat = _blocks(k.to(q.dtype), bs)[0].reshape(B * Hkv * nKB, bs, D)
    vflat = _blocks(v.to(q.dtype), bs)[0].reshape(B * Hkv * nKB, bs, D)
    row = torch.arange(B * Hq * nQB, device=dev)
    diag = flat_mask[row, first + row % nQB]
    kind = flat_mask.sum(-1) * 2 + diag  # how many blocks a row keeps, and whether its diagonal
    order = kind.argsort()
    kinds, sizes = torch.unique_consecutive(kind[order], return_counts=True)
    kv_row = (order // (Hq * nQB)) * Hkv + (order // nQB) % Hq // groups  # each row's (batch, KV head)
    q_pos = (qb_abs[order % nQB])[:, None] * bs + torch.arange(bs, device=dev)  # [rows, bs]
    out = torch.zeros_like(qrows)
    calls = [(c // 2, c % 2 == 1, size, max(1, max_elements // max(1, c // 2 * bs * max(bs, D))))
             for c, size in zip(kinds.tolist(), sizes.tolist())]  # (blocks kept, diagonal kept, rows, rows a call)
    # one buffer for every call's gathered keys and values: fresh large tensors cost more in page faults than the copy
    room = max(min(size, step) * kept for kept, _, size, step in calls) * bs * D
    kbuf, vbuf = torch.empty(room, dtype=q.dtype, device=dev), torch.empty(room, dtype=q.dtype, device=dev)
    start = 0
    for kept, has_diag, size, step in calls:
        for r in range(start, start + size * (kept > 0), step):
            sl = slice(r, min(start + size, r + step))
            ix = kept_blocks(flat_mask[order[sl]])  # [n, kept], ascending: the diagonal last
            flat = (kv_row[sl, None] * nKB + ix).flatten()
            n = flat.numel() * bs * D
            ks = torch.index_select(kflat, 0, flat, out=kbuf[:n].view(-1, bs, D)).view(-1, 1, kept * bs, D)
            vs = torch.index_select(vflat, 0, flat, out=vbuf[:n].view(-1, bs, D)).view(-1, 1, kept * bs, D)
            if window is not None:
                k_pos = (ix[:, :, None] * bs + torch.arange(bs, device=dev)).flatten(1)
                d = q_pos[sl, :, None] - k_pos[:, None, :]
                bias = torch.zeros(d.shape, dtype=q.dtype, device=dev).masked_fill_((d < 0) | (d >= window),
                                                                                     float("-inf"))[:, None]
            elif has_diag:
                bias = _causal_tail(bs, kept * bs, q.dtype, dev)
            else:
                bias = None
            out[order[sl]] = torch.nn.functional.scaled_dot_product_attention(qrows[order[sl], None], ks, vs,
                                                                              attn_mask=bias, scale=scale)[:, 0]
        start += size
    if window is not None:
        out.nan_to_num_(0.0)  # a query whose window holds no kept key sees nothing
    return out.view(B, Hq, nQB * bs, D)[:, :, q_real.flatten()]


def _causal_tail(bs: int, keys: int, dtype: torch.dtype, dev: torch.device) -> torch.Tensor:
    """An additive mask `[bs, keys]`: the last `bs` keys are the queries' own block, seen causally."""
    bias = torch.zeros(bs, keys, dtype=dtype, device=dev)
    bias[:, keys - bs:] = torch.full((bs, bs), float("-inf"), dtype=dtype, device=dev).triu_(1)
    return bias
