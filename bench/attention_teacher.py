"""Per-position next-token agreement with dense attention under teacher forcing, through the real
CPU engine with the embedded model: the issue's criterion (the model's next-token choice agrees
with dense on at least 99% of the positions tested).

    python bench/attention_teacher.py [--lengths 4096 8192 16384] [--per-length 2] [--continuation 32] [--gamma 0.9]

Prompts are bench/attention_engine.py's agreement prompts (corpus paragraphs around a question).
- FlexPrefill, every pattern used however dense (`dense_above` = 1; gamma `--gamma`): a dense engine and a
  FlexPrefill engine each give their top-1 next token at every prompt position (vLLM's
  `prompt_logprobs`). Counted: the positions from 2,048 on, the prefill chunks FlexPrefill takes
  (chunks of 2,048 whose sequence reaches 4,096 tokens).
- HCAM, the defaults: the HCAM engine decodes `--continuation` tokens greedily; the dense engine
  then scores prompt + continuation and gives its own top-1 after each prefix HCAM saw. Counted:
  the HCAM tokens dense would have chosen too. Dense decoding is scored the same way as the
  baseline, since vLLM's dense prefill and decode kernels (bf16) need not agree with each other.

Reads vLLM's outputs through the engine's AsyncLLM (the Engine API returns no logprobs). Slow on
CPU: vLLM's prompt logprobs cost about 15 s per 1,000 tokens here (a log-softmax over the 262k
vocabulary at every position), and each prompt is scored three times. Prints a table, writes
bench/results/attention_teacher.json.
"""

import argparse
import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import platformdirs

from attention_runtime import DEFAULT, Engine, EngineConfig, resolve  # noqa: E402
from attention_runtime.params import FlexPrefillParams  # noqa: E402
from attention_runtime.routing import AttentionSettings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import attention_engine  # noqa: E402

FLEX_FROM = 2048  # the first prefill chunk FlexPrefill takes (chunks of 2,048; sequence >= 4,096)


def modes(gamma: float) -> dict[str, AttentionSettings]:
    """The engines compared: dense, FlexPrefill with every pattern used, HCAM with the defaults."""
    return {"dense": AttentionSettings(),
            "flexprefill-forced": AttentionSettings(mode="flexprefill", prefill_from=4096,
                                                    flexprefill=FlexPrefillParams(gamma=gamma, dense_above=1.0)),
            "hcam": AttentionSettings(mode="hcam", decode_from=4096)}


async def request(engine: Engine, ids: list[int], *, max_tokens: int, prompt_top1: bool):
    """(generated ids, top-1 next token after each prompt prefix, or None)."""
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind

    params = SamplingParams(max_tokens=max_tokens, temperature=0.0, ignore_eos=True,
                            prompt_logprobs=1 if prompt_top1 else None, output_kind=RequestOutputKind.FINAL_ONLY)
    final = None
    async for out in engine._engine.generate({"prompt_token_ids": ids}, params, request_id=uuid.uuid4().hex):
        final = out
    top1 = None
    if prompt_top1:  # entry i: the distribution of token i given tokens < i; entry 0 is None
        top1 = [next(t for t, lp in d.items() if lp.rank == 1) for d in final.prompt_logprobs[1:]]
    return list(final.outputs[0].token_ids), top1


async def with_engine(settings: AttentionSettings, model: str, max_len: int, probe: Path, work):
    os.environ["SLEUTH_ATTENTION_PROBE"] = str(probe)  # the workers started next inherit it
    probe.unlink(missing_ok=True)
    engine = Engine(EngineConfig(model=model, max_model_len=max_len, kv_cache_bytes=2 << 30, attention=settings))
    await engine.start()
    try:
        return await work(engine)
    finally:
        engine.shutdown()


def share(a: list[int], b: list[int]) -> tuple[int, int]:
    return sum(x == y for x, y in zip(a, b)), len(a)


async def main(args) -> None:
    model = resolve(args.model, Path(platformdirs.user_data_path("sleuth")))
    from transformers import AutoTokenizer

    attention_engine.AGREEMENT_LENGTHS = tuple(args.lengths)
    prompts = attention_engine.agreement_prompts(AutoTokenizer.from_pretrained(model), args.per_length)
    settings = modes(args.gamma)
    K = args.continuation
    max_len = max(len(p["ids"]) for p in prompts) + K + 8
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    async def hcam_work(engine):
        res = []
        for p in prompts:
            res.append({"tokens": (await request(engine, p["ids"], max_tokens=K, prompt_top1=False))[0],
                        "calls": attention_engine.calls(out / "probe-teacher-hcam.jsonl")})
        return res

    async def flex_work(engine):
        res = []
        for p in prompts:
            res.append({"top1": (await request(engine, p["ids"], max_tokens=1, prompt_top1=True))[1],
                        "calls": attention_engine.calls(out / "probe-teacher-flexprefill-forced.jsonl")})
        return res

    hcam = await with_engine(settings["hcam"], model, max_len, out / "probe-teacher-hcam.jsonl", hcam_work)
    print("hcam done", flush=True)
    flex = await with_engine(settings["flexprefill-forced"], model, max_len, out / "probe-teacher-flexprefill-forced.jsonl",
                             flex_work)
    print("flexprefill-forced done", flush=True)

    async def dense_work(engine):
        res = []
        for p, h in zip(prompts, hcam):
            n = len(p["ids"])
            own = (await request(engine, p["ids"], max_tokens=K, prompt_top1=False))[0]
            top1 = (await request(engine, p["ids"] + own, max_tokens=1, prompt_top1=True))[1]
            forced_hcam = (await request(engine, p["ids"] + h["tokens"], max_tokens=1, prompt_top1=True))[1][n - 1:]
            res.append({"top1": top1[: n - 1], "own": own, "forced_own": top1[n - 1:], "forced_hcam": forced_hcam})
        return res

    dense = await with_engine(settings["dense"], model, max_len, out / "probe-teacher-dense.jsonl", dense_work)
    rows = []
    for length in args.lengths:
        idx = [i for i, p in enumerate(prompts) if p["length"] == length]
        counts = {"flex": [0, 0], "flex_all": [0, 0], "hcam": [0, 0], "dense": [0, 0]}
        for i in idx:
            d, f = dense[i], flex[i]
            for key, pair in (("flex", share(f["top1"][FLEX_FROM:], d["top1"][FLEX_FROM:])),
                              ("flex_all", share(f["top1"], d["top1"])),
                              ("hcam", share(hcam[i]["tokens"], d["forced_hcam"])),
                              ("dense", share(d["own"], d["forced_own"]))):
                counts[key][0] += pair[0]
                counts[key][1] += pair[1]
        flex_calls = [flex[i]["calls"] for i in idx]
        hcam_calls = [hcam[i]["calls"] for i in idx]
        rows.append({"tokens": length, "prompts": len(idx),
                     "flexprefill_positions": counts["flex"][1], "flexprefill_agree": counts["flex"][0] / counts["flex"][1],
                     "flexprefill_agree_all_positions": counts["flex_all"][0] / counts["flex_all"][1],
                     "flexprefill_sparse_calls": f"{sum(c['flexprefill_sparse'] for c in flex_calls)}/"
                                                 f"{sum(c['flexprefill'] for c in flex_calls)}",
                     "hcam_positions": counts["hcam"][1], "hcam_agree": counts["hcam"][0] / counts["hcam"][1],
                     "hcam_sparse_calls": f"{sum(c['hcam_sparse'] for c in hcam_calls)}/{sum(c['hcam'] for c in hcam_calls)}",
                     "dense_decode_agree": counts["dense"][0] / counts["dense"][1]})
    print("\n" + attention_engine.markdown(rows) + "\n", flush=True)
    name = "attention_teacher.json" if args.gamma == 0.9 else f"attention_teacher-gamma{args.gamma}.json"
    (out / name).write_text(json.dumps(
        {"settings": {m: s.to_dict() for m, s in settings.items()}, "continuation": K, "table": rows,
         "runs": {"dense": dense, "flexprefill-forced": flex, "hcam": hcam}}, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", nargs="+", type=int, default=[4096, 8192, 16384])
    parser.add_argument("--per-length", type=int, default=2)
    parser.add_argument("--continuation", type=int, default=32, help="tokens HCAM decodes")
    parser.add_argument("--gamma", type=float, default=0.9, help="FlexPrefill's attention mass to keep")
    parser.add_argument("--model", default=DEFAULT, help="catalogue name, checkpoint folder or Hugging Face id")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    asyncio.run(main(parser.parse_args()))
