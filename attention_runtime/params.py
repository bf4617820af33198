"""The sparse attention ops' parameters, apart from the ops so that settings can name them without
loading torch."""

from dataclasses import dataclass


def kernel_name(isa: str, dtype: object) -> str:
    """The dense CPU kernel as the tables below name it: vLLM's ISA for the kernel (`vec`, `vec16`, `amx`),
    with `-bf16` where it computes in 16 bits. The same kernel in float32 and in bf16 is a different race."""
    return isa if "float32" in str(dtype) or isa == "amx" else f"{isa}-bf16"


# FlexPrefill's break-even density against each dense CPU kernel: above it, that kernel is faster.
# `vec` in float32 (CPUs without bf16 instructions): patterns keeping 56% to 59% of the blocks made the
# time to first token 0.78x to 0.80x of the dense engine's (AVX2). `vec-bf16` (CPUs with AVX512-BF16 and no
# AMX): per call 0.31 to 0.36 on an AMD EPYC (`bench/attention_paged.py`), though 0.90 to 1.01 on an Intel
# Xeon, where vLLM runs `amx` instead. `amx`: 0.19 to 0.20 at 8k to 32k tokens, per call; the index search
# alone costs about as much as that kernel's whole attention.
DENSE_ABOVE = {"vec": 0.6, "vec16": 0.6, "vec-bf16": 0.33, "vec16-bf16": 0.33, "amx": 0.2}

# Where each sparse path starts to beat each dense CPU kernel: (the sequence from which FlexPrefill's
# prefill is faster, the context from which HCAM's decoding is); None: never, so not routed by default.
# - `vec` (float32): FlexPrefill 0.78x to 0.80x of dense's time to first token at 8k and 16k through the engine
#   (AVX2); HCAM from 24k as in bf16 (not measured at 32k through the engine in float32).
# - `vec-bf16`: through the engine on an AMD EPYC (`bench/attention_engine.py --measured`), FlexPrefill took
#   1.16x and 1.30x dense's time to first token at 16k and 32k (its patterns keep about half the blocks,
#   above the kernel's break-even), HCAM 0.45x dense's time a token at 32k; per call, HCAM 1.06x at 16k and
#   0.63x to 0.80x from 24k to 32k.
# - `amx`: both slower per call at every length measured, 4k to 32k (FlexPrefill 2.3x to 6.3x, HCAM 3.7x to
#   15x), and through the engine.
SPARSE_FROM: dict[str, tuple[int | None, int | None]] = {
    "vec": (8192, 24576), "vec16": (8192, 24576), "vec-bf16": (None, 24576), "vec16-bf16": (None, 24576),
    "amx": (None, None)}


@dataclass(frozen=True)
class BreakEven:
    """Where the sparse paths beat one dense kernel on one machine (`attention_runtime.calibration`): the
    sequence from which FlexPrefill's prefill is faster and the context from which HCAM's decoding is
    (None: never), and the density above which a FlexPrefill pattern is left to the kernel."""

    kernel: str
    prefill_from: int | None
    decode_from: int | None
    dense_above: float


@dataclass(frozen=True)
class FlexPrefillParams:
    block_size: int = 128
    gamma: float = 0.9  # cumulative attention mass to keep
    tau: float = 0.1  # Jensen-Shannon distance below which a head is query-aware
    min_budget: int = 512  # tokens each query block attends at least (the best-scoring blocks)
    max_budget: int | None = None  # tokens each query block attends at most (sink and local aside)
    sink_blocks: int = 1
    local_blocks: int = 1
    # Above this fraction of the blocks the queries may see, the dense kernel is exact and faster.
    # None: the break-even measured against the kernel FlexPrefill stands in for (`DENSE_ABOVE`).
    dense_above: float | None = None

    def dense_limit(self, kernel: str = "vec") -> float:
        """The density above which a pattern is left to the dense `kernel`."""
        return self.dense_above if self.dense_above is not None else DENSE_ABOVE.get(kernel, DENSE_ABOVE["vec"])

    def dense_below(self) -> int:
        """Queries up to this many take dense attention (as the reference code does)."""
        return max(2 * self.block_size, self.min_budget)


@dataclass(frozen=True)
class HCAMParams:
    chunk_size: int = 32  # in the engine, a divisor of the KV block size (128 on CPU)
    top_k: int = 64  # 2,048 tokens of chunks. On the embedded model's real decode queries at 8k, with
    # that budget, the output error was 8 to 12% with chunks of 32 and 10 to 34% with chunks of 128.
    sink: int = 64  # first tokens always attended
    local: int = 1024  # last tokens always attended
    min_context: int = 4096  # shorter contexts take dense attention
