"""Sparse attention at the operator level on a GPU: the table of bench/attention.py at 32k-128k,
with the Triton kernels, against PyTorch's flash SDPA (the kernel family vLLM's default backend
uses). Not run yet: this machine has no GPU.

    python bench/attention_gpu.py [--prefill 32768,65536,131072] [--decode 32768,65536,131072] [--dtype bf16]

Prints the tables and writes bench/results/attention_gpu.json.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import torch  # noqa: E402

from attention_runtime.sparse import FlexPrefillParams, HCAMParams  # noqa: E402
from attention_runtime.sparse.flexprefill import flexprefill_mask  # noqa: E402
from attention_runtime.sparse.triton_flexprefill import block_sparse_attention_triton  # noqa: E402
from attention_runtime.sparse.triton_hcam import hcam_decode_triton  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from attention import SHAPES, rel_error, structured  # noqa: E402


def timed(fn, repeat: int = 5):
    fn()  # compile and warm up
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    best, out = float("inf"), None
    for _ in range(repeat):
        start.record()
        out = fn()
        end.record()
        torch.cuda.synchronize()
        best = min(best, start.elapsed_time(end) / 1e3)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefill", default="32768,65536,131072")
    ap.add_argument("--decode", default="32768,65536,131072")
    ap.add_argument("--shapes", default="embedded,8b")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16", "fp32"])
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench/attention_gpu.py needs a CUDA GPU; bench/attention.py measures the CPU.")
    torch.set_grad_enabled(False)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    fp = FlexPrefillParams(block_size=128, gamma=0.9, tau=0.1, min_budget=1024)
    hp = HCAMParams(chunk_size=64, top_k=16, sink=64, local=1024, min_context=4096)
    rows: dict[str, list] = {"prefill": [], "decode": []}
    for shape in args.shapes.split(","):
        Hq, Hkv, D = SHAPES[shape]
        for L in [int(x) for x in args.prefill.split(",") if x]:
            q, k, v = (t.cuda().to(dtype) for t in structured(Hq, Hkv, L, D, L))
            t_dense, dense = timed(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True))
            t_index, mask = timed(lambda: flexprefill_mask(q, k, fp))
            t_attn, out = timed(lambda: block_sparse_attention_triton(q, k, v, mask, fp.block_size))
            n = mask.shape[-1]
            rows["prefill"].append({"shape": shape, "tokens": L, "dense_s": t_dense, "index_s": t_index,
                                    "sparse_attention_s": t_attn, "speedup": t_dense / (t_index + t_attn),
                                    "density": float(mask.sum() / (Hq * n * (n + 1) / 2)),
                                    "rel_error": rel_error(out.float(), dense.float())})
            print(rows["prefill"][-1], flush=True)
        for L in [int(x) for x in args.decode.split(",") if x]:
            q, k, v = (t.cuda().to(dtype) for t in structured(Hq, Hkv, L, D, 1))
            t_dense, dense = timed(lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True))
            cs = hp.chunk_size
            summaries = k[:, :, : (L // cs) * cs].float().view(1, Hkv, L // cs, cs, D).mean(3)  # kept by the engine
            t_hcam, out = timed(lambda: hcam_decode_triton(q, k, v, hp, summaries=summaries))
            rows["decode"].append({"shape": shape, "tokens": L, "dense_s": t_dense, "hcam_s": t_hcam,
                                   "speedup": t_dense / t_hcam, "rel_error": rel_error(out.float(), dense.float())})
            print(rows["decode"][-1], flush=True)
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "attention_gpu.json").write_text(json.dumps({"device": torch.cuda.get_device_name(), **rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
