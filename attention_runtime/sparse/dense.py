"""Exact attention: the reference the sparse ops are tested against."""

import torch


def allowed(q_pos: torch.Tensor, k_pos: torch.Tensor, window: int | None) -> torch.Tensor:
    """Which keys each query may see: causal, and within `window` positions when set."""
    ok = k_pos[None, :] <= q_pos[:, None]
    if window is not None:
        ok &= q_pos[:, None] - k_pos[None, :] < window
    return ok


def expand_kv(x: torch.Tensor, groups: int) -> torch.Tensor:
    """[B, Hkv, L, D] -> [B, Hkv * groups, L, D]: each KV head serves `groups` query heads (GQA)."""
    return x if groups == 1 else x.repeat_interleave(groups, dim=1)


def dense_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, scale: float | None = None,
                    window: int | None = None) -> torch.Tensor:
    """Softmax attention of the last `Lq` positions over all `Lk` keys, in fp32, returned in q's dtype."""
    B, Hq, Lq, D = q.shape
    Lk = k.shape[2]
    scale = scale if scale is not None else D ** -0.5
    q_pos = torch.arange(Lk - Lq, Lk, device=q.device)
    mask = allowed(q_pos, torch.arange(Lk, device=q.device), window)
    groups = Hq // k.shape[1]
    scores = torch.matmul(q.float(), expand_kv(k, groups).float().transpose(-1, -2)) * scale
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), expand_kv(v, groups).float()).to(q.dtype)
