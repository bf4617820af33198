"""The composition root: what a research run uses, built once from `Settings`.

    async with open_session(settings) as session:
        session.chat, session.search, session.fetcher, session.reader, session.memory, session.deps

`Researcher`, the evaluation and the CLI commands all build their parts here. Given parts (a chat
model, a search backend, an open memory) are used as they are and not closed here.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from agents.llm import ChatModel
from agents.reader import Reader
from agents.searcher import SearcherDeps
from agents.settings import Settings
from memory import AsyncMemory, Memory
from tools import Fetcher
from tools.search import LocalIndex, SearchBackend, make_backend

log = logging.getLogger("sleuth.researcher")

Prepare = Callable[[Settings], str]  # converts a catalogue model on first use; returns its folder


@dataclass
class Session:
    settings: Settings
    chat: ChatModel
    search: SearchBackend
    fetcher: Fetcher
    reader: Reader
    memory: AsyncMemory
    deps: SearcherDeps  # what a searcher (and so the planner) runs with


@asynccontextmanager
async def open_session(s: Settings, *, chat: ChatModel | None = None, search: SearchBackend | None = None,
                       memory: Memory | None = None, prepare: Prepare | None = None) -> AsyncIterator[Session]:
    async with AsyncExitStack() as stack:
        chat = chat or await open_chat(s, stack, prepare)
        corpus = LocalIndex(s.corpus_path)
        fetcher = await stack.enter_async_context(open_fetcher(s, corpus))
        amem = AsyncMemory(memory or s.open_memory())
        reader = Reader(fetcher, amem, freshness=timedelta(hours=s.freshness_hours))
        search = search or search_backend(s, corpus)
        deps = SearcherDeps(chat=chat, search=search, reader=reader, memory=amem, budget_tokens=s.context_tokens,
                            fit_tokens=s.max_context)
        yield Session(s, chat, search, fetcher, reader, amem, deps)


def search_backend(s: Settings, corpus: LocalIndex | None = None) -> SearchBackend:
    """The search backend the settings name (the local one over `corpus`, by default the data dir's)."""
    return make_backend(s.search_backend, local=corpus or LocalIndex(s.corpus_path), timeout=s.search_timeout,
                        retries=s.search_retries)


def open_fetcher(s: Settings, corpus: LocalIndex | None = None) -> Fetcher:
    """The fetcher with the settings' limits and address policy (`async with` it)."""
    return Fetcher(s.fetch_limits(), s.address_policy(), corpus or LocalIndex(s.corpus_path))


async def open_chat(s: Settings, stack: AsyncExitStack, prepare: Prepare | None = None) -> ChatModel:
    """The model the settings name, closed with `stack`: the server at `llm_url` if one is set; else
    a `sleuth serve` already serving `model` with the settings' attention at `serve_url` (said in one
    log line); else the in-process engine, after `prepare` (default: convert a catalogue model once,
    silently)."""
    from agents.llm import OpenAIChat

    url = s.llm_url
    if not url:
        served = await serve_attention(s.serve_url, s.model)
        if served == s.attention:
            url = s.serve_url
            log.warning("sleuth: using the sleuth serve at %s (model %s); no engine started here", url, s.model)
        elif served:
            log.warning("sleuth: the sleuth serve at %s runs %s with %s attention, not %s; starting an engine here",
                        s.serve_url, s.model, served, s.attention)
    if url:
        chat = OpenAIChat(url, s.model, timeout=s.llm_timeout)
        stack.push_async_callback(chat.aclose)
        return chat
    from agents.llm import LocalChat
    from attention_runtime import Engine, resolve

    path = prepare(s) if prepare else resolve(s.model, s.data_dir)
    return LocalChat(await Engine.shared(s.engine_config(path)))


def served_names(model: str, attention: str) -> list[str]:
    """The names `sleuth serve` serves `model` under: its own, which clients ask for, and one that
    tells sleuth the attention it runs with (`qwen2.5-coder-1.5b-instruct@sparse`)."""
    return [model, f"{model}@{attention}"]


async def serve_attention(url: str, model: str) -> str | None:
    """The attention an OpenAI-compatible server at `url` runs `model` with: from the name `sleuth
    serve` adds (`served_names`), else `dense` (vLLM's own); None when no server answers within a
    second or it does not list `model`."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=1.0, trust_env=False) as client:
            reply = await client.get(url.rstrip("/") + "/models")
        listed = [m.get("id") for m in reply.json().get("data", [])] if reply.status_code == 200 else []
        names = {n for n in listed if isinstance(n, str)}
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    if model not in names:
        return None
    return next((n.removeprefix(model + "@") for n in sorted(names) if n.startswith(model + "@")), "dense")


async def serves(url: str, model: str, attention: str = "dense") -> bool:
    """Whether a server at `url` answers, within a second, and serves `model` with `attention`."""
    return await serve_attention(url, model) == attention
