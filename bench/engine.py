"""Engine benchmark: start time, prefill and decode throughput, structured-output overhead, and
decode for 8 parallel sequences against transformers on the same machine, in the same run.

    python bench/engine.py [--out bench/results] [--skip-transformers]
    python bench/engine.py --binding [--model NAME]    # the thread-binding table

--binding measures vLLM's CPU thread binding instead: prefill (512 and 2,048 tokens) and decode
(64 tokens, one sequence) with vLLM's own binding (`VLLM_CPU_OMP_THREADS_BIND=auto`: one worker
thread pinned to core 0 on a 2-core machine) and unbound (`nobind`: OpenMP on every core, sleuth's
default), each idle and beside a second engine doing the same, in child processes.

Cold start converts the embedded model into a fresh folder, then starts the engine; warm start
starts it again from the converted checkpoint. Prefill: time to the first token for prompts of
512, 2,048 and 8,192 tokens (paragraphs of the offline corpus). Decode: 128 tokens, greedy, EOS
ignored, for 1 and for 8 sequences at once. Structured output: the same request as free text and
under a JSON schema, compared per output token. transformers runs last, alone, on the same
checkpoint (fp32, the faster dtype for it on CPU), with a batch of 8. Prints a table, writes JSON.
"""

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "bench" / "corpus.jsonl"
DECODE_TOKENS = 128


class Place(BaseModel):
    city: str
    country: str


class Facts(BaseModel):
    subject: str
    founded: int
    places: list[Place]
    summary: str


def corpus_tokens(tokenizer, n: int, start: int = 0) -> list[int]:
    """`n` tokens of corpus text from paragraph `start` on: a different start for every prompt, so
    that no measurement is served from vLLM's prefix cache."""
    text, ids = [], []
    with CORPUS.open() as f:
        for i, line in enumerate(f):
            if i < start:
                continue
            text.append(json.loads(line)["text"])
            if len(text) % 50 == 0:
                ids = tokenizer(" ".join(text)).input_ids
                if len(ids) >= n:
                    break
    return ids[:n]


async def measure_engine(model_dir: Path, result: dict) -> None:
    from attention_runtime import Engine, EngineConfig

    started = time.perf_counter()
    engine = Engine(EngineConfig(model=str(model_dir), max_model_len=9216, kv_cache_bytes=2 << 30))
    await engine.start()
    result["warm_start_s"] = round(time.perf_counter() - started, 1)
    result["cold_start_s"] = round(result["conversion_s"] + result["warm_start_s"], 1)
    await engine.generate("Warm up.", max_tokens=4)

    result["prefill"] = {}
    start = 0
    for n in (512, 2048, 8192):
        times = []
        for _ in range(2):
            ids = corpus_tokens(engine.tokenizer, n, start)
            start += n // 40  # paragraphs are about 100 tokens: the next prompt shares no prefix
            g = await engine.generate(ids, max_tokens=1)
            times.append(g.seconds)
        result["prefill"][n] = round(n / min(times), 1)

    prompt = "The history of the city begins"
    one = await engine.generate(prompt, max_tokens=DECODE_TOKENS, ignore_eos=True)
    result["decode_1_tok_s"] = round(one.completion_tokens / one.seconds, 2)
    t = time.perf_counter()
    many = await asyncio.gather(*(engine.generate(f"{prompt} {i}", max_tokens=DECODE_TOKENS, ignore_eos=True)
                                  for i in range(8)))
    result["decode_8_tok_s"] = round(sum(g.completion_tokens for g in many) / (time.perf_counter() - t), 2)

    ask = ("Passage: The Barton Distillery was founded in 1879 in Bardstown, Kentucky, USA, and makes Kentucky "
           "Tavern bourbon.\nWrite the facts of the passage.")
    free, structured = [], []
    for _ in range(3):
        g = await engine.generate(ask, max_tokens=96, ignore_eos=True)
        free.append(g.seconds / g.completion_tokens)
        g = await engine.generate(ask, max_tokens=160, json_schema=Facts.model_json_schema())
        Facts.model_validate_json(g.text)
        structured.append(g.seconds / g.completion_tokens)
    result["free_ms_per_token"] = round(statistics.median(free) * 1000, 2)
    result["structured_ms_per_token"] = round(statistics.median(structured) * 1000, 2)
    engine.shutdown()


def measure_transformers(model_dir: Path, result: dict) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(os.cpu_count() or 1)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    prompts = [f"The history of the city begins {i}" for i in range(8)]
    batch = tok(prompts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        model.generate(**tok(prompts[:1], return_tensors="pt"), max_new_tokens=4, do_sample=False)
        t = time.perf_counter()
        out = model.generate(**batch, max_new_tokens=DECODE_TOKENS, min_new_tokens=DECODE_TOKENS, do_sample=False)
        seconds = time.perf_counter() - t
    new_tokens = (out.shape[1] - batch.input_ids.shape[1]) * len(prompts)
    result["transformers_decode_8_tok_s"] = round(new_tokens / seconds, 2)


async def binding_probe(model: str) -> dict:
    """One engine's prefill and decode speed under the binding in this process's environment."""
    from attention_runtime import Engine, EngineConfig

    engine = Engine(EngineConfig(model=model, max_model_len=4096))
    await engine.start()
    await engine.generate("Warm up.", max_tokens=4)
    out = {"bind": os.environ["VLLM_CPU_OMP_THREADS_BIND"]}
    for n, start in ((512, 0), (2048, 40)):
        g = await engine.generate(corpus_tokens(engine.tokenizer, n, start), max_tokens=1)
        out[f"prefill_{n}_s"] = round(g.seconds, 2)
    g = await engine.generate("The history of the city begins", max_tokens=64, ignore_eos=True)
    out["decode_tok_s"] = round(g.completion_tokens / g.seconds, 2)
    engine.shutdown()
    return out


def binding_table(model: str, out_dir: Path) -> None:
    import subprocess
    import sys

    rows = []
    for bind in ("auto", "nobind"):
        for beside in (False, True):
            env = {**os.environ, "VLLM_CPU_OMP_THREADS_BIND": bind, "VLLM_LOGGING_LEVEL": "ERROR"}
            cmd = [sys.executable, __file__, "--probe", "--model", model]
            procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2 if beside else 1)]
            results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
            row = {"bind": bind, "beside_second_engine": beside,
                   **{k: round(statistics.mean(r[k] for r in results), 2) for k in results[0] if k != "bind"}}
            rows.append(row)
            print(row, flush=True)
    print("\n| binding | second engine | prefill 512 | prefill 2,048 | decode |\n| --- | --- | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['bind']} | {'yes' if r['beside_second_engine'] else 'no'} | {r['prefill_512_s']} s "
              f"| {r['prefill_2048_s']} s | {r['decode_tok_s']} tok/s |")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "engine_binding.json").write_text(json.dumps({"model": model, "cpus": os.cpu_count(), "rows": rows}, indent=2) + "\n")
    print(f"\nwritten to {out_dir / 'engine_binding.json'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--skip-transformers", action="store_true")
    ap.add_argument("--binding", action="store_true", help="the thread-binding table instead")
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--model", default=None, help="catalogue name or checkpoint folder (--binding)")
    args = ap.parse_args()
    if args.binding or args.probe:
        import platformdirs

        from attention_runtime import DEFAULT, resolve

        model = resolve(args.model or DEFAULT, Path(platformdirs.user_data_path("sleuth")))
        if args.probe:
            print(json.dumps(asyncio.run(binding_probe(model))))
        else:
            binding_table(model, args.out)
        return

    from attention_runtime import DEFAULT, entry, prepare

    result: dict = {"machine": {"cpus": os.cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        model_dir = prepare(entry(DEFAULT), Path(tmp) / DEFAULT)
        result["conversion_s"] = round(time.perf_counter() - t, 1)
        asyncio.run(measure_engine(model_dir, result))
        if not args.skip_transformers:
            measure_transformers(model_dir, result)

    rows = [
        ("cold start (conversion + engine)", f"{result['cold_start_s']} s"),
        ("warm start (cached checkpoint)", f"{result['warm_start_s']} s"),
        *[(f"prefill {n:,} tokens", f"{v:,} tok/s") for n, v in result["prefill"].items()],
        ("decode, 1 sequence", f"{result['decode_1_tok_s']} tok/s"),
        ("decode, 8 sequences", f"{result['decode_8_tok_s']} tok/s"),
        ("free text / structured output", f"{result['free_ms_per_token']} / {result['structured_ms_per_token']} ms per token"),
    ]
    if "transformers_decode_8_tok_s" in result:
        ratio = result["decode_8_tok_s"] / result["transformers_decode_8_tok_s"]
        result["decode_8_speedup_vs_transformers"] = round(ratio, 2)
        rows.append(("transformers decode, 8 sequences", f"{result['transformers_decode_8_tok_s']} tok/s "
                                                          f"(engine is {ratio:.1f}x faster)"))
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "engine.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {args.out / 'engine.json'}")


if __name__ == "__main__":
    main()
