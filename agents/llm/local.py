"""`LocalChat`: the in-process vLLM engine behind the `ChatModel` interface.

Concurrent calls go to the engine as they come (it batches them); `max_in_flight` records how many
were running at once, which is how a test sees that nothing serialises them.
"""

from collections.abc import AsyncIterator

from agents.errors import LLMError
from agents.llm.base import (
    CallRecord, Message, Messages, T, Usage, as_messages, complete_and_record, record, schema_of,
)
from attention_runtime.engine import Engine, EngineError


class LocalChat:
    def __init__(self, engine: Engine, *, structured_retries: int = 1) -> None:
        self.engine = engine
        self.name = engine.config.model
        self.structured_retries = structured_retries
        self.calls: list[CallRecord] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def complete(self, messages: Messages, *, schema: type[T] | None = None, max_tokens: int = 256,
                       temperature: float = 0.0, stop: list[str] | None = None) -> str | T:
        msgs = as_messages(messages)
        # Constrained decoding makes the JSON valid by construction; a reply cut by max_tokens is
        # the one way it can still fail, and then the retry shows the model the error.
        json_schema = schema_of(schema) if schema is not None else None

        async def send(conversation: list[Message]) -> tuple[str, Usage]:
            prompt, stops = self.engine.chat_prompt([m.model_dump() for m in conversation])
            self._enter()
            try:
                g = await self.engine.generate(prompt, max_tokens=max_tokens, temperature=temperature,
                                               stop=None if json_schema else [*stops, *(stop or [])], json_schema=json_schema)
            except EngineError as e:
                raise LLMError(str(e)) from e
            finally:
                self.in_flight -= 1
            return g.text.strip() if json_schema is None else g.text, Usage(prompt_tokens=g.prompt_tokens,
                                                                             completion_tokens=g.completion_tokens)

        return await complete_and_record(send, msgs, schema, retries=self.structured_retries, model=self.name,
                                         calls=self.calls)

    async def stream(self, messages: Messages, *, max_tokens: int = 256, temperature: float = 0.0,
                     stop: list[str] | None = None) -> AsyncIterator[str]:
        prompt, stops = self.engine.chat_prompt([m.model_dump() for m in as_messages(messages)])
        self._enter()
        try:
            async for piece, done in self.engine.stream(prompt, max_tokens=max_tokens, temperature=temperature,
                                                        stop=[*stops, *(stop or [])]):
                if done is not None:
                    record(self.calls, CallRecord(model=self.name, structured=False, seconds=done.seconds,
                                                 usage=Usage(prompt_tokens=done.prompt_tokens,
                                                             completion_tokens=done.completion_tokens)))
                elif piece:
                    yield piece
        finally:
            self.in_flight -= 1

    def _enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
