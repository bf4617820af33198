"""A client for any OpenAI-compatible `/v1/chat/completions` server: `sleuth serve`, `vllm serve`, a
cluster behind a router, or another server. Streaming is server-sent events; structured output is
`response_format` with a JSON schema, validated again here."""

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx

from agents.errors import LLMError, LLMUnavailable
from agents.llm.base import (
    CallRecord, Message, Messages, T, Timer, Usage, as_messages, complete_and_record, record, schema_of,
)
from tools.retry import Retries

_RETRY = {429, 500, 502, 503, 504}
_PATH = "/v1/chat/completions"


class OpenAIChat:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        retries: int = 2,
        backoff: float = 0.5,
        structured_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.name = model
        self.retries = retries
        self.backoff = backoff
        self.structured_retries = structured_retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
        )
        self.calls: list[CallRecord] = []

    async def aclose(self) -> None:
        await self._client.aclose()

    async def complete(self, messages: Messages, *, schema: type[T] | None = None, max_tokens: int = 256,
                       temperature: float = 0.0, stop: list[str] | None = None) -> str | T:
        msgs = as_messages(messages)
        extra = {}
        if schema is not None:
            extra["response_format"] = {"type": "json_schema",
                                        "json_schema": {"name": schema.__name__, "schema": schema_of(schema)}}

        async def send(conversation: list[Message]) -> tuple[str, Usage]:
            data = await self._post(self._body(conversation, max_tokens, temperature, stop, **extra))
            try:
                text = data["choices"][0]["message"]["content"] or ""
            except (KeyError, IndexError, TypeError):
                raise LLMError(f"the server at {self.base_url} sent a reply without a message.") from None
            return text, Usage(**{k: v for k, v in (data.get("usage") or {}).items() if k in Usage.model_fields})

        return await complete_and_record(send, msgs, schema, retries=self.structured_retries, model=self.name,
                                         calls=self.calls)

    async def stream(self, messages: Messages, *, max_tokens: int = 256, temperature: float = 0.0,
                     stop: list[str] | None = None) -> AsyncIterator[str]:
        body = self._body(as_messages(messages), max_tokens, temperature, stop, stream=True,
                          stream_options={"include_usage": True})
        usage = Usage()
        with Timer() as t:
            async with self._request(body) as response:
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    event = json.loads(payload)
                    if event.get("usage"):
                        usage = Usage(**{k: v for k, v in event["usage"].items() if k in Usage.model_fields})
                    for choice in event.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content")
                        if piece:
                            yield piece
        record(self.calls, CallRecord(model=self.name, structured=False, usage=usage, seconds=t.seconds))

    # ------------------------------------------------------------------------------------------

    def _body(self, messages: list[Message], max_tokens: int, temperature: float, stop: list[str] | None, **extra) -> dict:
        body = {"model": self.name, "messages": [m.model_dump() for m in messages], "max_tokens": max_tokens,
                "temperature": temperature, **extra}
        if stop:
            body["stop"] = stop
        return body

    async def _post(self, body: dict) -> dict:
        async with self._request(body) as response:
            await response.aread()
            try:
                return response.json()
            except ValueError:
                raise LLMError(f"the server at {self.base_url} did not answer with JSON.") from None

    @asynccontextmanager
    async def _request(self, body: dict) -> AsyncIterator[httpx.Response]:
        """POST a chat completion with bounded retries on connection errors, 429 and 5xx; yields the
        open response (the retries cover opening it, never a response already handed out)."""
        for attempt in Retries(self.retries, self.backoff):
            last = attempt.last
            stack = AsyncExitStack()
            try:
                response = await stack.enter_async_context(self._client.stream("POST", _PATH, json=body))
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as e:
                if last:
                    raise LLMUnavailable(f"cannot reach the LLM server at {self.base_url} ({e.__class__.__name__}); "
                                         "is `sleuth serve` running?") from None
                await attempt.wait()
                continue
            except httpx.TimeoutException:
                raise LLMError(f"the LLM server at {self.base_url} did not answer in time.") from None
            async with stack:
                if response.status_code < 400:
                    yield response
                    return
                await response.aread()
            if response.status_code in _RETRY and not last:
                await attempt.wait()
                continue
            raise await self._error(response)

    async def _error(self, response: httpx.Response) -> LLMError:
        detail = _detail(response)
        if response.status_code == 404 or "does not exist" in detail.lower() or "not found" in detail.lower():
            served = await self._served_models()
            hint = f" (it serves: {', '.join(served)})" if served else ""
            return LLMUnavailable(f"the server at {self.base_url} does not serve the model '{self.name}'{hint}.")
        if response.status_code in (401, 403):
            return LLMUnavailable(f"the server at {self.base_url} refused the API key (HTTP {response.status_code}).")
        return LLMError(f"the server at {self.base_url} answered HTTP {response.status_code}: {detail}")

    async def _served_models(self) -> list[str]:
        try:
            response = await self._client.get("/v1/models")
            return [m["id"] for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
            return []


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
        error = data.get("error") if isinstance(data, dict) else None
        message = error.get("message") if isinstance(error, dict) else (error or data.get("message") or data.get("detail"))
        return str(message)[:300]
    except ValueError:
        return response.text[:300] or response.reason_phrase
