"""The sparse ops over vLLM-CPU's paged KV cache: what the CPU backend runs for a routed request.

A layer's cache is `[num_blocks, num_kv_heads, block_size, 2 * head_size]`: per block and KV head,
its keys, then its values, each `block_size * head_size` numbers in the order of the kernel that
wrote them (checked against vLLM's own `cpu_attn_reshape_and_cache` in tests):
- `vec`, `vec16` (x86 without AMX, and float32 anywhere): keys transposed, `[head_size, block_size]`;
  values `[block_size, head_size]`.
- `amx` (bf16 on a CPU with AMX): packed in pairs for the tile instructions. Key (t, d) is at
  `[t // 16, d // 2, t % 16, d % 2]`; value (t, d) at `[d // 16, t // 2, d % 16, t % 2]`.
A request's `blocks` (its row of the block table) list the physical blocks of positions 0, bs, 2*bs, ...
"""

from dataclasses import replace

import torch

from attention_runtime.params import kernel_name
from attention_runtime.sparse.dense import dense_attention
from attention_runtime.sparse.flexprefill import FlexPrefillParams, flexprefill_sparse
from attention_runtime.sparse.hcam import HCAMParams, attend_parts, hcam_select

LAYOUT_ISAS = ("vec", "vec16", "amx")  # the CPU kernels whose cache layout `PagedKV` reads


class PagedKV:
    """One layer's paged cache, read as the kernel `isa` wrote it."""

    def __init__(self, kv_cache: torch.Tensor, isa: str) -> None:
        if isa not in LAYOUT_ISAS:
            raise ValueError(f"the {isa} CPU kernel's cache layout is not known")
        nb, H, bs, two_d = kv_cache.shape
        D = two_d // 2
        halves = kv_cache.view(nb, H, 2, bs * D)
        self.heads, self.block_size, self.layout = H, bs, isa
        self.kernel = kernel_name(isa, kv_cache.dtype)  # the dense kernel a sparse op stands in for
        if isa == "amx":
            self.k = halves[:, :, 0].view(nb, H, bs // 16, D // 2, 16, 2)
            self.v = halves[:, :, 1].view(nb, H, D // 16, bs // 2, 16, 2)
        else:
            self.k = halves[:, :, 0].view(nb, H, D, bs)
            self.v = halves[:, :, 1].view(nb, H, bs, D)

    def sequence(self, blocks: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The first `length` keys and values of a request, contiguous: `[1, H, length, D]` each."""
        H = self.heads
        if self.layout == "amx":
            k = self.k[blocks].permute(1, 0, 2, 4, 3, 5).reshape(H, -1, self.k.shape[3] * 2)
            v = self.v[blocks].permute(1, 0, 3, 5, 2, 4).reshape(H, -1, self.v.shape[2] * 16)
        else:
            k = self.k[blocks].permute(1, 0, 3, 2).reshape(H, -1, self.k.shape[2])
            v = self.v[blocks].permute(1, 0, 2, 3).reshape(H, -1, self.v.shape[3])
        return k[None, :, :length], v[None, :, :length]

    def at(self, block: torch.Tensor, head: torch.Tensor, slot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The keys and values at physical `block`, KV `head` and `slot` (broadcast together): `[..., D]` each."""
        if self.layout == "amx":
            return (self.k[block, head, slot // 16, :, slot % 16, :].flatten(-2),
                    self.v[block, head, :, slot // 2, :, slot % 2].flatten(-2))
        return self.k[block, head, :, slot], self.v[block, head, slot]


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


def flexprefill_paged(q: torch.Tensor, cache: PagedKV, blocks: torch.Tensor, length: int, params: FlexPrefillParams,
                      scale: float) -> tuple[torch.Tensor | None, float]:
    """FlexPrefill for one request's new tokens `q [n, Hq, D]` (the last n of `length`): the output
    `[n, Hq, D]` and the fraction of blocks kept, or None and that fraction when it is above
    `params.dense_limit` for the cache's kernel (that kernel is then faster, and exact)."""
    k, v = cache.sequence(blocks, length)
    out, kept = flexprefill_sparse(q.transpose(0, 1)[None], k, v, params, scale=scale, kernel=cache.kernel)
    return (out[0].transpose(0, 1) if out is not None else None), kept


def hcam_paged(q: torch.Tensor, cache: PagedKV, blocks: torch.Tensor, length: int, sums: ChunkSums,
               params: HCAMParams, scale: float) -> tuple[torch.Tensor, bool]:
    """HCAM decode for one request's new token `q [Hq, D]` over its `length` cached keys: the output
    `[Hq, D]`, and False when the context had fewer candidate chunks than top-k (so dense attention ran)."""
    Hq, H, bs = q.shape[0], cache.heads, cache.block_size
    groups, cs = Hq // H, sums.cs
    where = hcam_select(q[None, :, None], length, sums.means(blocks, length),
                        replace(params, chunk_size=cs, min_context=0), scale)
    if where is None:
        k, v = cache.sequence(blocks, length)
        return dense_attention(q[None, :, None], k, v, scale=scale)[0, :, 0], False
    top, rest = where  # top-k chunks [1, H, k]; the other positions attended (sink, local window, edges) [n]
    chosen = (top[0, :, :, None] * cs + torch.arange(cs, device=q.device)).flatten(1)  # [H, top_k * cs] positions
    head = torch.arange(H, device=q.device)[:, None]
    parts = [cache.at(blocks[chosen // bs], head, chosen % bs),  # [H, positions, D] keys and values
             cache.at(blocks[rest // bs][None], head, (rest % bs)[None])]
    parts = [(k[None], v[None]) for k, v in parts]
    return attend_parts(q.view(1, H, groups, -1), parts, scale).reshape(Hq, -1).to(q.dtype), True
