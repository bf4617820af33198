"""The GPU backend: vLLM's Triton attention, entered through sleuth's class, registered as `CUSTOM`.

Not exercised on the CPU-only machines this project is tested on.
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
