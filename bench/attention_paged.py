"""The sparse paths against vLLM's own CPU attention kernels, one call each, as the engine makes them:
over a paged KV cache written by vLLM, with the default model's attention shape (12 query heads on 2
KV heads of 128 dimensions).

    python bench/attention_paged.py [--lengths 8192 16384 32768] [--chunk 2048] [--repeat 3]

- prefill: the last `--chunk` new tokens of a prompt of each length (the engine prefills in chunks),
  vLLM's kernel against FlexPrefill (`paged.flexprefill_paged`: reading the cache, the index search,
  the block-sparse attention over the kept blocks). `break-even density`: the fraction of blocks
  kept below which the block-sparse attention alone would be faster than vLLM's kernel, at the speed
  per kept block measured here; the index search comes on top, so with `dense_above` above it a
  routed layer is slower than dense.
- decode: one new token over each length of context, vLLM's kernel against HCAM (`paged.hcam_paged`).

Each kernel the CPU runs: `vec` (any x86; the kernel vLLM uses without AMX, or in float32), and
`amx` in bfloat16 where the CPU has AMX (the kernel vLLM then picks for bf16). Inputs are synthetic,
with a sink and rotary locality (`attention_runtime.calibration.structured`, as in `bench/attention.py`).
Time per call is the best of `--repeat`, 2 threads. Prints a table, writes bench/results/attention_paged.json.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402

from attention_runtime.backends import paged  # noqa: E402
from attention_runtime.calibration import BLOCK, PagedCache  # noqa: E402
from attention_runtime.params import FlexPrefillParams, HCAMParams  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attention import best_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (12, 2, 128)  # the default model's query heads, KV heads, head size


def kernels() -> list[tuple[str, torch.dtype]]:
    found = [("vec", torch.bfloat16 if torch.cpu._is_avx512_bf16_supported() else torch.float32)]
    if torch.cpu._is_amx_tile_supported() and torch.cpu._init_amx():
        found.append(("amx", torch.bfloat16))
    return found


def prefill_row(isa: str, dtype: torch.dtype, length: int, chunk: int, repeat: int) -> dict:
    c = PagedCache(isa, dtype, SHAPE, length, chunk)
    t_vllm, _ = best_of(repeat, c.vllm)
    # every pattern used, to time the block-sparse attention; then the pattern alone (dense_above 0)
    t_flex, (_, kept) = best_of(repeat, lambda: c.flexprefill(FlexPrefillParams(dense_above=1.0)))
    t_index, _ = best_of(repeat, lambda: c.flexprefill(FlexPrefillParams(dense_above=0.0)))
    t_attention = max(t_flex - t_index, 1e-9)
    return {"kernel": isa, "dtype": str(dtype).removeprefix("torch."), "tokens": length, "new": chunk,
            "vllm_s": round(t_vllm, 4), "index_s": round(t_index, 4), "flexprefill_s": round(t_flex, 4),
            "flexprefill_x_vllm": round(t_flex / t_vllm, 2), "density": round(kept, 3),
            "break_even_density": round(t_vllm / (t_attention / kept), 3)}


def decode_row(isa: str, dtype: torch.dtype, length: int, repeat: int) -> dict:
    c = PagedCache(isa, dtype, SHAPE, length, 1)
    sums = paged.ChunkSums(HCAMParams().chunk_size)
    sums.add(c.k, torch.arange(length), c.nb, BLOCK)
    t_vllm, _ = best_of(repeat, c.vllm)
    t_hcam, (_, sparse) = best_of(repeat, lambda: paged.hcam_paged(c.q[0], c.paged, c.blocks, length, sums,
                                                                    HCAMParams(), c.scale))
    return {"kernel": isa, "dtype": str(dtype).removeprefix("torch."), "tokens": length, "vllm_ms": round(t_vllm * 1e3, 3),
            "hcam_ms": round(t_hcam * 1e3, 3), "hcam_x_vllm": round(t_hcam / t_vllm, 2), "top_k": sparse}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", nargs="+", type=int, default=[8192, 16384, 32768])
    ap.add_argument("--chunk", type=int, default=2048, help="new tokens in a prefill call")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(2)
    prefill, decode = [], []
    for isa, dtype in kernels():
        for length in args.lengths:
            prefill.append(prefill_row(isa, dtype, length, args.chunk, args.repeat))
            decode.append(decode_row(isa, dtype, length, args.repeat))
            print(prefill[-1], decode[-1], sep="\n", flush=True)
    print(f"\n| kernel | tokens | vLLM, {args.chunk} new (s) | FlexPrefill (s) | of which index (s) | FlexPrefill x vLLM "
          "| blocks kept | break-even density |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in prefill:
        print(f"| {r['kernel']} ({r['dtype']}) | {r['tokens']:,} | {r['vllm_s']:.3f} | {r['flexprefill_s']:.3f} | "
              f"{r['index_s']:.3f} | {r['flexprefill_x_vllm']:.2f} | {r['density']:.0%} | {r['break_even_density']:.2f} |")
    print("\n| kernel | context | vLLM decode (ms) | HCAM decode (ms) | HCAM x vLLM |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in decode:
        print(f"| {r['kernel']} ({r['dtype']}) | {r['tokens']:,} | {r['vllm_ms']:.2f} | {r['hcam_ms']:.2f} | {r['hcam_x_vllm']:.2f} |")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "attention_paged.json"
    path.write_text(json.dumps({"threads": torch.get_num_threads(), "chunk": args.chunk, "flexprefill": FlexPrefillParams().__dict__,
                                "hcam": HCAMParams().__dict__, "prefill": prefill, "decode": decode}, indent=2) + "\n")
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
