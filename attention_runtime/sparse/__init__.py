"""Sparse attention ops for long contexts, as vectorised torch references (CPU and GPU).

- `flexprefill`: block-sparse prefill (FlexPrefill): per head, a query-aware or vertical-slash
  block pattern chosen by a Jensen-Shannon test on the last query block, blocks kept to a
  cumulative attention mass `gamma`, sink and local blocks always kept.
- `hcam_decode`: decode attention over the top-k chunks of the KV cache by their summary keys
  (HCAM; the query heads sharing a KV head share their chunks), plus the sink and the local
  window, merged exactly by log-sum-exp.
- `dense_attention`: the exact reference both must equal when nothing is dropped.

All take q `[B, Hq, Lq, D]` and k, v `[B, Hkv, Lk, D]` (GQA when Hq > Hkv), with the queries the
last `Lq` positions of the `Lk` keys (a chunk of a longer prompt), causal, optionally with a
sliding window. The Triton kernels (`triton_flexprefill`, `triton_hcam`: the attention over the
chosen blocks or positions, for the GPU; tested on CPU in Triton's interpreter) are imported on
their own, so importing this package does not load Triton. The CPU vLLM backend runs these ops
over its paged KV cache (`attention_runtime.backends.paged`).
"""

from attention_runtime.sparse.dense import dense_attention
from attention_runtime.sparse.flexprefill import FlexPrefillParams, flexprefill_attention
from attention_runtime.sparse.hcam import HCAMParams, hcam_decode

__all__ = ["FlexPrefillParams", "HCAMParams", "dense_attention", "flexprefill_attention",
           "hcam_decode"]
