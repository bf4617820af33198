"""The ablation's memo of model replies (`bench/ablation.py`): a run again in the same --out pays only
for the requests the code now makes differently, and counts the calls it replays."""

import asyncio
import importlib.util
from pathlib import Path

from pydantic import BaseModel

from agents.llm import ScriptedChat
from agents.llm.base import counting

spec = importlib.util.spec_from_file_location("ablation", Path(__file__).parent.parent / "bench" / "ablation.py")
ablation = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ablation)


class Hop(BaseModel):
    answer: str


def chat() -> ScriptedChat:  # a stand-in for the model: the memo's logic is under test, not the model
    return ScriptedChat(lambda messages, schema: Hop(answer="Bardstown") if schema else f"re: {messages[-1].content}")


def ask(memo, *requests):
    async def go():
        with counting() as calls:
            replies = await asyncio.gather(*(memo.complete([{"role": "user", "content": q}], schema=schema)
                                             for q, schema in requests))
        return replies, calls
    return asyncio.run(go())


def test_a_second_run_replays_what_the_first_asked_and_counts_it(tmp_path):
    first_model = chat()
    replies, calls = ask(ablation.Memo(first_model, tmp_path / "memo.jsonl"),
                         ("Where is Barton?", None), ("Where is Barton?", None), ("Where is Barton?", Hop))
    assert replies == ["re: Where is Barton?", "re: Where is Barton?", Hop(answer="Bardstown")]
    assert len(first_model.requests) == 2 and len(calls) == 3  # the same request asked once, counted by each caller

    second_model = chat()
    replies, calls = ask(ablation.Memo(second_model, tmp_path / "memo.jsonl"),
                         ("Where is Barton?", Hop), ("Where is Barton?", None), ("Who owns Barton?", None))
    assert replies == [Hop(answer="Bardstown"), "re: Where is Barton?", "re: Who owns Barton?"]
    assert [r.messages[-1].content for r in second_model.requests] == ["Who owns Barton?"]
    assert len(calls) == 3 and all(c.usage.prompt_tokens > 0 for c in calls)


def test_a_reply_cut_short_by_an_interrupted_run_is_asked_again(tmp_path):
    memo = tmp_path / "memo.jsonl"
    ask(ablation.Memo(chat(), memo), ("Where is Barton?", None))
    memo.write_text(memo.read_text()[:-20])  # the run was killed while writing its last line
    again = chat()
    replies, _ = ask(ablation.Memo(again, memo), ("Where is Barton?", None))
    assert replies == ["re: Where is Barton?"] and len(again.requests) == 1
    third = chat()
    replies, _ = ask(ablation.Memo(third, memo), ("Where is Barton?", None))
    assert replies == ["re: Where is Barton?"] and third.requests == []  # what was asked again is kept
