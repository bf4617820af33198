"""The ChatModel clients without an engine: OpenAIChat against a loopback stub (error paths), and
ScriptedChat; the structured-output retry shared by all."""

import socket

import pytest
from pydantic import BaseModel

from agents.llm import LLMUnavailable, OpenAIChat, ScriptedChat, StructuredOutputError
from tests.openai_stub import OpenAIStub


class Distillery(BaseModel):
    name: str
    founded: int


@pytest.fixture(scope="module")
def stub():
    s = OpenAIStub()
    yield s
    s.stop()


async def test_plain_completion_reports_usage_and_latency(stub):
    chat = OpenAIChat(stub.url, "echo")
    assert await chat.complete([{"role": "user", "content": "hi"}], max_tokens=5) == "ok: hi"
    assert chat.calls[-1].usage.prompt_tokens == 7 and chat.calls[-1].seconds > 0
    assert stub.requests[-1]["max_tokens"] == 5 and stub.requests[-1]["temperature"] == 0.0
    await chat.aclose()


async def test_server_errors_are_retried(stub):
    chat = OpenAIChat(stub.url, "flaky", backoff=0.0)
    assert await chat.complete([{"role": "user", "content": "x"}]) == "ok: x"
    assert stub.counts["flaky"] == 2
    await chat.aclose()


async def test_a_malformed_structured_reply_is_retried_with_the_error_shown(stub):
    chat = OpenAIChat(stub.url, "json-fixes-itself")
    result = await chat.complete([{"role": "user", "content": "Tell me about Barton."}], schema=Distillery)
    assert result == Distillery(name="Barton", founded=1879)
    retry = stub.requests[-1]
    assert retry["response_format"]["json_schema"]["schema"]["properties"]["founded"]["type"] == "integer"
    assert "founded" in retry["messages"][-1]["content"] and "not valid" in retry["messages"][-1]["content"]
    assert chat.calls[-1].attempts == 2
    await chat.aclose()


async def test_a_reply_that_never_validates_is_a_typed_error(stub):
    chat = OpenAIChat(stub.url, "json-never", structured_retries=1)
    with pytest.raises(StructuredOutputError, match="Distillery after 2 attempts"):
        await chat.complete([{"role": "user", "content": "x"}], schema=Distillery)
    await chat.aclose()


async def test_streaming_yields_pieces_then_records_usage(stub):
    chat = OpenAIChat(stub.url, "stream")
    pieces = [p async for p in chat.stream([{"role": "user", "content": "x"}])]
    assert pieces == ["Hel", "lo ", "there"] and chat.calls[-1].usage.completion_tokens == 3
    await chat.aclose()


async def test_a_wrong_model_name_says_what_is_served(stub):
    chat = OpenAIChat(stub.url, "gpt-17")
    with pytest.raises(LLMUnavailable, match="does not serve the model 'gpt-17' .*echo"):
        await chat.complete([{"role": "user", "content": "x"}])
    await chat.aclose()


async def test_an_unreachable_server_is_a_clear_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chat = OpenAIChat(f"http://127.0.0.1:{port}/v1", "any", retries=1, backoff=0.0)
    with pytest.raises(LLMUnavailable, match=f"cannot reach the LLM server at http://127.0.0.1:{port}"):
        await chat.complete([{"role": "user", "content": "x"}])
    await chat.aclose()


async def test_scripted_chat_answers_by_rule_and_records_calls():
    def rule(messages, schema):
        if schema is Distillery:
            return {"name": "Barton", "founded": 1879}
        return "Paris" if "capital" in messages[-1].content else "I don't know"

    chat = ScriptedChat(rule)
    assert await chat.complete([{"role": "user", "content": "The capital of France?"}]) == "Paris"
    assert await chat.complete([{"role": "user", "content": "Who?"}], schema=Distillery) == Distillery(name="Barton", founded=1879)
    assert [r.schema for r in chat.requests] == [None, Distillery] and len(chat.calls) == 2
    assert "".join([p async for p in chat.stream([{"role": "user", "content": "capital?"}])]) == "Paris"


async def test_sleuth_reuses_a_serve_only_with_the_attention_it_asks_for():
    """`sleuth serve` lists the model under a second name that says its attention; a server that
    lists the model alone (any other vLLM) runs vLLM's dense attention; one that does not list the
    model, or does not answer, is not reused."""
    from agents.session import serve_attention, served_names, serves
    from tests.loopback import LoopbackServer, send_json

    listed: list[str] = []
    server = LoopbackServer(lambda h: send_json(h, 200, {"data": [{"id": n} for n in listed]})).start()
    url = server.url + "/v1"
    try:
        listed[:] = served_names("m", "sparse")
        assert await serve_attention(url, "m") == "sparse"
        assert await serves(url, "m", "sparse") and not await serves(url, "m", "dense")
        listed[:] = ["m"]
        assert await serves(url, "m", "dense") and not await serves(url, "m", "hcam")
        listed[:] = served_names("m2", "dense")
        assert await serve_attention(url, "m") is None
    finally:
        server.stop()
    assert await serve_attention(url, "m") is None  # nobody listens there now
