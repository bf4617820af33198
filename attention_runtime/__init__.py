"""The local LLM runtime: the vLLM engine, the embedded model and sparse attention (FlexPrefill, HCAM).

Not built yet (the engine and sparse-attention issues); the package exists so the layout is fixed.
"""
