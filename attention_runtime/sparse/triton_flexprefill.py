"""FlexPrefill's block-sparse attention as a Triton kernel: one program per (query block,
sequence and head) attends over that block's kept key blocks with an online softmax, causal and
windowed inside the blocks. The block pattern comes from `flexprefill_mask` (torch). On a GPU
this is the kernel the vLLM backend uses; on a CPU it runs under `TRITON_INTERPRET=1`."""

import math

import torch
import triton
import triton.language as tl

from attention_runtime.sparse.dense import dense_attention
from attention_runtime.sparse.flexprefill import FlexPrefillParams, flexprefill_mask, kept_blocks


@triton.jit
def _block_sparse(Q, K, V, IDX, OUT, Lq, Lk, NQB, KEPT, first, scale, window,
                  H_Q: tl.constexpr, H_KV: tl.constexpr, D: tl.constexpr, BS: tl.constexpr):
    qb = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H_Q
    hk = (bh % H_Q) // (H_Q // H_KV)
    d = tl.arange(0, D)
    rows = (first + qb) * BS + tl.arange(0, BS)  # absolute positions of this block's queries
    qi = rows - (Lk - Lq)
    rmask = (qi >= 0) & (qi < Lq)
    q = tl.load(Q + (bh * Lq + qi[:, None]) * D + d[None, :], mask=rmask[:, None], other=0.0).to(tl.float32)
    m_i = tl.full([BS], float("-inf"), tl.float32)
    l_i = tl.zeros([BS], tl.float32)
    acc = tl.zeros([BS, D], tl.float32)
    for j in range(0, KEPT):
        kb = tl.load(IDX + (bh * NQB + qb) * KEPT + j)
        if kb >= 0:
            cols = kb * BS + tl.arange(0, BS)
            cmask = cols < Lk
            base = (b * H_KV + hk) * Lk
            k = tl.load(K + (base + cols[:, None]) * D + d[None, :], mask=cmask[:, None], other=0.0).to(tl.float32)
            v = tl.load(V + (base + cols[:, None]) * D + d[None, :], mask=cmask[:, None], other=0.0).to(tl.float32)
            s = tl.dot(q, tl.trans(k)) * scale
            ok = (cols[None, :] <= rows[:, None]) & cmask[None, :]
            if window > 0:
                ok = ok & (rows[:, None] - cols[None, :] < window)
            s = tl.where(ok, s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, 1))
            m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
            alpha = tl.exp(m_i - m_safe)
            p = tl.exp(s - m_safe[:, None])
            acc = acc * alpha[:, None] + tl.dot(p, v)
            l_i = l_i * alpha + tl.sum(p, 1)
            m_i = m_new
    out = acc / tl.where(l_i > 0, l_i, 1.0)[:, None]
    tl.store(OUT + (bh * Lq + qi[:, None]) * D + d[None, :], out, mask=rmask[:, None])


def block_sparse_attention_triton(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor,
                                  block_size: int, *, scale: float | None = None, window: int | None = None) -> torch.Tensor:
    """Same contract as `flexprefill.block_sparse_attention`; block_size and head_dim powers of two, >= 16."""
    B, Hq, Lq, D = q.shape
    Lk = k.shape[2]
    scale = scale if scale is not None else D ** -0.5
    nKB = math.ceil(Lk / block_size)
    first = (Lk - Lq) // block_size
    idx = kept_blocks(mask).to(torch.int32).contiguous()
    kept = idx.shape[-1]
    out = torch.empty(B, Hq, Lq, D, device=q.device, dtype=torch.float32)
    _block_sparse[(nKB - first, B * Hq)](q.contiguous(), k.contiguous(), v.contiguous(), idx, out, Lq, Lk, nKB - first,
                                        kept, first, scale, window or 0, H_Q=Hq, H_KV=k.shape[1], D=D, BS=block_size)
    return out.to(q.dtype)


def flexprefill_attention_triton(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 params: FlexPrefillParams = FlexPrefillParams(), *, scale: float | None = None,
                                 window: int | None = None) -> torch.Tensor:
    if q.shape[2] <= params.dense_below():
        return dense_attention(q, k, v, scale=scale, window=window)
    mask = flexprefill_mask(q, k, params, scale=scale, window=window)
    return block_sparse_attention_triton(q, k, v, mask, params.block_size, scale=scale, window=window)
