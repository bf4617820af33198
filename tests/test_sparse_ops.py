"""The sparse attention ops against exact attention: equal when nothing is dropped (gamma = 1,
top-k = every chunk), causal, GQA, sliding windows, query chunks of longer prompts, dtypes."""

import pytest

torch = pytest.importorskip("torch")

from attention_runtime.sparse import (  # noqa: E402
    FlexPrefillParams, HCAMParams, dense_attention, flexprefill_attention, hcam_decode,
)
from attention_runtime.sparse.dense import allowed  # noqa: E402
from attention_runtime.sparse.flexprefill import block_sparse_attention, density, flexprefill_mask  # noqa: E402

EXACT = FlexPrefillParams(block_size=64, gamma=1.0, min_budget=64, dense_above=1.0)  # block-sparse, every block


def qkv(B=2, Hq=4, Hkv=1, Lq=600, Lk=600, D=32, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, Hq, Lq, D, generator=g).to(dtype), torch.randn(B, Hkv, Lk, D, generator=g).to(dtype),
            torch.randn(B, Hkv, Lk, D, generator=g).to(dtype))


@pytest.mark.parametrize("Lq, Lk, window, Hkv", [(600, 600, None, 1), (300, 700, None, 2), (600, 600, 100, 4),
                                                  (257, 1000, 130, 1)])
def test_flexprefill_with_gamma_one_is_dense_attention(Lq, Lk, window, Hkv):
    q, k, v = qkv(Lq=Lq, Lk=Lk, Hkv=Hkv)
    out = flexprefill_attention(q, k, v, EXACT, window=window)
    torch.testing.assert_close(out, dense_attention(q, k, v, window=window), atol=2e-5, rtol=1e-4)


def test_flexprefill_never_attends_to_a_later_key():
    q, k, v = qkv(Lq=640, Lk=640)
    params = FlexPrefillParams(block_size=64, gamma=0.8, min_budget=64, dense_above=1.0)
    before = flexprefill_attention(q, k, v, params)
    v2 = v.clone()
    v2[:, :, 400:] += 100.0  # values only: the blocks chosen stay the same
    after = flexprefill_attention(q, k, v2, params)
    torch.testing.assert_close(after[:, :, :400], before[:, :, :400])
    assert not torch.allclose(after[:, :, 400:], before[:, :, 400:])


def test_flexprefill_keeps_sink_and_local_blocks_and_drops_others_below_gamma_one():
    q, k, v = qkv(B=1, Hq=2, Lq=1024, Lk=1024)
    mask = flexprefill_mask(q, k, FlexPrefillParams(block_size=64, gamma=0.5, min_budget=64))
    n = mask.shape[-1]
    assert mask[..., 0].all() and mask.diagonal(dim1=-2, dim2=-1).all()
    assert not mask.triu(1).any()  # no block wholly in the future
    assert mask.sum() < torch.ones(n, n).tril().sum() * 2  # something was dropped, in each head on average


def test_flexprefill_finds_a_planted_vertical_line():
    """Every query attends almost only to key 300: the kept blocks hold it and the output matches."""
    q, k, v = qkv(B=1, Hq=2, Lq=1024, Lk=1024)
    direction = torch.ones(32) / 32 ** 0.5
    q = q * 0.05 + direction  # all queries look the same way ...
    k[:, :, 300] = 80 * direction  # ... and one key answers them strongly
    params = FlexPrefillParams(block_size=64, gamma=0.9, min_budget=64, dense_above=1.0)
    mask = flexprefill_mask(q, k, params)
    assert mask[..., 5:, 300 // 64].all()  # every query block from 320 on keeps the block of key 300
    assert mask.float().mean() < 0.3  # and few others
    out, dense = flexprefill_attention(q, k, v, params), dense_attention(q, k, v)
    error = (out[:, :, 320:] - dense[:, :, 320:]).abs()
    assert error.mean() < 2e-3 and error.max() < 0.05  # what the dropped blocks held: under 1% of the mass


def test_flexprefill_finds_a_planted_slash_line():
    """Every query attends almost only to the key 700 positions back: the kept blocks follow that
    diagonal, and the output matches."""
    q, k, v = qkv(B=1, Hq=1, Hkv=1, Lq=2048, Lk=2048, D=128)
    q = q * 0.05
    q[:, :, 700:] += 30 * torch.nn.functional.normalize(k[:, :, :-700], dim=-1)  # query i looks like key i - 700
    params = FlexPrefillParams(block_size=64, gamma=0.9, min_budget=64, dense_above=1.0)
    mask = flexprefill_mask(q, k, params)
    for qb in range(12, 32):  # query blocks wholly past 700 + 64
        rows = torch.arange(qb * 64, qb * 64 + 64) - 700
        assert mask[0, 0, qb, (rows // 64).unique()].all()
    assert mask.float().mean() < 0.2
    out, dense = flexprefill_attention(q, k, v, params), dense_attention(q, k, v)
    error = (out[:, :, 768:] - dense[:, :, 768:]).abs()
    assert error.mean() < 2e-3 and error.max() < 0.05


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_flexprefill_takes_half_precision(dtype):
    q, k, v = qkv(Lq=600, Lk=600, dtype=dtype)
    out = flexprefill_attention(q, k, v, EXACT)
    assert out.dtype == dtype
    torch.testing.assert_close(out.float(), dense_attention(q, k, v).float(), atol=2e-2, rtol=2e-2)


def test_a_pattern_that_keeps_most_blocks_takes_dense_attention():
    q, k, v = qkv(Lq=1024, Lk=1024)  # random inputs: flat attention, most blocks needed to reach gamma
    params = FlexPrefillParams(block_size=64, gamma=0.9, min_budget=64)
    assert density(flexprefill_mask(q, k, params), 1024, 1024, 64) > params.dense_limit()
    assert torch.equal(flexprefill_attention(q, k, v, params), dense_attention(q, k, v))


def test_short_inputs_take_dense_attention():
    q, k, v = qkv(Lq=100, Lk=100)
    params = FlexPrefillParams(block_size=64, gamma=0.1, min_budget=64)
    torch.testing.assert_close(flexprefill_attention(q, k, v, params), dense_attention(q, k, v))


def test_block_sparse_attention_over_every_block_is_dense():
    q, k, v = qkv(Lq=200, Lk=520, Hkv=2)
    mask = flexprefill_mask(q, k, EXACT)
    torch.testing.assert_close(block_sparse_attention(q, k, v, mask, 64, max_elements=1 << 12),
                               dense_attention(q, k, v), atol=2e-5, rtol=1e-4)  # tiny groups: same answer


@pytest.mark.parametrize("Lq, Lk, window", [(600, 600, None), (300, 700, None), (600, 600, 100)])
def test_block_sparse_attention_sees_exactly_the_kept_blocks(Lq, Lk, window):
    q, k, v = qkv(Lq=Lq, Lk=Lk, Hq=4, Hkv=2)
    bs, nKB = 64, -(-Lk // 64)
    g = torch.Generator().manual_seed(1)
    mask = torch.rand(2, 4, nKB - (Lk - Lq) // bs, nKB, generator=g) < 0.5  # diagonals kept or not, any count
    mask[..., 0] = True  # every query sees a key, so no row is empty
    q_pos, k_pos = torch.arange(Lk - Lq, Lk), torch.arange(Lk)
    seen = mask[:, :, (q_pos // bs) - (Lk - Lq) // bs][..., k_pos // bs] & allowed(q_pos, k_pos, window)
    scores = (q @ k.repeat_interleave(2, 1).transpose(-1, -2) / 32 ** 0.5).masked_fill(~seen, float("-inf"))
    expected = torch.softmax(scores, -1).nan_to_num(0.0) @ v.repeat_interleave(2, 1)
    out = block_sparse_attention(q, k, v, mask, bs, window=window, max_elements=1 << 14)
    torch.testing.assert_close(out, expected, atol=2e-5, rtol=1e-4)


HCAM_ALL = HCAMParams(chunk_size=16, top_k=10_000, sink=20, local=50, min_context=0)


@pytest.mark.parametrize("L, Hkv", [(1000, 1), (1001, 2), (777, 4)])
def test_hcam_with_every_chunk_is_dense_attention(L, Hkv):
    q, k, v = qkv(Lq=1, Lk=L, Hkv=Hkv)
    params = HCAMParams(chunk_size=16, top_k=(L - 50) // 16 - 2, sink=20, local=50, min_context=0)
    torch.testing.assert_close(hcam_decode(q, k, v, params), dense_attention(q, k, v), atol=2e-5, rtol=1e-4)


def test_hcam_finds_the_chunk_the_query_is_about():
    q, k, v = qkv(B=1, Hq=4, Hkv=1, Lq=1, Lk=4096)
    k[:, :, 2000:2016] = 16 * q[:, 0:1, 0] / q[:, 0:1, 0].norm()  # one chunk matches the query strongly
    q = q[:, 0:1].repeat(1, 4, 1, 1)
    params = HCAMParams(chunk_size=16, top_k=4, sink=16, local=256, min_context=0)
    out, dense = hcam_decode(q, k, v, params), dense_attention(q, k, v)
    assert (out - dense).abs().max() < 1e-2
