"""Which attention each request of an engine step takes: the platform's dense kernel, FlexPrefill
(a long prefill) or HCAM (a decode over a long context).

`AttentionSettings` is what a user chooses (`--attention dense|flexprefill|hcam|sparse` and the
thresholds); it travels to vLLM's worker processes inside the engine configuration
(`additional_config`), and `route` is the decision the backends make with it. Only layers that
attend to the whole context are routed: a sliding-window layer is already sparse, and keeps the
platform's kernel.
"""

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

from attention_runtime.params import SPARSE_FROM, BreakEven, FlexPrefillParams, HCAMParams

Mode = Literal["dense", "flexprefill", "hcam", "sparse"]
MODES: tuple[str, ...] = ("dense", "flexprefill", "hcam", "sparse")
CONFIG_KEY = "sleuth_attention"  # the key in vLLM's additional_config


@dataclass(frozen=True)
class AttentionSettings:
    mode: Mode = "dense"
    # FlexPrefill for a prefill whose sequence reaches `prefill_from` tokens, HCAM for a decode over at least
    # `decode_from`. None: where that path was measured to beat the dense kernel: on this machine (`measured`),
    # else on ours (`params.SPARSE_FROM`).
    prefill_from: int | None = None
    decode_from: int | None = None
    measured: BreakEven | None = None  # this machine's, for one kernel (`calibration.calibrated`)
    # The ops' own parameters; in the engine, HCAM's chunks are the KV-cache blocks (its chunk_size
    # and min_context are replaced by the block size and `decode_from`).
    flexprefill: FlexPrefillParams = field(default_factory=FlexPrefillParams)
    hcam: HCAMParams = field(default_factory=HCAMParams)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"attention must be one of {', '.join(MODES)}, not {self.mode!r}.")

    @property
    def prefill(self) -> bool:
        return self.mode in ("flexprefill", "sparse")

    @property
    def decode(self) -> bool:
        return self.mode in ("hcam", "sparse")

    def thresholds(self, kernel: str = "vec") -> tuple[float, float]:
        """(prefill_from, decode_from) where the dense kernel is `kernel`; infinite: never taken."""
        m = self.measured
        measured_prefill, measured_decode = ((m.prefill_from, m.decode_from) if m and m.kernel == kernel
                                             else SPARSE_FROM.get(kernel, SPARSE_FROM["vec"]))
        prefill = self.prefill_from if self.prefill_from is not None else measured_prefill
        decode = self.decode_from if self.decode_from is not None else measured_decode
        return (math.inf if prefill is None else prefill, math.inf if decode is None else decode)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> "AttentionSettings":
        if not d:
            return cls()
        return cls(mode=d["mode"], prefill_from=d["prefill_from"], decode_from=d["decode_from"],
                   measured=BreakEven(**d["measured"]) if d.get("measured") else None,
                   flexprefill=FlexPrefillParams(**d["flexprefill"]), hcam=HCAMParams(**d["hcam"]))


def route(settings: AttentionSettings, query_len: int, seq_len: int, kernel: str = "vec") -> str:
    """'flexprefill', 'hcam' or 'dense' for one request: `query_len` new tokens, `seq_len` in all, where
    the dense kernel would be `kernel`."""
    prefill_from, decode_from = settings.thresholds(kernel)
    if settings.decode and query_len == 1 and seq_len >= decode_from:
        return "hcam"
    if (settings.prefill and query_len > settings.flexprefill.dense_below()
            and seq_len >= prefill_from):
        return "flexprefill"
    return "dense"
