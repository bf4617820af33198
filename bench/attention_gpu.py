"""Sparse attention at the operator level on a GPU: the table of bench/attention.py at 32k-128k, in
bf16, with the Triton kernels, against PyTorch's FlashAttention-2 SDPA.

    python bench/attention_gpu.py [--prefill 32768,65536,131072] [--decode 32768,65536,131072] [--shapes embedded,8b]

Prefill: dense causal SDPA (flash) against FlexPrefill, its index search (torch) and its
block-sparse attention (Triton) timed apart. Decode, one token, batch 1: dense SDPA (flash), dense
over every position with the HCAM kernel itself (split across the GPU as flash-decoding does), and
HCAM (chunk selection in torch, then the kernel), each launched eagerly and replayed from a CUDA
graph (as an engine decodes). Inputs are bench/attention.py's structured q, k, v. Times are CUDA
event times, the best of `--repeat`. vLLM is not needed (nor used): its GPU build is not on the
machine this ran on.

Prints the tables, writes bench/results/attention_gpu.json and bench/results/attention_gpu.png.
`--device cpu` with TRITON_INTERPRET=1 is a smoke run of this script at tiny lengths, not a measurement.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402
import triton  # noqa: E402
from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: E402

from attention_runtime.sparse import FlexPrefillParams, HCAMParams, hcam_decode  # noqa: E402
from attention_runtime.sparse.flexprefill import block_sparse_attention, density, flexprefill_mask  # noqa: E402
from attention_runtime.sparse.hcam import chunk_means, hcam_chunks  # noqa: E402
from attention_runtime.sparse.triton_flexprefill import block_sparse_attention_triton  # noqa: E402
from attention_runtime.sparse.triton_hcam import chunk_attention, hcam_decode_triton  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from attention import SHAPES, plot, rel_error, structured  # noqa: E402


def timed(fn, repeat: int, inner: int = 1) -> tuple[float, object]:
    """Seconds per call of `fn` (the best of `repeat` rounds of `inner` calls), and its output."""
    out = fn()  # compiles and warms up
    cuda = torch.cuda.is_available()
    best = float("inf")
    for _ in range(repeat):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(inner):
                out = fn()
            end.record()
            torch.cuda.synchronize()
            seconds = start.elapsed_time(end) / 1e3
        else:
            t0 = time.perf_counter()
            for _ in range(inner):
                out = fn()
            seconds = time.perf_counter() - t0
        best = min(best, seconds / inner)
    return best, out


def graphed(fn):
    """`fn` captured in a CUDA graph: (replay, its output tensor); on a CPU, `fn` itself."""
    if not torch.cuda.is_available():
        return fn, fn()
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        fn()  # warm up off the capture
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()

    def replay():
        graph.replay()
        return out

    return replay, out


def dense(q, k, v, causal: bool):
    """Dense attention as a function of nothing, and how it handles GQA: FlashAttention-2 through
    SDPA on a GPU, with `enable_gqa` if flash takes it, else with the key and value heads repeated
    beforehand (outside the timed call)."""
    f = torch.nn.functional.scaled_dot_product_attention
    if not q.is_cuda:
        return (lambda: f(q, k, v, is_causal=causal, enable_gqa=True)), "native"

    def flash(k, v, gqa):
        with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
            return f(q, k, v, is_causal=causal, enable_gqa=gqa)

    try:
        flash(k, v, True)
        return (lambda: flash(k, v, True)), "native"
    except RuntimeError:
        r = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(r, 1), v.repeat_interleave(r, 1)
        return (lambda: flash(k, v, False)), "heads repeated"


def prefill_rows(shape: str, lengths: list[int], fp: FlexPrefillParams, dtype, device: str, repeat: int) -> list[dict]:
    Hq, Hkv, D = SHAPES[shape]
    rows = []
    for L in lengths:
        q, k, v = (t.to(device, dtype) for t in structured(Hq, Hkv, L, D, L))  # bench/attention.py's inputs
        dense_fn, gqa = dense(q, k, v, True)
        t_dense, ref = timed(dense_fn, repeat)
        t_index, mask = timed(lambda: flexprefill_mask(q, k, fp), repeat)
        t_attn, out = timed(lambda: block_sparse_attention_triton(q, k, v, mask, fp.block_size), repeat)
        rows.append({"shape": shape, "tokens": L, "dense_s": t_dense, "index_s": t_index, "sparse_attention_s": t_attn,
                     "flexprefill_s": t_index + t_attn, "speedup": t_dense / (t_index + t_attn),
                     "attention_speedup": t_dense / t_attn, "density": density(mask, L, L, fp.block_size),
                     "rel_error": rel_error(out.float(), ref.float()), "dense_gqa": gqa})
        if L == lengths[0]:  # the kernel against the torch reference, on the same blocks
            rows[-1]["kernel_error"] = rel_error(out.float(), block_sparse_attention(q, k, v, mask, fp.block_size).float())
        r = rows[-1]
        print(f"prefill {shape:8} {L:>6}: dense {t_dense * 1e3:8.2f} ms  flexprefill {t_index * 1e3:7.2f} + "
              f"{t_attn * 1e3:7.2f} ms  x{r['speedup']:.2f}  density {r['density']:.3f}  error {r['rel_error']:.4f}",
              flush=True)
        del q, k, v, dense_fn, ref, mask, out
        torch.cuda.empty_cache() if device == "cuda" else None
    return rows


def decode_rows(shape: str, lengths: list[int], hp: HCAMParams, dtype, device: str, repeat: int) -> list[dict]:
    Hq, Hkv, D = SHAPES[shape]
    rows = []
    for L in lengths:
        q, k, v = (t.to(device, dtype) for t in structured(Hq, Hkv, L, D, 1))
        cs = hp.chunk_size
        summaries = chunk_means(k, cs)  # kept incrementally by the engine
        dense_fn, gqa = dense(q, k, v, False)
        splitk_fn = lambda: chunk_attention(q, k, v, None, cs, L, L, D ** -0.5)  # noqa: E731
        hcam_fn = lambda: hcam_decode_triton(q, k, v, hp, summaries=summaries)  # noqa: E731
        t_dense, ref = timed(dense_fn, repeat, inner=20)
        t_splitk, dense_k = timed(splitk_fn, repeat, inner=20)
        t_select, _ = timed(lambda: hcam_chunks(q, L, summaries, hp), repeat, inner=20)
        t_hcam, out = timed(hcam_fn, repeat, inner=20)
        g_dense, g_splitk, g_hcam = graphed(dense_fn)[0], graphed(splitk_fn)[0], graphed(hcam_fn)[0]
        t_dense_graph, _ = timed(g_dense, repeat, inner=20)
        t_splitk_graph, _ = timed(g_splitk, repeat, inner=20)
        t_hcam_graph, out_graph = timed(g_hcam, repeat, inner=20)
        kept = min(L, hp.top_k * cs + hp.sink + hp.local)
        rows.append({"shape": shape, "tokens": L, "dense_s": t_dense, "dense_splitk_s": t_splitk, "hcam_select_s": t_select,
                     "hcam_s": t_hcam, "dense_graph_s": t_dense_graph, "dense_splitk_graph_s": t_splitk_graph,
                     "hcam_graph_s": t_hcam_graph, "best_dense_graph_s": min(t_dense_graph, t_splitk_graph),
                     "speedup": min(t_dense, t_splitk) / t_hcam,
                     "graph_speedup": min(t_dense_graph, t_splitk_graph) / t_hcam_graph,
                     "keys_attended": kept, "rel_error": rel_error(out.float(), ref.float()),
                     "splitk_error": rel_error(dense_k.float(), ref.float()),
                     "kernel_error": rel_error(out.float(), hcam_decode(q, k, v, hp, summaries=summaries).float()),
                     "graph_matches_eager": bool(torch.equal(out_graph, out)), "dense_gqa": gqa})
        r = rows[-1]
        print(f"decode  {shape:8} {L:>6}: dense {t_dense * 1e6:7.1f} us (split-k {t_splitk * 1e6:6.1f})  hcam "
              f"{t_hcam * 1e6:6.1f} us (select {t_select * 1e6:6.1f})  graphs: dense {t_dense_graph * 1e6:6.1f} hcam "
              f"{t_hcam_graph * 1e6:6.1f} us (split-k {t_splitk_graph * 1e6:6.1f})  x{r['graph_speedup']:.2f}  "
              f"error {r['rel_error']:.4f}", flush=True)
        del q, k, v, summaries, dense_fn, ref, dense_k, out, out_graph, g_dense, g_splitk, g_hcam
        torch.cuda.empty_cache() if device == "cuda" else None
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefill", default="32768,65536,131072")
    ap.add_argument("--decode", default="32768,65536,131072")
    ap.add_argument("--shapes", default="embedded,8b")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("bench/attention_gpu.py needs a CUDA GPU; bench/attention.py measures the CPU.")
    torch.set_grad_enabled(False)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    fp, hp = FlexPrefillParams(), HCAMParams()  # the defaults `--attention` uses
    shapes = args.shapes.split(",")
    lengths = [[int(x) for x in arg.split(",") if x] for arg in (args.prefill, args.decode)]
    prefill = [r for s in shapes for r in prefill_rows(s, lengths[0], fp, dtype, args.device, args.repeat)]
    decode = [r for s in shapes for r in decode_rows(s, lengths[1], hp, dtype, args.device, args.repeat)]
    name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu (Triton interpreter)"

    print(f"\n{name}, {args.dtype}, batch 1\n")
    print("| shape | tokens | dense SDPA (ms) | FlexPrefill index (ms) | FlexPrefill attention (ms) | speed-up "
          "| attention alone | blocks kept | relative error | kernel vs torch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in prefill:
        print(f"| {r['shape']} | {r['tokens']:,} | {r['dense_s'] * 1e3:.2f} | {r['index_s'] * 1e3:.2f} | "
              f"{r['sparse_attention_s'] * 1e3:.2f} | {r['speedup']:.2f}x | {r['attention_speedup']:.2f}x | "
              f"{r['density']:.1%} | {r['rel_error']:.4f} | {r.get('kernel_error', float('nan')):.4f} |")
    print("\n| shape | context | dense SDPA (us) | dense, split-k kernel (us) | HCAM (us) | of which selection (us) "
          "| speed-up | dense SDPA, graph (us) | dense split-k, graph (us) | HCAM, graph (us) | speed-up, graphs "
          "| relative error | kernel vs torch |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in decode:
        print(f"| {r['shape']} | {r['tokens']:,} | {r['dense_s'] * 1e6:.1f} | {r['dense_splitk_s'] * 1e6:.1f} | "
              f"{r['hcam_s'] * 1e6:.1f} | {r['hcam_select_s'] * 1e6:.1f} | {r['speedup']:.2f}x | "
              f"{r['dense_graph_s'] * 1e6:.1f} | {r['dense_splitk_graph_s'] * 1e6:.1f} | {r['hcam_graph_s'] * 1e6:.1f} | "
              f"{r['graph_speedup']:.2f}x | {r['rel_error']:.4f} | {r['kernel_error']:.4f} |")
    print("\nSpeed-ups are against the faster dense. GQA in dense SDPA: "
          + ", ".join(sorted({f"{r['shape']} {r['dense_gqa']}" for r in prefill + decode})))
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"device": name, "dtype": args.dtype, "torch": torch.__version__, "triton": triton.__version__,
            "flexprefill": fp.__dict__, "hcam": hp.__dict__}
    (args.out / "attention_gpu.json").write_text(json.dumps({**meta, "prefill": prefill, "decode": decode}, indent=2) + "\n")
    plot(prefill, decode, args.out / "attention_gpu.png", title=f"{name}, {args.dtype} (decode: CUDA graphs)",
         keys=("dense_s", "flexprefill_s", "best_dense_graph_s", "hcam_graph_s"))
    print(f"\nwrote {args.out / 'attention_gpu.json'} and {args.out / 'attention_gpu.png'}")


if __name__ == "__main__":
    main()
