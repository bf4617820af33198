"""FlexPrefill's block-sparse attention as a Triton kernel: one program per tile of `BLOCK_M`
queries (within a query block) and head walks that block's kept key blocks, `BLOCK_N` keys at a
time, with an online softmax, causal and windowed inside the blocks. Both products run on the
tensor cores in the inputs' dtype, accumulating in fp32 (fp32 inputs multiply in IEEE fp32). The
block pattern comes from `flexprefill_mask` (torch). On a GPU this is the kernel the sparse prefill
uses; on a CPU it runs under `TRITON_INTERPRET=1`."""

import math

import torch
import triton
import triton.language as tl

from attention_runtime.sparse.flexprefill import kept_blocks

LOG2E = 1.4426950408889634


@triton.jit
def _block_sparse(Q, K, V, IDX, COUNT, OUT, Lq, Lk, NQB, KEPT, first, qk_scale, window,
                  H_Q: tl.constexpr, H_KV: tl.constexpr, D: tl.constexpr, BS: tl.constexpr,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, PRECISION: tl.constexpr):
    tile = tl.program_id(0)  # BLOCK_M queries of the query block tile // (BS // BLOCK_M)
    bh = tl.program_id(1)
    qb = tile // (BS // BLOCK_M)
    b = bh // H_Q
    hk = (bh % H_Q) // (H_Q // H_KV)
    d = tl.arange(0, D)
    rows = (first + qb) * BS + (tile % (BS // BLOCK_M)) * BLOCK_M + tl.arange(0, BLOCK_M)  # absolute positions
    qi = rows - (Lk - Lq)
    rmask = (qi >= 0) & (qi < Lq)
    q = tl.load(Q + (bh * Lq + qi[:, None]) * D + d[None, :], mask=rmask[:, None], other=0.0)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, D], tl.float32)
    kv = K.dtype.element_ty
    base = (b * H_KV + hk) * Lk
    row_idx = (bh * NQB + qb) * KEPT
    for t in range(0, tl.load(COUNT + bh * NQB + qb) * (BS // BLOCK_N)):  # kept blocks x their key tiles
        kb = tl.load(IDX + row_idx + t // (BS // BLOCK_N))
        cols = kb * BS + (t % (BS // BLOCK_N)) * BLOCK_N + tl.arange(0, BLOCK_N)
        cmask = cols < Lk
        k = tl.load(K + (base + cols[:, None]) * D + d[None, :], mask=cmask[:, None], other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale  # in log2 units
        ok = (cols[None, :] <= rows[:, None]) & cmask[None, :]
        if window > 0:
            ok = ok & (rows[:, None] - cols[None, :] < window)
        s = tl.where(ok, s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp2(m_i - m_safe)
        p = tl.exp2(s - m_safe[:, None])
        v = tl.load(V + (base + cols[:, None]) * D + d[None, :], mask=cmask[:, None], other=0.0)
        acc = acc * alpha[:, None] + tl.dot(p.to(kv), v, input_precision=PRECISION)
        l_i = l_i * alpha + tl.sum(p, 1)
        m_i = m_new
    out = acc / tl.where(l_i > 0, l_i, 1.0)[:, None]
    tl.store(OUT + (bh * Lq + qi[:, None]) * D + d[None, :], out.to(OUT.dtype.element_ty), mask=rmask[:, None])


def block_sparse_attention_triton(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor,
                                  block_size: int, *, scale: float | None = None, window: int | None = None) -> torch.Tensor:
    """Same contract as `flexprefill.block_sparse_attention`; block_size and head_dim powers of two, >= 16."""
    B, Hq, Lq, D = q.shape
    Lk = k.shape[2]
    scale = scale if scale is not None else D ** -0.5
    nKB = math.ceil(Lk / block_size)
    first = (Lk - Lq) // block_size
    idx = kept_blocks(mask).to(torch.int32).contiguous()
    count = mask.sum(-1, dtype=torch.int32).contiguous()
    block_m = min(block_size, 128 if D <= 128 else 64)  # the accumulator stays in registers
    block_n = min(block_size, 64 if D <= 128 else 32)
    out = torch.empty_like(q, memory_format=torch.contiguous_format)
    grid = ((nKB - first) * (block_size // block_m), B * Hq)
    _block_sparse[grid](q.contiguous(), k.contiguous(), v.contiguous(), idx, count, out, Lq, Lk, nKB - first,
                        idx.shape[-1], first, scale * LOG2E, window or 0, H_Q=Hq, H_KV=k.shape[1], D=D,
                        BS=block_size, BLOCK_M=block_m, BLOCK_N=block_n,
                        PRECISION="ieee" if q.dtype == torch.float32 else "tf32", num_warps=8 if D >= 128 else 4)
    return out

