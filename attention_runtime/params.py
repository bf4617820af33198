"""The sparse attention ops' parameters, apart from the ops so that settings can name them without
loading torch."""

from dataclasses import dataclass


# FlexPrefill's break-even density against each dense CPU kernel: above it, that kernel is faster.
# `vec` (vLLM's generic kernel; torch SDPA for the ops on plain tensors): patterns keeping 56% to 59%
# of the blocks made the time to first token 0.78x to 0.80x of the dense engine's (float32, AVX2);
# per call, in bf16 on AVX-512, the block-sparse attention broke even at 0.96 to 1.10
# (`bench/attention_paged.py`). `amx` (vLLM's bf16 kernel on a CPU with AMX): 0.19 to 0.20 at 8k to 32k
# tokens, per call; the index search alone costs about as much as that kernel's whole attention.
DENSE_ABOVE = {"vec": 0.6, "vec16": 0.6, "amx": 0.2}

# Where each sparse path starts to beat each dense CPU kernel, per call (`bench/attention_paged.py`, bf16,
# 2 threads, the default model's shape): (the sequence from which FlexPrefill's prefill call was faster,
# the context from which HCAM's decode call was). Against `vec`, FlexPrefill took 1.20x the kernel's time
# at 4k and 0.49x to 0.96x from 8k to 32k; HCAM 1.13x at 20k and 0.68x to 0.84x from 24k to 32k.
# Against `amx` both were slower at every length measured, 4k to 32k (FlexPrefill 2.3x to 6.3x, HCAM
# 3.7x to 15x): None, never routed by default.
SPARSE_FROM: dict[str, tuple[int | None, int | None]] = {
    "vec": (8192, 24576), "vec16": (8192, 24576), "amx": (None, None)}


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
