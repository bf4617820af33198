"""The sparse ops over vLLM-CPU's paged KV cache, against vLLM's own CPU kernels: the cache is
written by vLLM's `cpu_attn_reshape_and_cache` into scattered blocks, and the exact reference is
vLLM's `cpu_attention_with_kv_cache` over the same cache. No engine is started."""

import pytest
import torch

from attention_runtime.params import SPARSE_FROM, kernel_name
from attention_runtime.routing import AttentionSettings, route
from attention_runtime.sparse import FlexPrefillParams, HCAMParams, flexprefill_attention, hcam_decode

ops = pytest.importorskip("vllm._custom_ops", reason="needs vLLM's CPU build")
from vllm.v1.attention.backends.cpu_attn import _get_attn_isa  # noqa: E402

from attention_runtime.backends import paged  # noqa: E402

BS, HQ, HKV, D = 128, 4, 2, 64


AMX = torch.cpu._is_amx_tile_supported() and torch.cpu._init_amx()  # the kernel's tile instructions need the OS's leave
LAYOUTS = ["vec", pytest.param("amx", marks=pytest.mark.skipif(not AMX, reason="needs a CPU with AMX"))]


def write_cache(length: int, layout: str = "vec", seed: int = 0):
    """A cache of 3 * the blocks needed, the sequence's blocks shuffled among them, written by vLLM's
    kernel for `layout`: `vec` in float32 (the kernel vLLM picks for it), `amx` in bf16."""
    dtype = torch.bfloat16 if layout == "amx" else torch.float32
    g = torch.Generator().manual_seed(seed)
    n = -(-length // BS)
    blocks = torch.randperm(3 * n, generator=g)[:n]
    cache = torch.zeros(3 * n, HKV, BS, 2 * D, dtype=dtype)
    key_cache, value_cache = cache.view(3 * n, HKV, 2 * BS, D).chunk(2, dim=2)
    k = torch.randn(length, HKV, D, generator=g).to(dtype)
    v = torch.randn(length, HKV, D, generator=g).to(dtype)
    positions = torch.arange(length)
    slots = blocks[positions // BS] * BS + positions % BS
    isa = _get_attn_isa(dtype, BS, D, "auto")
    assert isa == layout
    ops.cpu_attn_reshape_and_cache(k, v, key_cache, value_cache, slots, isa, k_scale=1.0, v_scale=1.0,
                                   kv_cache_dtype="auto")
    return cache, blocks, k, v, slots, isa


def vllm_attention(q, cache, blocks, length, isa, scale):
    """vLLM's CPU kernel: the new tokens `q [n, Hq, D]` are the last n of `length`."""
    n = q.shape[0]
    key_cache, value_cache = cache.view(cache.shape[0], HKV, 2 * BS, D).chunk(2, dim=2)
    start_loc, seq_lens = torch.tensor([0, n], dtype=torch.int32), torch.tensor([length], dtype=torch.int32)
    schedule = ops.cpu_attn_get_scheduler_metadata(
        num_reqs=1, num_heads=HQ, num_kv_heads=HKV, head_dim=D, seq_lens=seq_lens, dtype=q.dtype,
        query_start_loc=start_loc, causal=True, sliding_window_size=-1, isa=isa, enable_kv_split=False,
        dynamic_causal=None, kv_cache_dtype="auto")
    out = torch.empty_like(q)
    ops.cpu_attention_with_kv_cache(
        query=q, key_cache=key_cache, value_cache=value_cache, output=out, query_start_loc=start_loc,
        seq_lens=seq_lens, scale=scale, causal=True, alibi_slopes=None, sliding_window=-1,
        block_table=blocks[None].int(), softcap=0, scheduler_metadata=schedule, s_aux=None, dynamic_causal=None,
        k_scale=1.0, v_scale=1.0, kv_cache_dtype="auto")
    return out


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_cache_layout_is_read_back_as_written(layout):
    cache, blocks, k, v, _, isa = write_cache(1000, layout)
    kv = paged.PagedKV(cache, isa)
    k_read, v_read = kv.sequence(blocks, 1000)
    assert torch.equal(k_read[0].transpose(0, 1), k) and torch.equal(v_read[0].transpose(0, 1), v)
    positions = torch.tensor([0, 1, 15, 16, 17, 127, 128, 500, 999])
    head = torch.arange(HKV)[:, None]
    k_at, v_at = kv.at(blocks[positions // BS][None], head, (positions % BS)[None])  # [H, positions, D]
    assert torch.equal(k_at, k[positions].transpose(0, 1)) and torch.equal(v_at, v[positions].transpose(0, 1))


def test_an_unknown_cache_layout_is_refused():
    cache, *_ = write_cache(128)
    with pytest.raises(ValueError, match="neon CPU kernel's cache layout is not known"):
        paged.PagedKV(cache, "neon")


def test_chunk_sums_follow_the_cache_and_restart_when_a_block_is_reused():
    cache, blocks, k, _, slots, _ = write_cache(700)
    sums = paged.ChunkSums(chunk_size=32)
    sums.add(k[:300], slots[:300], cache.shape[0], BS)  # a prefill in two steps, then one decode token
    sums.add(k[300:699], slots[300:699], cache.shape[0], BS)
    padded = torch.cat([k[699:], torch.ones(2, HKV, D)])  # vLLM pads a step's tokens: slot -1, or no slot
    sums.add(padded, torch.cat([slots[699:], torch.tensor([-1])]), cache.shape[0], BS)
    means = sums.means(blocks, 700)[0]  # [H, 21 full chunks, D]
    assert means.shape == (HKV, 700 // 32, D)
    assert torch.allclose(means.transpose(0, 1), k[: 21 * 32].view(21, 32, HKV, D).mean(1), atol=1e-5)
    fresh = torch.randn(3, HKV, D)  # the first block is handed to a new sequence
    sums.add(fresh, blocks[0] * BS + torch.arange(3), cache.shape[0], BS)
    assert torch.allclose(sums.sums[blocks[0], 0], fresh.sum(0))


def same(out: torch.Tensor, ref: torch.Tensor, layout: str) -> bool:
    """Equal up to rounding: float32 within 2e-5; bf16 (the `amx` layout) within 1% relative error
    (measured: 0.11% to 0.29% against vLLM's AMX kernel on 6 seeds of each test's shapes)."""
    if layout == "vec":
        return torch.allclose(out, ref, atol=2e-5)
    return float((out.float() - ref.float()).norm() / ref.float().norm()) < 0.01


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("length,new", [(2048, 2048), (3000, 700)])
def test_flexprefill_over_the_paged_cache_equals_vllms_kernel_when_nothing_is_dropped(length, new, layout):
    cache, blocks, k, v, _, isa = write_cache(length, layout)
    q = torch.randn(new, HQ, D, generator=torch.Generator().manual_seed(1)).to(k.dtype)
    every_block = FlexPrefillParams(gamma=1.0, dense_above=1.0)
    out, kept = paged.flexprefill_paged(q, paged.PagedKV(cache, isa), blocks, length, every_block, D ** -0.5)
    assert kept == 1.0
    assert same(out, vllm_attention(q, cache, blocks, length, isa, D ** -0.5), layout)


def test_flexprefill_over_the_paged_cache_equals_the_op_on_contiguous_tensors():
    length, new = 4096, 1024
    cache, blocks, k, v, _, isa = write_cache(length)
    q = torch.randn(new, HQ, D, generator=torch.Generator().manual_seed(2))
    params = FlexPrefillParams(gamma=0.8, min_budget=256, dense_above=1.0)
    out, kept = paged.flexprefill_paged(q, paged.PagedKV(cache, isa), blocks, length, params, D ** -0.5)
    assert kept < 1.0
    ref = flexprefill_attention(q.transpose(0, 1)[None], k.transpose(0, 1)[None], v.transpose(0, 1)[None], params)
    assert torch.allclose(out, ref[0].transpose(0, 1), atol=1e-5)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_dense_pattern_is_left_to_vllms_kernel(layout):
    cache, blocks, k, v, _, isa = write_cache(4096, layout)
    q = torch.randn(1024, HQ, D, generator=torch.Generator().manual_seed(4)).to(k.dtype)  # random: flat attention
    out, kept = paged.flexprefill_paged(q, paged.PagedKV(cache, isa), blocks, 4096, FlexPrefillParams(), D ** -0.5)
    assert out is None and kept > FlexPrefillParams().dense_limit(isa)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_density_left_to_vllms_kernel_is_its_measured_break_even(layout):
    """A pattern keeping 36% of the blocks: used against `vec` (break-even 0.6), left to `amx` (0.2)."""
    cache, blocks, k, v, _, isa = write_cache(4096, layout)
    q = torch.randn(1024, HQ, D, generator=torch.Generator().manual_seed(4)).to(k.dtype)
    params = FlexPrefillParams(gamma=0.3)  # flat attention: 36% of the blocks reach 0.3 of the mass
    out, kept = paged.flexprefill_paged(q, paged.PagedKV(cache, isa), blocks, 4096, params, D ** -0.5)
    assert 0.25 < kept < 0.55
    assert (out is None) == (layout == "amx")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_hcam_over_the_paged_cache_matches_the_op_and_equals_vllms_kernel_with_all_chunks(layout):
    length = 5000
    cache, blocks, k, v, slots, isa = write_cache(length, layout)
    q = torch.randn(1, HQ, D, generator=torch.Generator().manual_seed(3)).to(k.dtype)
    kv = paged.PagedKV(cache, isa)
    sums = paged.ChunkSums(chunk_size=64)
    sums.add(k, slots, cache.shape[0], BS)
    params = HCAMParams(chunk_size=64, top_k=8, sink=128, local=512, min_context=0)
    out, sparse = paged.hcam_paged(q[0], kv, blocks, length, sums, params, D ** -0.5)
    assert sparse
    ref = hcam_decode(q.transpose(0, 1)[None], k.transpose(0, 1)[None], v.transpose(0, 1)[None], params)
    assert torch.allclose(out, ref[0, :, 0], atol=1e-5) if layout == "vec" else same(out, ref[0, :, 0], layout)
    every_chunk = HCAMParams(chunk_size=64, top_k=72, sink=128, local=256, min_context=0)  # all 72 candidate chunks
    out, sparse = paged.hcam_paged(q[0], kv, blocks, length, sums, every_chunk, D ** -0.5)
    assert sparse and same(out, vllm_attention(q, cache, blocks, length, isa, D ** -0.5)[0], layout)


def test_routes_follow_the_mode_and_the_thresholds():
    sparse = AttentionSettings(mode="sparse", prefill_from=2048, decode_from=3000)
    assert route(sparse, 2048, 2048) == "flexprefill"
    assert route(sparse, 2048, 2047 + 2048) == "flexprefill"  # a chunk of a long prompt
    assert route(sparse, 100, 5000) == "dense"  # too few new tokens to be worth it
    assert route(sparse, 1, 3000) == "hcam" and route(sparse, 1, 2999) == "dense"
    assert route(AttentionSettings(mode="hcam"), 8192, 8192) == "dense"
    assert route(AttentionSettings(mode="flexprefill"), 1, 8192) == "dense"
    assert route(AttentionSettings(), 8192, 8192) == "dense"
    assert AttentionSettings.from_dict(sparse.to_dict()) == sparse
    with pytest.raises(ValueError, match="attention must be one of dense, flexprefill, hcam, sparse"):
        AttentionSettings(mode="fast")


def test_by_default_each_path_is_taken_where_it_beats_the_kernel_it_stands_in_for():
    sparse = AttentionSettings(mode="sparse")
    for kernel in ("vec", "vec-bf16"):
        decode_from = SPARSE_FROM[kernel][1]
        assert route(sparse, 1, decode_from, kernel) == "hcam" and route(sparse, 1, decode_from - 1, kernel) == "dense"
    prefill_from = SPARSE_FROM["vec"][0]  # float32
    assert route(sparse, 2048, prefill_from, "vec") == "flexprefill"
    assert route(sparse, 2048, prefill_from - 1, "vec") == "dense"
    # Slower than vLLM's kernel at every length measured: a long prefill keeps `vec` in bf16, and AMX keeps both.
    assert route(sparse, 2048, 32768, "vec-bf16") == "dense"
    assert route(sparse, 2048, 32768, "amx") == "dense" and route(sparse, 1, 32768, "amx") == "dense"
    assert kernel_name("vec", "torch.bfloat16") == "vec-bf16" and kernel_name("vec", "torch.float32") == "vec"
    assert kernel_name("amx", "torch.bfloat16") == "amx"
    # Thresholds the user sets hold over any kernel.
    chosen = AttentionSettings(mode="sparse", prefill_from=4096, decode_from=4096)
    assert route(chosen, 2048, 4096, "amx") == "flexprefill" and route(chosen, 1, 4096, "amx") == "hcam"
