"""Sparse attention at the operator level, on the CPU: dense SDPA against FlexPrefill (index search
and attention timed apart) for prefill, and dense decoding against HCAM decoding.

    python bench/attention.py [--prefill 4096,8192,16384,32768] [--decode 8192,...,131072] [--shapes embedded,8b]
                              [--dtype float32|bfloat16]

Shapes: the embedded model's attention (4 query heads, 1 KV head, head_dim 256) and an 8B model's
(32, 8, 128), or the default model's (`qwen1.5b`: 12, 2, 128); batch 1, float32 unless `--dtype
bfloat16` (the engine's number format on a CPU with AMX or AVX512-BF16). Inputs are synthetic, built to have the structure real attention
has (a sink at the first token, and rotary position terms that make nearby keys score higher),
because random queries and keys give flat attention that no sparse method can skip. Reported:
time per call (best of `--repeat`), the fraction of blocks kept, and the relative error of the
output against dense. Prints tables, writes bench/results/attention.json and
bench/results/attention.png (time against sequence length).
"""

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402

from attention_runtime.calibration import structured  # noqa: E402
from attention_runtime.sparse import FlexPrefillParams, HCAMParams, hcam_decode  # noqa: E402
from attention_runtime.sparse.flexprefill import block_sparse_attention, flexprefill_mask  # noqa: E402
from attention_runtime.sparse.hcam import chunk_means  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHAPES = {"embedded": (4, 1, 256), "8b": (32, 8, 128), "qwen1.5b": (12, 2, 128)}


def best_of(repeat: int, fn):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def sdpa(q, k, v, causal: bool):
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)


def rel_error(out, ref) -> float:
    return float((out.float() - ref.float()).norm() / ref.float().norm())


def prefill_rows(shape: str, lengths: list[int], repeat: int, params: FlexPrefillParams,
                 dtype: torch.dtype = torch.float32) -> list[dict]:
    Hq, Hkv, D = SHAPES[shape]
    rows = []
    for L in lengths:
        q, k, v = structured(Hq, Hkv, L, D, L, dtype=dtype)
        t_dense, dense = best_of(repeat, lambda: sdpa(q, k, v, True))
        t_index, mask = best_of(repeat, lambda: flexprefill_mask(q, k, params))
        t_attn, out = best_of(repeat, lambda: block_sparse_attention(q, k, v, mask, params.block_size))
        n = mask.shape[-1]
        density = float(mask.sum() / (Hq * n * (n + 1) / 2))
        rows.append({"shape": shape, "tokens": L, "dense_s": round(t_dense, 4), "index_s": round(t_index, 4),
                     "sparse_attention_s": round(t_attn, 4), "flexprefill_s": round(t_index + t_attn, 4),
                     "speedup": round(t_dense / (t_index + t_attn), 2), "density": round(density, 3),
                     "rel_error": round(rel_error(out, dense), 4)})
        print(f"prefill {shape:8} {L:>6}: dense {t_dense:7.3f} s  flexprefill {t_index:6.3f} + {t_attn:6.3f} s  "
              f"x{rows[-1]['speedup']:<5} density {density:.3f}  error {rows[-1]['rel_error']}", flush=True)
    return rows


def decode_rows(shape: str, lengths: list[int], repeat: int, params: HCAMParams,
                dtype: torch.dtype = torch.float32) -> list[dict]:
    Hq, Hkv, D = SHAPES[shape]
    rows = []
    for L in lengths:
        q, k, v = structured(Hq, Hkv, L, D, 1, dtype=dtype)
        summaries = chunk_means(k, params.chunk_size)  # kept incrementally by the engine
        t_dense, dense = best_of(repeat, lambda: sdpa(q, k, v, False))
        t_hcam, out = best_of(repeat, lambda: hcam_decode(q, k, v, params, summaries=summaries))
        kept = min(L, params.top_k * params.chunk_size + params.sink + params.local)
        rows.append({"shape": shape, "tokens": L, "dense_s": round(t_dense, 5), "hcam_s": round(t_hcam, 5),
                     "speedup": round(t_dense / t_hcam, 2), "keys_attended": kept,
                     "rel_error": round(rel_error(out, dense), 4)})
        print(f"decode  {shape:8} {L:>6}: dense {t_dense * 1e3:8.2f} ms  hcam {t_hcam * 1e3:8.2f} ms  "
              f"x{rows[-1]['speedup']:<6} keys {kept}  error {rows[-1]['rel_error']}", flush=True)
    return rows


def plot(prefill: list[dict], decode: list[dict], path: Path, title: str = "CPU, fp32",
         keys: tuple[str, str, str, str] = ("dense_s", "flexprefill_s", "dense_s", "hcam_s")) -> None:
    """Time against length; `keys`: the rows' dense and sparse times, prefill then decode."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    for ax, rows, dense_key, sparse_key, what in ((axes[0], prefill, keys[0], keys[1], "prefill"),
                                                  (axes[1], decode, keys[2], keys[3], "decode (one token)")):
        for shape in SHAPES:
            r = [x for x in rows if x["shape"] == shape]
            if not r:
                continue
            xs = [x["tokens"] for x in r]
            line = ax.plot(xs, [x[dense_key] for x in r], "o-", label=f"dense, {shape}")[0]
            ax.plot(xs, [x[sparse_key] for x in r], "s--", color=line.get_color(),
                    label=f"{'FlexPrefill' if what == 'prefill' else 'HCAM'}, {shape}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("tokens")
        ax.set_ylabel("seconds")
        ax.set_title(f"{title}: {what}", fontsize=10)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefill", default="4096,8192,16384,32768")
    ap.add_argument("--decode", default="8192,16384,32768,65536,131072")
    ap.add_argument("--shapes", default="embedded,8b")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    torch.set_grad_enabled(False)
    fp, hp = FlexPrefillParams(), HCAMParams()  # the defaults `--attention` uses
    shapes = args.shapes.split(",")
    prefill = [r for s in shapes for r in prefill_rows(s, [int(x) for x in args.prefill.split(",") if x], args.repeat, fp, dtype)]
    decode = [r for s in shapes for r in decode_rows(s, [int(x) for x in args.decode.split(",") if x], args.repeat, hp, dtype)]

    print("\n| shape | tokens | dense SDPA (s) | FlexPrefill index (s) | FlexPrefill attention (s) | speed-up | blocks kept | relative error |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in prefill:
        print(f"| {r['shape']} | {r['tokens']:,} | {r['dense_s']:.3f} | {r['index_s']:.3f} | {r['sparse_attention_s']:.3f} | "
              f"{r['speedup']:.2f}x | {r['density']:.1%} | {r['rel_error']:.4f} |")
    print("\n| shape | context | dense decode (ms) | HCAM decode (ms) | speed-up | keys attended | relative error |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in decode:
        print(f"| {r['shape']} | {r['tokens']:,} | {r['dense_s'] * 1e3:.2f} | {r['hcam_s'] * 1e3:.2f} | {r['speedup']:.2f}x | "
              f"{r['keys_attended']:,} | {r['rel_error']:.4f} |")
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"threads": torch.get_num_threads(), "dtype": args.dtype, "flexprefill": fp.__dict__, "hcam": hp.__dict__}
    (args.out / "attention.json").write_text(json.dumps({**meta, "prefill": prefill, "decode": decode}, indent=2) + "\n")
    plot(prefill, decode, args.out / "attention.png", title=f"CPU, {args.dtype}")
    print(f"\nwrote {args.out / 'attention.json'} and {args.out / 'attention.png'}")


if __name__ == "__main__":
    main()
