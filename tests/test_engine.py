"""The real vLLM engine with the real default model (Qwen2.5-Coder-1.5B-Instruct), shared by the whole session
(the fixtures are in conftest.py)."""

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import BaseModel

from agents.llm import LLMUnavailable, LocalChat, OpenAIChat
from attention_runtime import DEFAULT, Engine, EngineConfig, EngineError

pytestmark = pytest.mark.engine

EXTRACT = [{"role": "user", "content": "Passage: Kentucky Tavern is a bourbon made by the Sazerac Company in Bardstown, "
                                       "Kentucky.\nQuestion: Which company makes Kentucky Tavern?"}]


class Place(BaseModel):
    city: str
    country: str


class Fact(BaseModel):
    subject: str
    place: Place
    year: int
    certain: bool


def test_greedy_output_is_deterministic_and_batched_runs_agree(engine, run):
    e, _ = engine
    first = run(e.generate("The capital of France is", max_tokens=12))
    again = run(e.generate("The capital of France is", max_tokens=12))
    batch = run(*(e.generate("The capital of France is", max_tokens=12) for _ in range(3)))
    assert first.completion_tokens == 12 and first.text.strip()
    assert {tuple(g.token_ids) for g in (again, *batch)} == {tuple(first.token_ids)}


def test_the_model_answers_from_a_passage(engine, run):
    chat = LocalChat(engine[0])
    answer = run(chat.complete(EXTRACT, max_tokens=12))
    assert "Sazerac" in answer
    assert chat.calls[-1].usage.prompt_tokens > 20 and chat.calls[-1].usage.completion_tokens > 0


def test_structured_output_returns_a_valid_nested_model(engine, run):
    chat = LocalChat(engine[0])
    fact = run(chat.complete(
        [{"role": "user", "content": "Kentucky Tavern was first registered in 1903 in Owensboro, Kentucky, USA. "
                                     "Give the fact as JSON."}],
        schema=Fact, max_tokens=120))
    assert isinstance(fact, Fact) and isinstance(fact.place, Place)
    assert fact.subject and fact.place.city and isinstance(fact.year, int)
    assert chat.calls[-1].structured


def test_parallel_requests_run_together(engine, run):
    chat = LocalChat(engine[0])
    prompts = [[{"role": "user", "content": f"Write a sentence about the number {i}."}] for i in range(8)]
    answers = run(*(chat.complete(p, max_tokens=16) for p in prompts))
    assert all(a for a in answers) and len(chat.calls) == 8
    assert chat.max_in_flight == 8  # all eight were in the engine at once: nothing serialised them


def test_streaming_gives_the_same_text_as_a_complete_call(engine, run):
    chat = LocalChat(engine[0])

    async def collect():
        return [p async for p in chat.stream(EXTRACT, max_tokens=12)]

    pieces = run(collect())
    assert len(pieces) > 1 and "".join(pieces).strip() == run(chat.complete(EXTRACT, max_tokens=12))


def test_sleuths_attention_backend_runs_inside_the_worker(engine, run, probe):
    run(engine[0].generate("Hello", max_tokens=2))
    records = [json.loads(line) for line in probe.read_text().splitlines()]
    assert any(r["backend"] == "SleuthCPUAttentionBackend" and r["pid"] != os.getpid() for r in records)


def test_a_missing_model_path_is_a_clear_error():
    with pytest.raises(EngineError, match="the model path /no/such/model does not exist"):
        Engine(EngineConfig(model="/no/such/model"))


def test_sleuth_serve_answers_chat_completions_and_sleuth_ask_reuses_it(model_dir, tmp_path):
    """`sleuth serve --attention sparse` on loopback, asked the way curl would, then through
    OpenAIChat, then by `sleuth ask --attention sparse`, which must use it instead of starting an engine."""
    from agents.session import serves
    from tools.search import SAMPLE_CORPUS

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "data" / "models").mkdir(parents=True)
    (tmp_path / "data" / "models" / model_dir.name).symlink_to(model_dir)
    env = {**os.environ, "SLEUTH_DATA_DIR": str(tmp_path / "data"), "SLEUTH_CONFIG": str(tmp_path / "none.toml"),
           "SLEUTH_MAX_MODEL_LEN": "4096"}
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), "--attention", "sparse"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:  # wait for readiness: poll the health endpoint, bounded
            assert server.poll() is None, server.stderr.read()[-2000:]
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "sleuth serve did not become healthy in 300 s"
            time.sleep(1)
        reply = httpx.post(base + "/v1/chat/completions", timeout=60, json={
            "model": DEFAULT, "messages": EXTRACT, "max_tokens": 12, "temperature": 0})
        assert reply.status_code == 200, reply.text
        assert "Sazerac" in reply.json()["choices"][0]["message"]["content"]

        async def through_client():
            chat = OpenAIChat(base + "/v1", DEFAULT)
            place = await chat.complete([{"role": "user", "content": "Bardstown is a city in Kentucky, USA. As JSON:"}],
                                        schema=Place, max_tokens=60)
            wrong = OpenAIChat(base + "/v1", "gpt-17")
            with pytest.raises(LLMUnavailable, match=DEFAULT):
                await wrong.complete(EXTRACT)
            await chat.aclose()
            await wrong.aclose()
            return place

        assert isinstance(asyncio.run(through_client()), Place)
        assert asyncio.run(serves(base + "/v1", DEFAULT, "sparse")) and not asyncio.run(serves(base + "/v1", "gpt-17"))
        assert not asyncio.run(serves(base + "/v1", DEFAULT, "dense"))  # a dense `sleuth ask` starts its own engine

        ask_env = {**env, "SLEUTH_SERVE_URL": base + "/v1", "SLEUTH_ATTENTION": "sparse"}
        subprocess.run([sys.executable, "-m", "cli", "index", "add", str(SAMPLE_CORPUS)], env=ask_env, check=True,
                       capture_output=True)
        asked = subprocess.run([sys.executable, "-m", "cli", "ask", "--search", "local", "--max-nodes", "1", "--json",
                                "Which company makes Kentucky Tavern bourbon?"],
                               env=ask_env, capture_output=True, text=True, timeout=600)
        assert asked.returncode == 0, asked.stderr[-2000:]
        assert f"sleuth: using the sleuth serve at {base}/v1 (model {DEFAULT})" in asked.stderr
        assert "sleuth engine:" not in asked.stderr  # no engine was started in the asking process
        assert json.loads(asked.stdout)["text"].strip()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        server.stderr.close()


def test_sleuth_ask_answers_a_dev_set_question_with_a_citation(model_dir, tmp_path):
    """The product end to end: the real engine, the embedded model, local search on the sample corpus."""
    from tools.search import SAMPLE_CORPUS

    question = json.loads((SAMPLE_CORPUS.parent / "questions.jsonl").read_text().splitlines()[0])
    (tmp_path / "data" / "models").mkdir(parents=True)
    (tmp_path / "data" / "models" / model_dir.name).symlink_to(model_dir)
    env = {**os.environ, "SLEUTH_DATA_DIR": str(tmp_path / "data"), "SLEUTH_CONFIG": str(tmp_path / "none.toml"),
           "SLEUTH_SERVE_URL": "http://127.0.0.1:9/v1"}  # the in-process engine, even beside a running `sleuth serve`
    subprocess.run([sys.executable, "-m", "cli", "index", "add", str(SAMPLE_CORPUS)], env=env, check=True,
                   capture_output=True)
    result = subprocess.run([sys.executable, "-m", "cli", "ask", "--search", "local", "--json", question["question"]],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout)
    assert answer["text"].strip() and answer["citations"]
    assert answer["short"] and re.sub(r"\s*\[\d+\]", "", answer["text"].split("\n")[0]).strip() == answer["short"]
    assert all(c["url"].startswith("sleuth://doc/") and c["quote"] for c in answer["citations"])
    assert f"[{answer['citations'][0]['number']}]" in answer["text"]


def test_a_reading_prompts_passages_are_counted_within_the_fit_margin(model_dir):
    """What `Settings.max_context` rests on: the estimate of the passages' tokens is under the
    model's own count by less than FIT_MARGIN, so that a prompt filled to the limit fits the
    context, and not far over it, so that it is filled."""
    from transformers import AutoTokenizer

    from agents.prompts import model_tokens, passage
    from agents.settings import FIT_MARGIN
    from memory import Chunk
    from tools.search import SAMPLE_CORPUS

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    docs = [json.loads(line) for line in SAMPLE_CORPUS.read_text().splitlines() if line.strip()]
    chunks = [Chunk(id=i, page_id=i, ordinal=0, start=0, end=len(d["text"]), text=d["text"], tokens=0, summary="",
                    title=d["title"]) for i, d in enumerate(docs)]
    for group in (chunks[:100], chunks[100:200], chunks[200:]):
        text = "\n".join(passage(i, c) for i, c in enumerate(group, 1))
        real, estimate = len(tokenizer.encode(text, add_special_tokens=False)), sum(model_tokens(passage(i, c)) + 1
                                                                                       for i, c in enumerate(group, 1))
        assert 0.9 * estimate < real < FIT_MARGIN * estimate
