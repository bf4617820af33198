"""The sparse ops over vLLM-CPU's paged KV cache: what the CPU backend runs for a routed request.

Layout (ISAs `vec` and `vec16`, the ones x86 without AMX uses; checked against vLLM's own
`cpu_attn_reshape_and_cache` in tests): a layer's cache is `[num_blocks, num_kv_heads, block_size,
2 * head_size]`, and each block and KV head holds its keys transposed, `[head_size, block_size]`,
followed by its values, `[block_size, head_size]`. A request's `blocks` (its row of the block
table) list the physical blocks of positions 0, bs, 2*bs, ...
"""

from dataclasses import replace

import torch

from attention_runtime.sparse.dense import dense_attention
from attention_runtime.sparse.flexprefill import FlexPrefillParams, flexprefill_sparse
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


class ChunkSums:
    """The running sum of the keys in each chunk of `chunk_size` slots of each physical block, per
    KV head, `[num_blocks, block_size // chunk_size, H, D]` fp32: HCAM's chunk summaries, kept up
    to date as the cache is written. A chunk written at its first slot is starting over (a new
    sequence, or the block reused), so its sum is reset."""

    def __init__(self, chunk_size: int) -> None:
        self.cs = chunk_size
        self.sums: torch.Tensor | None = None

    def add(self, key: torch.Tensor, slots: torch.Tensor, num_blocks: int, block_size: int) -> None:
        """Keys `[T, H, D]` written at cache `slots` `[T]` (negative: padding, skipped)."""
        if self.sums is None or self.sums.shape[0] != num_blocks:
            if block_size % self.cs:
                raise ValueError(f"HCAM's chunk size, {self.cs}, must divide the KV block size, {block_size}.")
            self.sums = torch.zeros(num_blocks, block_size // self.cs, key.shape[1], key.shape[2], device=key.device)
        key, slots = key[: slots.shape[0]], slots.long()
        real = slots >= 0
        key, slots = key[real], slots[real]
        block, chunk = slots // block_size, (slots % block_size) // self.cs
        starts = slots % self.cs == 0
        self.sums[block[starts], chunk[starts]] = 0.0
        self.sums.index_put_((block, chunk), key.float(), accumulate=True)

    def means(self, blocks: torch.Tensor, length: int) -> torch.Tensor:
        """The mean key of each full chunk of a request: `[1, H, length // cs, D]`."""
        sums = self.sums[blocks].flatten(0, 1)[: length // self.cs]  # [chunks, H, D], in position order
        return (sums / self.cs).permute(1, 0, 2)[None]


def flexprefill_paged(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, blocks: torch.Tensor, length: int,
                      params: FlexPrefillParams, scale: float) -> tuple[torch.Tensor | None, float]:
    """FlexPrefill for one request's new tokens `q [n, Hq, D]` (the last n of `length`): the output
    `[n, Hq, D]` and the fraction of blocks kept, or None and that fraction when it is above
    `params.dense_above` (the platform's dense kernel is then faster, and exact)."""
    k, v = sequence(keys, values, blocks, length)
    out, kept = flexprefill_sparse(q.transpose(0, 1)[None], k, v, params, scale=scale)
    return (out[0].transpose(0, 1) if out is not None else None), kept


def hcam_paged(q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, blocks: torch.Tensor, length: int,
               sums: ChunkSums, params: HCAMParams, scale: float) -> tuple[torch.Tensor, bool]:
    """HCAM decode for one request's new token `q [Hq, D]` over its `length` cached keys: the output
    `[Hq, D]`, and False when the context had fewer candidate chunks than top-k (so dense attention ran)."""
    Hq, H, bs = q.shape[0], keys.shape[1], keys.shape[3]
    groups, cs = Hq // H, sums.cs
    where = hcam_select(q[None, :, None], length, sums.means(blocks, length),
                        replace(params, chunk_size=cs, min_context=0), scale)
    if where is None:
        k, v = sequence(keys, values, blocks, length)
        return dense_attention(q[None, :, None], k, v, scale=scale)[0, :, 0], False
    top, rest = where
    chosen = (top[0, :, :, None] * cs + torch.arange(cs, device=q.device)).flatten(1)  # [H, top_k * cs] positions
    head = torch.arange(H, device=q.device)[:, None]
    top_blocks, top_slots = blocks[chosen // bs], chosen % bs
    rest_blocks, rest_slots = blocks[rest // bs], rest % bs
    parts = [(keys[top_blocks, head, :, top_slots][None], values[top_blocks, head, top_slots][None]),  # [1, H, n, D]
             (keys[rest_blocks, :, :, rest_slots].transpose(0, 1)[None],
              values[rest_blocks, :, rest_slots].transpose(0, 1)[None])]
    return attend_parts(q.view(1, H, groups, -1), parts, scale).reshape(Hq, -1).to(q.dtype), True
