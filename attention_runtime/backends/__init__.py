"""sleuth's vLLM attention backends, one per platform, and the sparse ops over vLLM-CPU's paged KV
cache (`paged`). On CPU (`cpu`), long prefills and long-context decodes are routed to FlexPrefill
and HCAM per request (`attention_runtime.routing`). On GPU (`gpu`) the backend still passes
through to vLLM's Triton attention: routing there has not been written, as no GPU was available."""
