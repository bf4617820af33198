"""The vLLM plugin (entry point group `vllm.general_plugins`): registers sleuth's attention backend.

vLLM runs it in every process it starts (API server, engine core, workers). On CPU it takes over
the `CPU_ATTN` name that the CPU platform always selects; on a GPU it registers `CUSTOM`, which the
engine then asks for. It also ties each process's life to its parent's (`lifetime`), so that
the engine ends with sleuth.
"""


def register() -> None:
    from attention_runtime.lifetime import tie_children

    tie_children()
    from vllm.platforms import current_platform
    from vllm.v1.attention.backends.registry import AttentionBackendEnum, register_backend

    if current_platform.is_cpu():
        register_backend(AttentionBackendEnum.CPU_ATTN, "attention_runtime.backends.cpu.SleuthCPUAttentionBackend")
    else:
        register_backend(AttentionBackendEnum.CUSTOM, "attention_runtime.backends.gpu.SleuthGPUAttentionBackend")
