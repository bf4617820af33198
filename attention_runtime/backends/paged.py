"""The sparse ops over vLLM-CPU's paged KV cache: what the CPU backend runs for a routed request.

Layout (ISAs `vec` and `vec16`, the ones x86 without AMX uses; checked against vLLM's own
`cpu_attn_reshape_and_cache` in tests): a layer's cache is `[num_blocks, num_kv_heads, block_size,
2 * head_size]`, and each block and KV head holds its keys transposed, `[head_size, block_size]`,
followed by its values, `[block_size, head_size]`. A request's `blocks` (its row of the block
table) list the physical blocks of positions 0, bs, 2*bs, ...
"""

from dataclasses import replace

import torch

from attention_runtime.sparse.dense import dense_attention, expand_kv
from attention_runtime.sparse.flexprefill import FlexPrefillParams, flexprefill_attention
from attention_runtime.sparse.hcam import HCAMParams, attend_parts, hcam_select

LAYOUT_ISAS = ("vec", "vec16")  # the CPU kernels whose cache layout is the one above


def split(kv_cache: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Views of one layer's cache: keys `[nb, H, D, bs]`, values `[nb, H, bs, D]`."""
    nb, H, bs, two_d = kv_cache.shape
    halves = kv_cache.view(nb, H, 2, bs * (two_d // 2))
    return halves[:, :, 0].view(nb, H, two_d // 2, bs), halves[:, :, 1].view(nb, H, bs, two_d // 2)


def sequence(keys: torch.Tensor, values: torch.Tensor, blocks: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `length` keys and values of a request, contiguous: `[1, H, length, D]` each."""
    H, D = keys.shape[1], keys.shape[2]
    k = keys[blocks].permute(1, 0, 3, 2).reshape(H, -1, D)[:, :length]
    v = values[blocks].permute(1, 0, 2, 3).reshape(H, -1, D)[:, :length]
    return k[None], v[None]


class BlockSums:
    """The running sum of the keys in each physical block and KV head, `[num_blocks, H, D]` fp32:
    HCAM's chunk summaries, kept up to date as the cache is written. A block written at its first
    slot is starting over (a new sequence, or the block reused), so its sum is reset."""

    def __init__(self) -> None:
        self.sums: torch.Tensor | None = None

    def add(self, key: torch.Tensor, slots: torch.Tensor, num_blocks: int, block_size: int) -> None:
        """Keys `[T, H, D]` written at cache `slots` `[T]` (negative: padding, skipped)."""
        if self.sums is None or self.sums.shape[0] != num_blocks:
            self.sums = torch.zeros(num_blocks, key.shape[1], key.shape[2], device=key.device)
        key, slots = key[: slots.shape[0]], slots.long()
        real = slots >= 0
        key, slots = key[real], slots[real]
        block = slots // block_size
        self.sums[block[slots % block_size == 0]] = 0.0
        self.sums.index_add_(0, block, key.float())


def flexprefill_paged(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, blocks: torch.Tensor, length: int,
                      params: FlexPrefillParams, scale: float) -> torch.Tensor:
    """FlexPrefill for one request's new tokens `q [n, Hq, D]` (the last n of `length`): `[n, Hq, D]`."""
    k, v = sequence(keys, values, blocks, length)
    return flexprefill_attention(q.transpose(0, 1)[None], k, v, params, scale=scale)[0].transpose(0, 1)


def hcam_paged(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, blocks: torch.Tensor, length: int,
               sums: torch.Tensor, params: HCAMParams, scale: float) -> torch.Tensor:
    """HCAM decode for one request's new token `q [Hq, D]` over its `length` cached keys: `[Hq, D]`
    (dense attention when the context has no more chunks than top-k)."""
    Hq, H, bs = q.shape[0], keys.shape[1], keys.shape[3]
    groups = Hq // H
    full = length // bs
    summaries = (sums[blocks[:full]] / bs).permute(1, 0, 2)[None]  # [1, H, full, D]
    where = hcam_select(q[None, :, None], length, summaries, replace(params, chunk_size=bs, min_context=0), scale)
    if where is None:
        k, v = sequence(keys, values, blocks, length)
        return dense_attention(q[None, :, None], k, v, scale=scale)[0, :, 0]
    top, rest = where
    physical = blocks[top[0]]  # [Hq, top_k]
    head = (torch.arange(Hq, device=q.device) // groups)[:, None]
    k_top = keys[physical, head].transpose(-1, -2).reshape(Hq, -1, keys.shape[2])  # [Hq, top_k * bs, D]
    v_top = values[physical, head].reshape(Hq, -1, keys.shape[2])
    rest_blocks, rest_slots = blocks[rest // bs], rest % bs
    k_rest = keys[rest_blocks, :, :, rest_slots].transpose(0, 1)[None]  # [1, H, n, D]
    v_rest = values[rest_blocks, :, rest_slots].transpose(0, 1)[None]
    parts = [(k_top[None], v_top[None]), (expand_kv(k_rest, groups), expand_kv(v_rest, groups))]
    return attend_parts(q[None], parts, scale)[0].to(q.dtype)
