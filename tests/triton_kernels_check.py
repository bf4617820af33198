"""The Triton kernels against the torch references, in Triton's interpreter (fp32, small shapes).

Not collected by the main run (the name does not start with test_): `tests/test_triton_kernels.py`
runs this file in a child pytest with TRITON_INTERPRET=1, which must be set before triton loads."""

import os

import pytest
import torch

from attention_runtime.sparse import HCAMParams, dense_attention, hcam_decode

assert os.environ.get("TRITON_INTERPRET") == "1", "run through tests/test_triton_kernels.py"
from attention_runtime.sparse.triton_hcam import hcam_decode_triton  # noqa: E402


def qkv(B, Hq, Hkv, L, D, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, Hq, 1, D, generator=g), torch.randn(B, Hkv, L, D, generator=g),
            torch.randn(B, Hkv, L, D, generator=g))


@pytest.mark.parametrize("B, Hq, Hkv, L", [(1, 4, 1, 700), (2, 4, 2, 1001), (2, 8, 8, 513)])
def test_the_hcam_kernel_equals_the_reference(B, Hq, Hkv, L):
    q, k, v = qkv(B, Hq, Hkv, L, 32)
    params = HCAMParams(chunk_size=16, top_k=6, sink=20, local=48, min_context=0)
    torch.testing.assert_close(hcam_decode_triton(q, k, v, params, block_n=32), hcam_decode(q, k, v, params),
                               atol=1e-5, rtol=1e-4)


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
    return (torch.randn(B, Hq, Lq, D, generator=g), torch.randn(B, Hkv, Lk, D, generator=g),
            torch.randn(B, Hkv, Lk, D, generator=g))


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
