"""HCAM decode as Triton kernels. A query attends to its KV head's top-k chunks, the sink and the
local window; the kernel computes those positions itself from the chunk numbers (from
`hcam_chunks`, torch), cuts them into splits, and runs one program per (sequence, KV head, split)
with an online softmax. The KV head's query heads go together (padded to 16 rows for the tensor
cores), so each key and value is read once per group. A second kernel merges the splits by
log-sum-exp (as flash-decoding does): a single sequence still fills the GPU, and a decode step is
a few launches, which matters under CUDA graphs. With no chunks and the sink covering the cache,
the same kernels are dense decoding. On a CPU they run under `TRITON_INTERPRET=1` for the tests.
"""

import torch
import triton
import triton.language as tl

from attention_runtime.sparse.dense import dense_attention
from attention_runtime.sparse.hcam import HCAMParams, chunk_means, hcam_chunks

LOG2E = 1.4426950408889634


@triton.jit
def _chunk_attention(Q, K, V, TOP, M, S, ACC, L, N_TOP, SINK_END, LOCAL_START, PER_SPLIT, qk_scale,
                     H_Q: tl.constexpr, H_KV: tl.constexpr, D: tl.constexpr, CS: tl.constexpr,
                     BLOCK_N: tl.constexpr, R_PAD: tl.constexpr, PRECISION: tl.constexpr):
    pid = tl.program_id(0)  # one (sequence, KV head): its query heads together, padded to R_PAD rows
    split = tl.program_id(1)
    splits = tl.num_programs(1)
    b = pid // H_KV
    hk = pid % H_KV
    r = tl.arange(0, R_PAD)
    rows = r < H_Q // H_KV
    qh = b * H_Q + hk * (H_Q // H_KV) + r  # the query heads' rows in [B * Hq]
    d = tl.arange(0, D)
    q = tl.load(Q + qh[:, None] * D + d[None, :], mask=rows[:, None], other=0.0)
    base = pid.to(tl.int64) * L * D
    m_i = tl.full([R_PAD], float("-inf"), tl.float32)
    l_i = tl.zeros([R_PAD], tl.float32)
    acc = tl.zeros([R_PAD, D], tl.float32)
    chunked = N_TOP * CS  # positions: the chunks' first, then the sink, then the local window
    lo = split * PER_SPLIT
    hi = tl.minimum(lo + PER_SPLIT, chunked + SINK_END + L - LOCAL_START)
    for start in range(lo, hi, BLOCK_N):
        n = start + tl.arange(0, BLOCK_N)
        ok = n < hi
        in_top = n < chunked
        chunk = tl.load(TOP + pid * N_TOP + n // CS, mask=ok & in_top, other=0)
        j = n - chunked
        pos = tl.where(in_top, chunk * CS + n % CS, tl.where(j < SINK_END, j, LOCAL_START + j - SINK_END))
        k = tl.load(K + base + pos[:, None] * D + d[None, :], mask=ok[:, None], other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale  # [R_PAD, BLOCK_N], log2 units
        s = tl.where(ok[None, :], s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = tl.exp2(m_i - m_safe)
        p = tl.exp2(s - m_safe[:, None])
        v = tl.load(V + base + pos[:, None] * D + d[None, :], mask=ok[:, None], other=0.0)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        l_i = l_i * alpha + tl.sum(p, 1)
        m_i = m_new
    tl.store(M + qh * splits + split, m_i, mask=rows)
    tl.store(S + qh * splits + split, l_i, mask=rows)
    tl.store(ACC + (qh[:, None] * splits + split) * D + d[None, :], acc, mask=rows[:, None])


@triton.jit
def _merge_splits(M, S, ACC, OUT, SPLITS, D: tl.constexpr, BLOCK_S: tl.constexpr):
    pid = tl.program_id(0)
    d = tl.arange(0, D)
    i = tl.arange(0, BLOCK_S)
    m_max = tl.max(tl.full([BLOCK_S], float("-inf"), tl.float32), 0)
    for s0 in range(0, SPLITS, BLOCK_S):
        m_max = tl.maximum(m_max, tl.max(tl.load(M + pid * SPLITS + s0 + i, mask=s0 + i < SPLITS, other=float("-inf")), 0))
    acc = tl.zeros([D], tl.float32)
    total = tl.sum(tl.zeros([BLOCK_S], tl.float32), 0)
    for s0 in range(0, SPLITS, BLOCK_S):
        idx = s0 + i
        w = tl.exp2(tl.load(M + pid * SPLITS + idx, mask=idx < SPLITS, other=float("-inf")) - m_max)
        total += tl.sum(w * tl.load(S + pid * SPLITS + idx, mask=idx < SPLITS, other=0.0), 0)
        part = tl.load(ACC + (pid * SPLITS + idx[:, None]) * D + d[None, :], mask=(idx < SPLITS)[:, None], other=0.0)
        acc += tl.sum(w[:, None] * part, 0)
    tl.store(OUT + pid * D + d, (acc / total).to(OUT.dtype.element_ty))


_SMS: dict[int, int] = {}


def _splits_for(q: torch.Tensor, kv_heads: int, n: int) -> int:
    """Positions per split: enough splits for about two programs per multiprocessor (256 off a GPU)."""
    if not q.is_cuda:
        return 256
    dev = q.device.index if q.device.index is not None else torch.cuda.current_device()
    sms = _SMS.setdefault(dev, torch.cuda.get_device_properties(dev).multi_processor_count)
    return triton.cdiv(n, max(1, 2 * sms // (q.shape[0] * kv_heads)))


def chunk_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, top: torch.Tensor | None, chunk_size: int,
                    sink_end: int, local_start: int, scale: float, *, block_n: int = 64,
                    per_split: int | None = None) -> torch.Tensor:
    """Attention of `q [B, Hq, 1, D]` over `k, v [B, Hkv, L, D]` at the chunks `top [B, Hkv, n]`
    (chunk numbers, of `chunk_size` keys; None for none), the positions before `sink_end` and those
    from `local_start`. `top=None, sink_end=L` is dense decoding."""
    B, Hq, _, D = q.shape
    L = k.shape[2]
    n_top = 0 if top is None else top.shape[-1]
    n = n_top * chunk_size + sink_end + L - local_start
    per_split = per_split or _splits_for(q, k.shape[1], n)
    per_split = triton.cdiv(per_split, block_n) * block_n
    splits = triton.cdiv(n, per_split)
    m = torch.empty(B * Hq, splits, device=q.device, dtype=torch.float32)
    s, acc = torch.empty_like(m), torch.empty(B * Hq, splits, D, device=q.device, dtype=torch.float32)
    top = top.contiguous() if top is not None else torch.zeros(1, device=q.device, dtype=torch.int64)
    _chunk_attention[(B * k.shape[1], splits)](
        q.contiguous(), k.contiguous(), v.contiguous(), top, m, s, acc, L, n_top, sink_end, local_start, per_split,
        scale * LOG2E, H_Q=Hq, H_KV=k.shape[1], D=D, CS=chunk_size, BLOCK_N=block_n,
        R_PAD=max(16, triton.next_power_of_2(Hq // k.shape[1])), PRECISION="ieee" if q.dtype == torch.float32 else "tf32")
    out = torch.empty(B, Hq, 1, D, device=q.device, dtype=q.dtype)
    _merge_splits[(B * Hq,)](m, s, acc, out, splits, D=D, BLOCK_S=16)
    return out


def hcam_decode_triton(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, params: HCAMParams = HCAMParams(), *,
                       summaries: torch.Tensor | None = None, scale: float | None = None,
                       block_n: int = 64, per_split: int | None = None) -> torch.Tensor:
    """Same contract as `hcam_decode`; head_dim must be a power of two."""
    B, Hkv, L, D = k.shape
    cs = params.chunk_size
    scale = scale if scale is not None else D ** -0.5
    if summaries is None:
        summaries = chunk_means(k, cs)
    where = hcam_chunks(q, L, summaries, params, scale)
    if where is None:
        return dense_attention(q, k, v, scale=scale)
    top, first, last = where
    return chunk_attention(q, k, v, top, cs, first * cs, last * cs, scale, block_n=block_n, per_split=per_split)
