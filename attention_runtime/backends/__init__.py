"""sleuth's vLLM attention backends, one per platform. They pass through to the platform default
for now; the sparse-attention work routes long prefills and decodes to FlexPrefill and HCAM."""
