"""A scripted model for tests: a rule decides each reply from the call itself, and every call is kept.

    chat = ScriptedChat(lambda messages, schema: Plan(steps=[]) if schema is Plan else "Paris")

This stands in for a real model only where a test is about the agents' logic, not about the model.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from pydantic import BaseModel

from agents.llm.base import CallRecord, Message, Messages, T, Usage, as_messages, complete_and_record

Rule = Callable[[list[Message], type[BaseModel] | None], str | BaseModel | dict]


@dataclass
class Request:
    messages: list[Message]
    schema: type[BaseModel] | None
    max_tokens: int
    temperature: float
    stop: list[str] | None


class ScriptedChat:
    def __init__(self, rule: Rule, *, name: str = "scripted", structured_retries: int = 2, delay: float = 0.0) -> None:
        self.rule = rule
        self.delay = delay  # seconds each call takes, to stand in for a real model's latency in benchmarks
        self.name = name
        self.structured_retries = structured_retries
        self.calls: list[CallRecord] = []
        self.requests: list[Request] = []

    async def complete(self, messages: Messages, *, schema: type[T] | None = None, max_tokens: int = 256,
                       temperature: float = 0.0, stop: list[str] | None = None) -> str | T:
        msgs = as_messages(messages)

        async def send(conversation: list[Message]) -> tuple[str, Usage]:
            self.requests.append(Request(conversation, schema, max_tokens, temperature, stop))
            if self.delay:
                await asyncio.sleep(self.delay)
            reply = self.rule(conversation, schema)
            if isinstance(reply, BaseModel):
                reply = reply.model_dump_json()
            elif isinstance(reply, dict):
                reply = json.dumps(reply)
            usage = Usage(prompt_tokens=sum(len(m.content.split()) for m in conversation), completion_tokens=len(reply.split()))
            return reply, usage

        return await complete_and_record(send, msgs, schema, retries=self.structured_retries, model=self.name,
                                         calls=self.calls)

    async def stream(self, messages: Messages, *, max_tokens: int = 256, temperature: float = 0.0,
                     stop: list[str] | None = None) -> AsyncIterator[str]:
        text = await self.complete(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        for i, word in enumerate(text.split(" ")):
            yield word if i == 0 else " " + word
