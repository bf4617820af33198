"""The one interface the agents talk to an LLM through, and what every implementation shares.

`ChatModel.complete(messages, schema=None, ...)` returns text, or an instance of the pydantic model
`schema` (the reply is decoded under that model's JSON schema where the backend can, and always
validated here). `stream(...)` yields text pieces. Every call is recorded with its token usage and
latency in `model.calls`, and in the list of an enclosing `counting()` block, so concurrent runs
sharing one client each see their own calls.
"""

import json
import time
from contextlib import contextmanager
from contextvars import ContextVar
from collections.abc import Iterator
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ValidationError

from agents.errors import StructuredOutputError

T = TypeVar("T", bound=BaseModel)


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


Messages = list[Message] | list[dict]


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0  # LLM calls, where a total over several is given
    largest_prompt: int = 0  # the most prompt tokens one of those calls read, where a total is given


class CallRecord(BaseModel):
    """One call to the model, as the caller would want to see it in a log or a benchmark."""

    model: str
    structured: bool
    usage: Usage
    seconds: float
    attempts: int = 1


@runtime_checkable
class ChatModel(Protocol):
    name: str
    calls: list[CallRecord]

    async def complete(
        self, messages: Messages, *, schema: type[T] | None = None, max_tokens: int = 256,
        temperature: float = 0.0, stop: list[str] | None = None,
    ) -> str | T: ...

    def stream(
        self, messages: Messages, *, max_tokens: int = 256, temperature: float = 0.0, stop: list[str] | None = None,
    ) -> AsyncIterator[str]: ...


def as_messages(messages: Messages) -> list[Message]:
    return [m if isinstance(m, Message) else Message(**m) for m in messages]


def schema_of(model: type[BaseModel]) -> dict:
    return model.model_json_schema()


def parse_structured(text: str, schema: type[T]) -> T:
    """Validate a reply; tolerate a code fence or text around one JSON object (some servers add them)."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        return schema.model_validate_json(body)
    except ValidationError as first:
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end and (start, end) != (0, len(body) - 1):
            try:
                return schema.model_validate_json(body[start : end + 1])
            except ValidationError:
                pass
        raise first


async def complete_structured(
    send: Callable[[list[Message]], Awaitable[tuple[str, Usage]]],
    messages: list[Message],
    schema: type[T],
    *,
    retries: int,
) -> tuple[T, Usage, int]:
    """Ask, validate, and on a malformed reply ask again with the validation error shown to the model."""
    usage = Usage()
    conversation = list(messages)
    for attempt in range(1, retries + 2):
        text, used = await send(conversation)
        usage.prompt_tokens += used.prompt_tokens
        usage.completion_tokens += used.completion_tokens
        try:
            return parse_structured(text, schema), usage, attempt
        except ValidationError as e:
            problem = _describe(e)
            conversation = [*messages, Message(role="assistant", content=text),
                            Message(role="user", content=f"That reply is not valid: {problem}. Reply again with only JSON "
                                                         f"matching this schema: {json.dumps(schema_of(schema))}")]
    raise StructuredOutputError(
        f"the model's reply did not match {schema.__name__} after {retries + 1} attempts ({problem})."
    )


async def complete_and_record(
    send: Callable[[list[Message]], Awaitable[tuple[str, Usage]]],
    messages: list[Message],
    schema: type[T] | None,
    *,
    retries: int,
    model: str,
    calls: list[CallRecord],
) -> str | T:
    """One `complete` call of any client: plain text, or a validated `schema` instance (with the
    retries above); its usage, latency and attempts are appended to `calls`."""
    with Timer() as t:
        if schema is None:
            result, usage = await send(messages)
            attempts = 1
        else:
            result, usage, attempts = await complete_structured(send, messages, schema, retries=retries)
    record(calls, CallRecord(model=model, structured=schema is not None, usage=usage, seconds=t.seconds, attempts=attempts))
    return result


_counted: ContextVar[list[CallRecord] | None] = ContextVar("sleuth_counted_calls", default=None)


@contextmanager
def counting() -> Iterator[list[CallRecord]]:
    """The calls made inside this block (and tasks it starts), by any client; blocks nest."""
    calls: list[CallRecord] = []
    previous = _counted.get()
    _counted.set(calls)
    try:
        yield calls
    finally:  # a plain set, not reset(token): an async generator may be closed in another context
        _counted.set(previous)
        if previous is not None:  # an enclosing block counts these too
            previous.extend(calls)


def record(calls: list[CallRecord], call: CallRecord) -> None:
    """Append `call` to a client's `calls` and to the enclosing `counting()` list, if any."""
    calls.append(call)
    if (counted := _counted.get()) is not None:
        counted.append(call)


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "the reply"
    return f"{where}: {first['msg']}"


class Timer:
    def __enter__(self) -> "Timer":
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
