"""Sparse attention through the real CPU engine with the default model: dense against FlexPrefill,
HCAM and both, model-level.

    python bench/attention_engine.py [--part agreement passkey] [--modes dense flexprefill hcam sparse]
                                     [--per-length 3] [--out bench/results]

- agreement: research-like prompts of 4k, 8k, 12k and 16k tokens (`--lengths`): paragraphs of the
  offline corpus with a dev question's gold paragraphs among them, then the question; greedy, 16 tokens
  (`--tokens`). Each sparse mode against dense: how often the first token agrees, how often all do, the mean
  agreeing prefix, time to first token and per decoded token. The sparse paths are taken from 4,096
  tokens on any kernel (`--attention` alone takes them only past their measured break-even, as `--measured`
  does here); mode `flexprefill-forced` uses every FlexPrefill pattern however dense (`dense_above` = 1).
- passkey: needles in filler paragraphs, prompts of 1k, 2k, 4k and 8k tokens (`--needle-lengths`):
  a 5-digit pass key at depths 10%, 50% and 90%; three keys of three doors at once, one asked for
  (`multikey`); and a two-hop needle, a person's city near one end and the city's code near the
  other (`multihop`, both orders). Accuracy (the key among the first 8 generated tokens) and time
  to first token. The thresholds are lowered to 512 tokens so that the sparse paths are tried at
  every length.

Each mode is one engine, started alone (dense first: the others are compared with it); prompts run
one at a time. The backend's probe records each
routed call: the tables give how many FlexPrefill calls ran sparse (the others found a pattern
keeping more than the dense kernel's break-even, `dense_above`, and took vLLM's dense kernel) with their mean
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
from attention_runtime.calibration import calibrated
from attention_runtime.engine import native_dtype
from attention_runtime.params import FlexPrefillParams
from attention_runtime.routing import AttentionSettings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
MODES = ("dense", "flexprefill", "hcam", "sparse", "flexprefill-forced")
DEFAULT_MODES = MODES[:4]  # flexprefill-forced: every pattern used, however dense (dense_above = 1)
AGREEMENT_LENGTHS = (4096, 8192, 12288, 16384)
PASSKEY_LENGTHS = (1024, 2048, 4096, 8192)
DEPTHS = (0.1, 0.5, 0.9)
NEEDLES = ("passkey", "multikey", "multihop")
DOORS = ("red", "green", "blue")
PEOPLE = ("Ana Kovac", "Tomas Ferreira", "Ilse Marten", "Ravi Chandran", "Mei Lindqvist")
CITIES = ("Norvale", "Castelbrook", "Ostrava Nova", "Pellinore", "Vanthorpe")
PASSKEY = dict(prefill_from=512, decode_from=512)
AGREEMENT = dict(prefill_from=4096, decode_from=4096)  # routed on any kernel, whatever its break-even


def paragraphs() -> list[dict]:
    return [json.loads(line) for line in (SHARED / "corpus.jsonl").open()]


def agreement_prompts(tokenizer, per_length: int, lengths=AGREEMENT_LENGTHS) -> list[dict]:
    docs = paragraphs()
    by_id = {d["doc_id"]: d for d in docs}
    questions = [json.loads(line) for line in (SHARED / "questions-dev.jsonl").open()]
    rng, start = random.Random(0), tokenizer("").input_ids  # BOS, for the models that take one
    prompts = []
    for length in lengths:
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
            body = body[: length - len(start) - len(tail) - len(gold_ids)]
            at = rng.randrange(len(body))
            ids = start + body[:at] + gold_ids + body[at:] + tail
            prompts.append({"length": length, "ids": ids})
    return prompts


def passkey_prompts(tokenizer, lengths=PASSKEY_LENGTHS, kinds=NEEDLES) -> list[dict]:
    """Needles in filler paragraphs: `passkey` (one key at each depth), `multikey` (three keys for
    three doors at 10%, 50% and 90%, asked for one), `multihop` (a person's city near one end, the
    city's code near the other: the answer needs both)."""
    docs = paragraphs()
    rng, other = random.Random(1), random.Random(2)
    prompts = []
    for length in lengths:
        filler: list[int] = []
        drawn = rng.sample(docs, 200)  # about 25k tokens; past that, more from a generator of their own,
        more = [d for d in random.Random(length).sample(docs, 400) if d not in drawn]  # so shorter prompts keep theirs
        for d in drawn + more:
            filler += tokenizer(f"{d['text']}\n", add_special_tokens=False).input_ids
            if len(filler) >= length:
                break
        for depth in DEPTHS:
            key = str(rng.randrange(10000, 100000))
            if "passkey" in kinds:
                prompts.append(needles(tokenizer, filler, length, "passkey", key, [(
                    depth, f"The pass key is {key}. Remember it. {key} is the pass key.")],
                    "There is a pass key hidden in the text below. Find it and remember it.",
                    "What is the pass key? The pass key is"))
        if "multikey" in kinds:
            keys = [str(other.randrange(10000, 100000)) for _ in DOORS]
            asked = other.randrange(len(DOORS))
            prompts.append(needles(tokenizer, filler, length, "multikey", keys[asked], [
                (depth, f"The key of the {door} door is {key}.") for depth, door, key in zip(DEPTHS, DOORS, keys)],
                "Three door keys are hidden in the text below. Find them and remember them.",
                f"What is the key of the {DOORS[asked]} door? The key of the {DOORS[asked]} door is"))
        if "multihop" in kinds:
            for person_at, city_at in ((0.1, 0.9), (0.9, 0.1)):
                person, city = other.choice(PEOPLE), other.choice(CITIES)
                code = str(other.randrange(10000, 100000))
                prompts.append(needles(tokenizer, filler, length, "multihop", code, [
                    (person_at, f"{person} lives in {city}."), (city_at, f"The pass code of {city} is {code}.")],
                    "Facts are hidden in the text below. Find them and remember them.",
                    f"What is the pass code of the city {person} lives in? The pass code is"))
    return prompts


def needles(tokenizer, filler: list[int], length: int, kind: str, key: str, facts: list[tuple[float, str]],
            intro: str, question: str) -> dict:
    """One prompt of `length` tokens: the intro, the filler with each fact at its depth, the question."""
    encode = lambda text: tokenizer(text, add_special_tokens=False).input_ids  # noqa: E731
    start = tokenizer("").input_ids  # BOS, for the models that take one
    head, tail = encode(intro + "\n\n"), encode("\n" + question)
    pieces = [(depth, encode(f"\n{fact}\n")) for depth, fact in sorted(facts)]
    room = length - len(start) - len(head) - len(tail) - sum(len(p) for _, p in pieces)
    body, at = [], 0
    for depth, piece in pieces:
        cut = int(room * depth)
        body += filler[at:cut] + piece
        at = cut
    ids = start + head + body + filler[at:room] + tail
    return {"length": length, "kind": kind, "depth": facts[0][0], "key": key, "ids": ids}


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


def settings_for(mode: str, part: str, model: str, measured: bool = False) -> AttentionSettings:
    """`--measured`: the thresholds `--attention` takes on this machine (`attention_runtime.calibration`)."""
    thresholds = {} if measured else PASSKEY if part == "passkey" else AGREEMENT
    if mode == "flexprefill-forced":
        settings = AttentionSettings(mode="flexprefill", flexprefill=FlexPrefillParams(dense_above=1.0), **thresholds)
    else:
        settings = AttentionSettings(mode=mode, **thresholds)
    return calibrated(settings, model, native_dtype("cpu"), 32768) if measured else settings


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
        for length in sorted({p["length"] for p in prompts}):
            idx = [i for i, p in enumerate(prompts) if p["length"] == length]
            dense, mine = [runs["dense"][i] for i in idx], [runs[mode][i] for i in idx]
            rows.append({
                "mode": mode, "tokens": length, "prompts": len(idx),
                "first_token_agrees": sum(a["tokens"][0] == b["tokens"][0] for a, b in zip(dense, mine)) / len(idx),
                "all_agree": sum(a["tokens"] == b["tokens"] for a, b in zip(dense, mine)) / len(idx),
                "agreeing_prefix": statistics.mean(prefix(a["tokens"], b["tokens"]) for a, b in zip(dense, mine)),
                **timing(mine, dense),
            })
    return rows


def passkey_table(prompts, runs) -> list[dict]:
    rows = []
    for mode in runs:
        for kind, length in sorted({(p["kind"], p["length"]) for p in prompts}, key=lambda x: (NEEDLES.index(x[0]), x)):
            idx = [i for i, p in enumerate(prompts) if (p["kind"], p["length"]) == (kind, length)]
            hits = [prompts[i]["key"] in runs[mode][i]["text"] for i in idx]
            rows.append({"mode": mode, "needle": kind, "tokens": length, "found": sum(hits), "of": len(idx),
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
        prompts = (agreement_prompts(tokenizer, args.per_length, args.lengths) if part == "agreement"
                   else passkey_prompts(tokenizer, args.needle_lengths, args.needles))
        longest = max(len(p["ids"]) for p in prompts)
        runs = {}
        settings = {m: settings_for(m, part, model, args.measured) for m in args.modes}
        for mode in args.modes:
            config = EngineConfig(model=model, max_model_len=longest + 32, kv_cache_bytes=2 << 30,
                                  attention=settings[mode])
            runs[mode] = await run_prompts(config, prompts, args.tokens if part == "agreement" else 8,
                                           out / f"probe-{part}-{mode}.jsonl")
            print(f"{part}: {mode} done", flush=True)
        table = agreement_table(prompts, runs) if part == "agreement" else passkey_table(prompts, runs)
        print(f"\n## {part}\n\n{markdown(table)}\n", flush=True)
        result["parts"][part] = {"settings": {m: st.to_dict() for m, st in settings.items()}, "table": table, "runs": runs}
    name = "attention_engine.json" if args.modes == list(DEFAULT_MODES) else f"attention_engine-{'-'.join(args.modes[1:])}.json"
    name = name.replace(".json", "-measured.json") if args.measured else name
    (out / name).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", choices=("agreement", "passkey"), default=["agreement", "passkey"])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(DEFAULT_MODES), help="dense first")
    parser.add_argument("--per-length", type=int, default=3, help="agreement prompts per length")
    parser.add_argument("--lengths", nargs="+", type=int, default=list(AGREEMENT_LENGTHS), help="agreement prompt lengths")
    parser.add_argument("--tokens", type=int, default=16, help="tokens generated per agreement prompt")
    parser.add_argument("--needles", nargs="+", choices=NEEDLES, default=list(NEEDLES), help="needle kinds (passkey part)")
    parser.add_argument("--needle-lengths", nargs="+", type=int, default=list(PASSKEY_LENGTHS),
                        help="needle prompt lengths")
    parser.add_argument("--measured", action="store_true",
                        help="route from the thresholds measured for the engine's kernel, as --attention does")
    parser.add_argument("--model", default=DEFAULT, help="catalogue name, checkpoint folder or Hugging Face id")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    asyncio.run(main(parser.parse_args()))
