"""HCAM decode as a Triton kernel: one program per (sequence, query head) attends over a list of
cache positions (its top-k chunks, the sink, the local window) with an online softmax, reading
keys and values where they lie. Positions come from `hcam_positions` (torch). On a GPU this is
the kernel the vLLM backend uses; on a CPU it runs under `TRITON_INTERPRET=1` for the tests.
"""

import torch
import triton
import triton.language as tl

from attention_runtime.sparse.dense import dense_attention
from attention_runtime.sparse.hcam import HCAMParams, hcam_positions


@triton.jit
def _gather_attention(Q, K, V, POS, OUT, L, N, scale,
                      H_Q: tl.constexpr, H_KV: tl.constexpr, D: tl.constexpr, BLOCK_N: tl.constexpr):
    pid = tl.program_id(0)  # one (sequence, query head)
    b = pid // H_Q
    hk = (pid % H_Q) // (H_Q // H_KV)
    d = tl.arange(0, D)
    q = tl.load(Q + pid * D + d).to(tl.float32)
    base = (b * H_KV + hk) * L * D
    m_i = tl.max(tl.full([BLOCK_N], float("-inf"), tl.float32), 0)
    l_i = tl.sum(tl.zeros([BLOCK_N], tl.float32), 0)
    acc = tl.zeros([D], tl.float32)
    for start in range(0, N, BLOCK_N):
        n = start + tl.arange(0, BLOCK_N)
        pos = tl.load(POS + pid * N + n, mask=n < N, other=-1)
        ok = pos >= 0
        k = tl.load(K + base + pos[:, None] * D + d[None, :], mask=ok[:, None], other=0.0).to(tl.float32)
        s = tl.where(ok, tl.sum(k * q[None, :], 1) * scale, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 0))
        alpha = tl.exp(m_i - m_new)
        p = tl.exp(s - m_new)
        v = tl.load(V + base + pos[:, None] * D + d[None, :], mask=ok[:, None], other=0.0).to(tl.float32)
        acc = acc * alpha + tl.sum(p[:, None] * v, 0)
        l_i = l_i * alpha + tl.sum(p, 0)
        m_i = m_new
    tl.store(OUT + pid * D + d, acc / l_i)


def hcam_decode_triton(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, params: HCAMParams = HCAMParams(), *,
                       summaries: torch.Tensor | None = None, scale: float | None = None,
                       block_n: int = 64) -> torch.Tensor:
    """Same contract as `hcam_decode`; head_dim must be a power of two."""
    B, Hq, _, D = q.shape
    scale = scale if scale is not None else D ** -0.5
    where = hcam_positions(q, k, params, summaries, scale)
    if where is None:
        return dense_attention(q, k, v, scale=scale)
    chosen, rest = where
    chosen = chosen.repeat_interleave(Hq // k.shape[1], dim=1)  # each query head: its KV head's chunks
    pos = torch.cat([chosen, rest.expand(B, Hq, -1)], -1).to(torch.int32).contiguous()  # valid first
    out = torch.empty(B * Hq, D, device=q.device, dtype=torch.float32)
    _gather_attention[(B * Hq,)](q.contiguous(), k.contiguous(), v.contiguous(), pos, out, k.shape[2], pos.shape[-1],
                                 scale, H_Q=Hq, H_KV=k.shape[1], D=D, BLOCK_N=block_n)
    return out.view(B, Hq, 1, D).to(q.dtype)
