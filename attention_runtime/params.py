"""The sparse attention ops' parameters, apart from the ops so that settings can name them without
loading torch."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FlexPrefillParams:
    block_size: int = 128
    gamma: float = 0.9  # cumulative attention mass to keep
    tau: float = 0.1  # Jensen-Shannon distance below which a head is query-aware
    min_budget: int = 512  # tokens each query block attends at least (the best-scoring blocks)
    max_budget: int | None = None  # tokens each query block attends at most (sink and local aside)
    sink_blocks: int = 1
    local_blocks: int = 1
    # Above this fraction of the blocks the queries may see, dense attention is exact and faster.
    # Measured in the CPU engine with the default model (README, Sparse attention): patterns keeping
    # 56% to 59% of the blocks made the time to first token 0.78x to 0.80x of vLLM's dense kernel.
    dense_above: float = 0.6

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
