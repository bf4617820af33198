"""The GPU backend: vLLM's Triton attention, entered through sleuth's class, registered as `CUSTOM`.

It does not route to sparse attention yet: the Triton kernels it would call exist
(`attention_runtime.sparse.triton_*`), but the routing (a sub-batch of vLLM's Triton metadata, and
decodes under CUDA graphs) cannot be written blind, and no GPU has been available. Not exercised on
the CPU-only machines this project is tested on.
"""

from vllm.v1.attention.backends.triton_attn import TritonAttentionBackend, TritonAttentionImpl

from attention_runtime import probe


class SleuthGPUAttentionImpl(TritonAttentionImpl):
    def forward(self, *args, **kwargs):
        probe.mark("SleuthGPUAttentionBackend")
        return super().forward(*args, **kwargs)


class SleuthGPUAttentionBackend(TritonAttentionBackend):
    @staticmethod
    def get_name() -> str:
        return "CUSTOM"

    @staticmethod
    def get_impl_cls() -> type[SleuthGPUAttentionImpl]:
        return SleuthGPUAttentionImpl
