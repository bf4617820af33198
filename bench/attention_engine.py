"""Sparse attention through the real CPU engine with the embedded model: dense against FlexPrefill,
HCAM and both, model-level.

    python bench/attention_engine.py [--part agreement passkey] [--modes dense flexprefill hcam sparse]
                                     [--per-length 3] [--out bench/results]

- agreement: research-like prompts of 4k, 8k, 12k and 16k tokens (paragraphs of the offline
  corpus with a dev question's gold paragraphs among them, then the question), greedy, 16 tokens.
  Each sparse mode against dense: how often the first token agrees, how often all 16 do, the mean
  agreeing prefix, time to first token and per decoded token. The settings are the defaults
  `--attention` gives (sparse from 4,096 tokens); mode `flexprefill-forced` uses every FlexPrefill
  pattern however dense (`dense_above` = 1).
- passkey: a 5-digit key in filler paragraphs at depths 10%, 50% and 90%, prompts of 1k, 2k, 4k and
  8k tokens; accuracy (the key among the first 8 generated tokens) and time to first token. The
  thresholds are lowered to 512 tokens so that the sparse paths are tried at every length.

Each mode is one engine, started alone (dense first: the others are compared with it); prompts run
one at a time. The backend's probe records each
routed call: the tables give how many FlexPrefill calls ran sparse (the others found a pattern
keeping more than `dense_above` of the blocks and took vLLM's dense kernel) with their mean
density, and how many HCAM decode calls attended to top-k chunks rather than everything. Prints
tables, writes JSON.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from pathlib import Path

import platformdirs

from attention_runtime import DEFAULT, Engine, EngineConfig, resolve
from attention_runtime.params import FlexPrefillParams
from attention_runtime.routing import AttentionSettings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
MODES = ("dense", "flexprefill", "hcam", "sparse", "flexprefill-forced")
DEFAULT_MODES = MODES[:4]  # flexprefill-forced: every pattern used, however dense (dense_above = 1)
AGREEMENT_LENGTHS = (4096, 8192, 12288, 16384)
PASSKEY_LENGTHS = (1024, 2048, 4096, 8192)
DEPTHS = (0.1, 0.5, 0.9)
PASSKEY = dict(prefill_from=512, decode_from=512)


def paragraphs() -> list[dict]:
    return [json.loads(line) for line in (SHARED / "corpus.jsonl").open()]


def agreement_prompts(tokenizer, per_length: int) -> list[dict]:
    docs = paragraphs()
    by_id = {d["doc_id"]: d for d in docs}
    questions = [json.loads(line) for line in (SHARED / "questions-dev.jsonl").open()]
    rng = random.Random(0)
    prompts = []
    for length in AGREEMENT_LENGTHS:
        for q in rng.sample(questions, per_length):
            tail = tokenizer(f"\n\nQuestion: {q['question']}\nAnswer:", add_special_tokens=False).input_ids
            gold = [by_id[i] for i in q["gold_doc_ids"] if i in by_id]
            filler = rng.sample(docs, 400)
            body: list[int] = []
            for d in filler:
                body += tokenizer(f"{d['title']}. {d['text']}\n\n", add_special_tokens=False).input_ids
                if len(body) >= length:
                    break
            gold_ids = [t for d in gold for t in tokenizer(f"{d['title']}. {d['text']}\n\n", add_special_tokens=False).input_ids]
            gold_ids = gold_ids[:400]
            body = body[: length - 1 - len(tail) - len(gold_ids)]
            at = rng.randrange(len(body))
            ids = [tokenizer.bos_token_id] + body[:at] + gold_ids + body[at:] + tail
            prompts.append({"length": length, "ids": ids})
    return prompts


def passkey_prompts(tokenizer) -> list[dict]:
    docs = paragraphs()
    rng = random.Random(1)
    intro = tokenizer("There is a pass key hidden in the text below. Find it and remember it.\n\n",
                      add_special_tokens=False).input_ids
    prompts = []
    for length in PASSKEY_LENGTHS:
        filler: list[int] = []
        for d in rng.sample(docs, 200):
            filler += tokenizer(f"{d['text']}\n", add_special_tokens=False).input_ids
            if len(filler) >= length:
                break
        for depth in DEPTHS:
            key = str(rng.randrange(10000, 100000))
            needle = tokenizer(f"\nThe pass key is {key}. Remember it. {key} is the pass key.\n",
                               add_special_tokens=False).input_ids
            question = tokenizer("\nWhat is the pass key? The pass key is", add_special_tokens=False).input_ids
            room = length - 1 - len(intro) - len(needle) - len(question)
            at = int(room * depth)
            ids = [tokenizer.bos_token_id] + intro + filler[:at] + needle + filler[at:room] + question
            prompts.append({"length": length, "depth": depth, "key": key, "ids": ids})
    return prompts


async def run_prompts(config: EngineConfig, prompts: list[dict], max_tokens: int, probe: Path) -> list[dict]:
    os.environ["SLEUTH_ATTENTION_PROBE"] = str(probe)  # the workers started next inherit it
    probe.unlink(missing_ok=True)
    engine = Engine(config)
    await engine.start()
    await engine.generate("Warm up.", max_tokens=2)
    out = []
    try:
        for p in prompts:
            started, first = time.perf_counter(), None
            async for piece, done in engine.stream(p["ids"], max_tokens=max_tokens, ignore_eos=True):
                if first is None:
                    first = time.perf_counter() - started
                if done is not None:
                    out.append({"tokens": done.token_ids, "text": done.text, "ttft_s": round(first, 3),
                                "decode_s": round((done.seconds - first) / max(1, len(done.token_ids) - 1), 4),
                                "calls": calls(probe)})
    finally:
        engine.shutdown()
    return out


def calls(probe: Path) -> dict:
    """What the backend did for the prompt just run (its routed calls, read off the probe and cleared)."""
    rows = [json.loads(line) for line in probe.read_text().splitlines()] if probe.exists() else []
    probe.write_text("")
    flex = [r for r in rows if r.get("route") == "flexprefill"]
    sparse = [r for r in flex if r["sparse"]]
    return {"flexprefill": len(flex), "flexprefill_sparse": len(sparse),
            "density": [r["density"] for r in flex], "hcam": sum(r.get("route") == "hcam" for r in rows),
            "hcam_sparse": sum(r.get("route") == "hcam" and r["sparse"] for r in rows)}


def settings_for(mode: str, part: str) -> AttentionSettings:
    thresholds = PASSKEY if part == "passkey" else {}
    if mode == "flexprefill-forced":
        return AttentionSettings(mode="flexprefill", flexprefill=FlexPrefillParams(dense_above=1.0), **thresholds)
    return AttentionSettings(mode=mode, **thresholds)


def prefix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def timing(mine: list[dict], dense: list[dict]) -> dict:
    ttft, decode = statistics.mean(r["ttft_s"] for r in mine), statistics.mean(r["decode_s"] for r in mine)
    flex = sum(r["calls"]["flexprefill"] for r in mine)
    densities = [d for r in mine for d in r["calls"]["density"]]
    return {"ttft_s": ttft, "ttft_vs_dense": ttft / statistics.mean(r["ttft_s"] for r in dense),
            "decode_s": decode, "decode_vs_dense": decode / statistics.mean(r["decode_s"] for r in dense),
            "flexprefill_sparse": f"{sum(r['calls']['flexprefill_sparse'] for r in mine)}/{flex}",
            "mean_density": statistics.mean(densities) if densities else "-",
            "hcam_sparse": f"{sum(r['calls']['hcam_sparse'] for r in mine)}/{sum(r['calls']['hcam'] for r in mine)}"}


def agreement_table(prompts, runs) -> list[dict]:
    rows = []
    for mode in runs:
        for length in AGREEMENT_LENGTHS:
            idx = [i for i, p in enumerate(prompts) if p["length"] == length]
            dense, mine = [runs["dense"][i] for i in idx], [runs[mode][i] for i in idx]
            rows.append({
                "mode": mode, "tokens": length, "prompts": len(idx),
                "first_token_agrees": sum(a["tokens"][0] == b["tokens"][0] for a, b in zip(dense, mine)) / len(idx),
                "all_16_agree": sum(a["tokens"] == b["tokens"] for a, b in zip(dense, mine)) / len(idx),
                "agreeing_prefix": statistics.mean(prefix(a["tokens"], b["tokens"]) for a, b in zip(dense, mine)),
                **timing(mine, dense),
            })
    return rows


def passkey_table(prompts, runs) -> list[dict]:
    rows = []
    for mode in runs:
        for length in PASSKEY_LENGTHS:
            idx = [i for i, p in enumerate(prompts) if p["length"] == length]
            hits = [prompts[i]["key"] in runs[mode][i]["text"] for i in idx]
            rows.append({"mode": mode, "tokens": length, "found": sum(hits), "of": len(idx),
                         **timing([runs[mode][i] for i in idx], [runs["dense"][i] for i in idx])})
    return rows


def markdown(rows: list[dict]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in r.values()) + " |")
    return "\n".join(lines)


async def main(args) -> None:
    model = resolve(args.model, Path(platformdirs.user_data_path("sleuth")))
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    result: dict = {"parts": {}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for part in args.part:
        prompts = agreement_prompts(tokenizer, args.per_length) if part == "agreement" else passkey_prompts(tokenizer)
        longest = max(len(p["ids"]) for p in prompts)
        runs = {}
        for mode in args.modes:
            config = EngineConfig(model=model, max_model_len=longest + 32, kv_cache_bytes=2 << 30,
                                  attention=settings_for(mode, part))
            runs[mode] = await run_prompts(config, prompts, 16 if part == "agreement" else 8,
                                           out / f"probe-{part}-{mode}.jsonl")
            print(f"{part}: {mode} done", flush=True)
        table = agreement_table(prompts, runs) if part == "agreement" else passkey_table(prompts, runs)
        print(f"\n## {part}\n\n{markdown(table)}\n", flush=True)
        result["parts"][part] = {"settings": {m: settings_for(m, part).to_dict() for m in args.modes}, "table": table,
                                 "runs": runs}
    name = "attention_engine.json" if args.modes == list(DEFAULT_MODES) else f"attention_engine-{'-'.join(args.modes[1:])}.json"
    (out / name).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", choices=("agreement", "passkey"), default=["agreement", "passkey"])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(DEFAULT_MODES), help="dense first")
    parser.add_argument("--per-length", type=int, default=3, help="agreement prompts per length")
    parser.add_argument("--model", default=DEFAULT, help="catalogue name, checkpoint folder or Hugging Face id")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    asyncio.run(main(parser.parse_args()))
