"""The Triton kernels against the torch references: in Triton's interpreter on a CPU, or compiled
on a CUDA GPU (small shapes; fp32, and bf16 against the fp32 reference).

Not collected by the main run (the name does not start with test_): `tests/test_triton_kernels.py`
runs this file in a child pytest with TRITON_INTERPRET=1, which must be set before triton loads.
On a GPU machine: `python -m pytest tests/triton_kernels_check.py`."""

import os

import pytest
import torch

from attention_runtime.sparse import HCAMParams, dense_attention, hcam_decode

INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
assert INTERPRET or torch.cuda.is_available(), "without a GPU, run through tests/test_triton_kernels.py"
DEVICE = "cpu" if INTERPRET else "cuda"
# Half precision: bf16 on a GPU; fp16 in the interpreter, whose tl.dot on bf16 returns garbage
# (seen with Triton 3.9: relative error 5e9 where fp16 gives 4e-4).
HALF = torch.float16 if INTERPRET else torch.bfloat16
from attention_runtime.sparse.triton_hcam import chunk_attention, hcam_decode_triton  # noqa: E402


def qkv(B, Hq, Hkv, L, D, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(t.to(DEVICE) for t in (torch.randn(B, Hq, 1, D, generator=g), torch.randn(B, Hkv, L, D, generator=g),
                                        torch.randn(B, Hkv, L, D, generator=g)))


@pytest.mark.parametrize("B, Hq, Hkv, L", [(1, 4, 1, 700), (2, 4, 2, 1001), (2, 8, 8, 513)])
def test_the_hcam_kernel_equals_the_reference(B, Hq, Hkv, L):
    q, k, v = qkv(B, Hq, Hkv, L, 32)
    params = HCAMParams(chunk_size=16, top_k=6, sink=20, local=48, min_context=0)
    torch.testing.assert_close(hcam_decode_triton(q, k, v, params, block_n=32, per_split=64), hcam_decode(q, k, v, params),
                               atol=1e-5, rtol=1e-4)


def test_the_hcam_kernel_reads_given_summaries_past_the_full_chunks():
    """Summaries kept by the engine may hold more chunks than the cache has full ones (a chunk being
    written): the ones past `L // cs` are not candidates."""
    q, k, v = qkv(2, 4, 2, 1001, 32, seed=5)
    params = HCAMParams(chunk_size=16, top_k=6, sink=20, local=48, min_context=0)
    means = k[:, :, :992].view(2, 2, 62, 16, 32).mean(3)
    extra = torch.cat([means, 50 * torch.ones(2, 2, 3, 32, device=DEVICE)], 2)  # would win if read
    torch.testing.assert_close(hcam_decode_triton(q, k, v, params, summaries=extra, block_n=32),
                               hcam_decode(q, k, v, params, summaries=means), atol=1e-5, rtol=1e-4)


def test_the_hcam_kernel_over_the_whole_cache_is_dense_decoding():
    q, k, v = qkv(2, 8, 2, 777, 64, seed=4)
    torch.testing.assert_close(chunk_attention(q, k, v, None, 16, 777, 777, 64 ** -0.5, block_n=32, per_split=96),
                               dense_attention(q, k, v), atol=1e-5, rtol=1e-4)


def test_the_hcam_kernel_with_every_chunk_is_dense_attention():
    q, k, v = qkv(2, 4, 1, 600, 32)
    params = HCAMParams(chunk_size=16, top_k=(600 - 48) // 16 - 2, sink=20, local=48, min_context=0)
    torch.testing.assert_close(hcam_decode_triton(q, k, v, params, block_n=32), dense_attention(q, k, v),
                               atol=1e-5, rtol=1e-4)


from attention_runtime.sparse import FlexPrefillParams  # noqa: E402
from attention_runtime.sparse.flexprefill import block_sparse_attention, flexprefill_mask  # noqa: E402
from attention_runtime.sparse.triton_flexprefill import block_sparse_attention_triton  # noqa: E402


def prefill(B, Hq, Hkv, Lq, Lk, D=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(t.to(DEVICE) for t in (torch.randn(B, Hq, Lq, D, generator=g), torch.randn(B, Hkv, Lk, D, generator=g),
                                        torch.randn(B, Hkv, Lk, D, generator=g)))


@pytest.mark.parametrize("B, Hq, Hkv, Lq, Lk, window, gamma", [
    (1, 2, 1, 200, 200, None, 1.0), (2, 4, 2, 150, 333, None, 0.7), (1, 4, 4, 256, 256, 40, 0.8)])
def test_the_block_sparse_kernel_equals_the_reference(B, Hq, Hkv, Lq, Lk, window, gamma):
    q, k, v = prefill(B, Hq, Hkv, Lq, Lk)
    mask = flexprefill_mask(q, k, FlexPrefillParams(block_size=16, gamma=gamma, min_budget=16), window=window)
    expected = block_sparse_attention(q, k, v, mask, 16, window=window)
    torch.testing.assert_close(block_sparse_attention_triton(q, k, v, mask, 16, window=window), expected,
                               atol=1e-5, rtol=1e-4)
    if gamma == 1.0:
        torch.testing.assert_close(expected, dense_attention(q, k, v, window=window), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("block_size, D, Lq, Lk", [(128, 256, 300, 520), (64, 64, 200, 200)])
def test_the_block_sparse_kernel_tiles_large_blocks(block_size, D, Lq, Lk):
    """Blocks wider than the kernel's query and key tiles (the GPU shapes): several tiles per block."""
    q, k, v = prefill(1, 2, 1, Lq, Lk, D=D, seed=1)
    mask = flexprefill_mask(q, k, FlexPrefillParams(block_size=block_size, gamma=0.8, min_budget=block_size))
    torch.testing.assert_close(block_sparse_attention_triton(q, k, v, mask, block_size),
                               block_sparse_attention(q, k, v, mask, block_size), atol=1e-5, rtol=1e-4)


def test_the_kernels_in_half_precision_stay_close_to_the_fp32_reference():
    q, k, v = prefill(1, 4, 2, 256, 384, D=64, seed=2)
    mask = flexprefill_mask(q, k, FlexPrefillParams(block_size=64, gamma=0.8, min_budget=64))
    expected = block_sparse_attention(q, k, v, mask, 64)
    out = block_sparse_attention_triton(*(t.to(HALF) for t in (q, k, v)), mask, 64)
    assert out.dtype == HALF
    assert ((out.float() - expected).norm() / expected.norm()) < 0.02
    q, k, v = qkv(2, 4, 1, 700, 64, seed=3)
    params = HCAMParams(chunk_size=16, top_k=6, sink=20, local=48, min_context=0)
    expected = hcam_decode(q, k, v, params)
    out = hcam_decode_triton(*(t.to(HALF) for t in (q, k, v)), params, block_n=32)
    assert out.dtype == HALF
    assert ((out.float() - expected).norm() / expected.norm()) < 0.02
