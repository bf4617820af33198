"""`--attention sparse` through the real CPU engine with the embedded model, against the default
dense engine: identical below the thresholds, the same answers above them, and the sparse paths
really taken in vLLM's worker."""

import json
import random

import pytest

from tests.conftest import on_loop
from tools.search import SAMPLE_CORPUS

pytestmark = pytest.mark.engine

SHORT = ["The capital of France is",
         "Passage: Kentucky Tavern is a bourbon made by the Sazerac Company in Bardstown, Kentucky.\n"
         "Question: Which company makes Kentucky Tavern?\nAnswer:"]


def long_prompt(tokenizer, length: int, seed: int) -> list[int]:
    """`length` tokens: sample-corpus paragraphs with a question's gold paragraphs among them, then the question."""
    docs = [json.loads(line) for line in SAMPLE_CORPUS.open()]
    by_id = {d["doc_id"]: d for d in docs}
    questions = [json.loads(line) for line in (SAMPLE_CORPUS.parent / "questions.jsonl").open()]
    rng = random.Random(seed)
    q = rng.choice([q for q in questions if all(i in by_id for i in q["gold_doc_ids"])])

    def tokens(d):
        return tokenizer(f"{d['title']}. {d['text']}\n\n", add_special_tokens=False).input_ids

    tail = tokenizer(f"Question: {q['question']}\nAnswer:", add_special_tokens=False).input_ids
    gold = [t for i in q["gold_doc_ids"] for t in tokens(by_id[i])]
    body = []
    for d in rng.sample(docs, len(docs)):
        if d["doc_id"] not in q["gold_doc_ids"]:
            body += tokens(d)
        if len(body) >= length:
            break
    body = body[: length - len(gold) - len(tail) - (1 if getattr(tokenizer, "add_bos_token", False) else 0)]
    at = rng.randrange(len(body))
    bos = [tokenizer.bos_token_id] if getattr(tokenizer, "add_bos_token", False) else []
    return bos + body[:at] + gold + body[at:] + tail


def both(engine, sparse_engine, prompt, max_tokens):
    dense = on_loop(engine)(engine[0].generate(prompt, max_tokens=max_tokens))
    sparse = on_loop(sparse_engine)(sparse_engine[0].generate(prompt, max_tokens=max_tokens))
    return dense, sparse


def test_below_the_thresholds_sparse_output_is_identical_to_dense(engine, sparse_engine):
    for prompt in [*SHORT, long_prompt(engine[0].tokenizer, 3000, seed=0)]:
        dense, sparse = both(engine, sparse_engine, prompt, 16)
        assert dense.completion_tokens == 16 and sparse.token_ids == dense.token_ids


def test_long_prompts_keep_the_dense_next_token_among_the_sparse_engines_best(engine, sparse_engine, probe):
    """Sparse attention is approximate and bf16 flips near-ties, so the first token itself is not
    compared; the dense engine's choice must stay among the sparse engine's 5 most likely tokens,
    with a log-probability close to the sparse engine's best (a broken path scatters both)."""
    for length, seed in ((4096, 1), (8192, 2)):
        prompt = long_prompt(engine[0].tokenizer, length, seed)
        assert len(prompt) == length
        dense = on_loop(engine)(engine[0].generate(prompt, max_tokens=4))
        sparse = on_loop(sparse_engine)(sparse_engine[0].generate(prompt, max_tokens=4, logprobs=5))
        first = sparse.logprobs[0]
        assert dense.token_ids[0] in first, (length, dense.token_ids[0], first)
        assert max(first.values()) - first[dense.token_ids[0]] < 2.0, (length, first)
    records = [json.loads(line) for line in probe.read_text().splitlines()]
    sparse = {r["route"] for r in records if r.get("sparse")}
    assert sparse == {"flexprefill", "hcam"}  # both sparse paths ran in the worker, not a dense fallback


def test_short_requests_batched_with_a_routed_one_get_the_dense_output(engine, sparse_engine):
    """While a long prompt is prefilled (FlexPrefill) and decoded (HCAM), short requests share its
    steps; vLLM's kernel runs them as their own smaller batch, and their output must be what the
    dense engine gives for the same batch. (Not what each gives alone: vLLM's bf16 arithmetic
    already differs with the batch's make-up on the dense engine.)"""
    long = long_prompt(engine[0].tokenizer, 4096, seed=4)

    def batch(e):
        return on_loop(e)(e[0].generate(long, max_tokens=8), *(e[0].generate(p, max_tokens=24) for p in SHORT))

    dense, sparse = batch(engine), batch(sparse_engine)
    assert [g.token_ids for g in sparse[1:]] == [g.token_ids for g in dense[1:]]
