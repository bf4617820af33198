"""The searcher (MindSearch's WebSearcher): one sub-question in, one cited sub-answer out.

rewrite -> search -> select -> read -> recall -> answer, as a LangGraph graph whose nodes are
plain functions of its state; recall goes back to read while the evidence budget is not filled and
hits are left (short pages: a corpus of paragraphs), so that the budget is read, not left empty.
A sub-question that comes with its queries is searched as they are; one without (it needs earlier
answers, its `context`, but does not name them) is rewritten into queries by the model. The answer
is short (a name, a date, yes or no), cited, with the passage sentence that supports it as
evidence. A question that names a page by its title is first asked of that page's passages and
of the pages it names (`first_read`), all of them if those give no answer. An answer from all that
rests on no passage about what the question names (another film's date, whichever passage it
cites: `holding`) is asked again of the passages that are (`about_subject`); one that only repeats
what the question names is asked again of all, the model told so (`repeats`).
Queries are searched in parallel and pages read concurrently; the answer cites the recalled chunks
as [1], [2], ... in the order they were given to the model.
"""

import asyncio
import re
from dataclasses import dataclass
from typing import TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph

from agents import prompts
from agents.citations import lexical_support, renumber, repeats, strip_markers
from agents.events import PageRead, SearchStarted
from agents.llm import ChatModel, StructuredOutputError
from agents.reader import Reader
from agents.untrusted import defang
from memory import AsyncMemory, Chunk, Scope, canonical_url, split_sentences
from tools.errors import SearchError
from tools.search import SearchBackend, SearchHit
from tools.text import MARKER, content_words

NOTHING_FOUND = "No information was found for this question."


class SearcherState(TypedDict, total=False):
    node_id: str  # the plan node this searcher answers (for progress events)
    question: str
    context: list[str]  # answers of the sub-questions this one depends on
    today: str
    run_id: str
    queries: list[str]
    given_pages: list[int]  # pages read by the sub-questions this one depends on: recalled from too
    hits: list[SearchHit]
    errors: list[str]  # what the search backend said of each query it could not search
    urls: list[str]  # the pages to read next
    queue: list[str]  # the other hits, best first, read while the budget is not filled
    page_ids: list[int]  # the pages this searcher read
    pages_read: int
    rounds: int
    chunks: list[Chunk]
    found: bool  # whether the pages read answer it; if not, `answer` is NOTHING_FOUND or why searching failed
    error: str  # why searching failed, when no query could be searched ("DuckDuckGo could not be reached ...")
    answer: str  # the short answer, cited: "The Sazerac Company [2]"
    evidence: str  # the passage sentence that supports it, cited: the explanation


FIRST_PAGES = 4  # each query's best pages read first
MAX_ROUNDS = 4  # reading rounds at most: the first, then more pages while the budget is not filled
FILLED = 0.9  # the share of the budget that counts as filled
MAX_HITS = 300  # hits a query asks for at most: the largest budget (30,232) holds about 270 paragraphs
MAX_MORE = 128  # pages a later round reads at most


@dataclass
class SearcherDeps:
    chat: ChatModel
    search: SearchBackend
    reader: Reader
    memory: AsyncMemory
    budget_tokens: int = 500  # the evidence one reading step gives the model (setting `context_tokens`)
    fit_tokens: int | None = None  # the most its passages may take of the model's context (`Settings.max_context`)

    @property
    def max_results(self) -> int:
        """Hits asked of each query: enough short pages to fill the budget (one per 100 tokens, at
        most MAX_HITS), at least 6."""
        return max(6, min(MAX_HITS, self.budget_tokens // 100))


def evidence(answer: str, question: str, chunks: list[Chunk]) -> str:
    """The explanation behind a short answer: the sentence, in a passage the answer cites (any
    passage if it cites none), that holds most of the answer's words, then most of the question's;
    cited, so that the explanation rests on a page read, not on the model's words."""
    cited = [int(n) for n in MARKER.findall(answer) if 1 <= int(n) <= len(chunks)]
    said = content_words(MARKER.sub(" ", answer))
    asked = content_words(question)
    best, score = "", (0, 0)
    for i in cited or range(1, len(chunks) + 1):
        for sentence in split_sentences(" ".join(chunks[i - 1].text.split())):
            words = content_words(sentence)
            overlap = (len(said & words), len(asked & words))
            if overlap > score:
                best, score = f"{sentence.strip().rstrip('.')} [{i}].", overlap
    return best


def _phrase(text: str) -> str:
    return " ".join(text.replace("’", "'").lower().split())


def titled(question: str, chunks: list[Chunk]) -> set[str]:
    """The titles of the pages read that the question names in full, as a name (capitalised in it):
    "Who directed Sabotage (1936 Film)?" names "Sabotage (1936 film)", not "Sabotage (2014 film)",
    and not "Sabotage" alone, since the question says which one."""
    asked, capitalised = _phrase(question), " ".join(question.replace("’", "'").split())
    inside = {i for m in re.finditer(r"\(.*?\)", asked) for i in range(m.start(), m.end())}  # "(1936 Film)"
    named = set()
    for title in {c.title for c in chunks}:
        t = _phrase(title)
        end = "" if t.endswith(")") else r"(?!\w)(?!\s*\()"  # "Sabotage" is not "Sabotage (1936 Film)"
        for m in re.finditer(rf"(?<!\w){re.escape(t)}{end}", asked) if t else ():
            if capitalised[m.start():m.start() + 1].isupper() and m.start() not in inside:  # a name, not "film"
                named.add(title)
    return named


def about_subject(question: str, chunks: list[Chunk]) -> list[int]:
    """The passages (numbered from 1) about what a question asks of: those of the pages it names by
    title (`titled`), else those that name at least half of the names it gives (its capitalised words
    after the first: "Moscow Pride '06" -> moscow, pride); and those of the pages these name ("Who
    directed Jaws?" names Jaws; Jaws's page names Steven Spielberg, so his page is about it too: the
    next hop of a question asked whole). Empty when it names nothing ("When was he born?")."""
    names = content_words(" ".join(re.findall(r"(?<!^)\b[A-Z][\w-]*", re.sub(r"['’]s\b", "", question))))
    if not names:
        return []
    pages = titled(question, chunks)
    naming = {c.id: c for c in chunks
              if (c.title in pages if pages else 2 * len(names & content_words(f"{c.title} {c.text}")) >= len(names))}
    said = " ".join(" ".join(c.text for c in naming.values()).lower().split())

    def named(title: str) -> bool:  # the page's title, less "(film)", as a phrase of those passages
        title = " ".join(re.sub(r"\(.*?\)", " ", title).lower().split())
        return bool(title) and re.search(rf"(?<!\w){re.escape(title)}(?!\w)", said) is not None

    return [i for i, c in enumerate(chunks, 1) if c.id in naming or named(c.title)]


def first_read(question: str, chunks: list[Chunk]) -> list[Chunk]:
    """The passages a question is first asked of: when it names a page read by its full title
    (`titled`), those of that page and of the pages it names (`about_subject`); else all. Other
    pages' passages distract a small model: given six passages, the 1.5B answered "Where was the
    place of death of Otto Kanturek?" with his birthplace (Vienna), and "Cawston, Norfolk" given his
    page's. A question that names its subject only loosely ("the author of Brand") is asked of all:
    the passages that share its words may not hold the answer (a brand consultant's)."""
    about = about_subject(question, chunks) if titled(question, chunks) else []
    return [chunks[i - 1] for i in about] if about and len(about) < len(chunks) else chunks


def holding(answer: str, chunks: list[Chunk]) -> set[int]:
    """The passages (numbered from 1) an answer rests on: those it cites that hold its words
    (`lexical_support`), else those that do, else those it cites. A small model cites one passage
    and takes a date from another ("When was Frank Borzage born?": Frank Lloyd's birth date, citing
    Borzage's page)."""
    cited = {int(n) for n in MARKER.findall(answer) if 1 <= int(n) <= len(chunks)}
    return ({i for i in cited if lexical_support(answer, chunks[i - 1])}  # it leaves the markers out itself
            or {i for i, c in enumerate(chunks, 1) if lexical_support(answer, c)} or cited)


def build_searcher(deps: SearcherDeps):
    async def rewrite(state: SearcherState) -> SearcherState:
        if state.get("queries"):  # queries given (a sub-question that names what it asks): searched as they are
            return {}
        try:
            reply = await deps.chat.complete(prompts.rewrite(state["question"], state.get("context", []), state["today"]),
                                             schema=prompts.Queries, max_tokens=96)
            written = reply.queries
        except StructuredOutputError:  # the sub-question itself is still a query worth searching
            written = []
        return {"queries": list(dict.fromkeys(q.strip() for q in [state["question"], *written] if q.strip()))[:3]}

    async def search(state: SearcherState) -> SearcherState:
        async def one(query: str) -> list[SearchHit] | str:
            try:
                return await deps.search.search(query, max_results=deps.max_results)
            except SearchError as e:
                return str(e)

        get_stream_writer()(SearchStarted(node=state.get("node_id"), queries=state["queries"]))
        results = await asyncio.gather(*(one(q) for q in state["queries"]))
        seen, hits = set(), []
        for result in results:
            for hit in result if isinstance(result, list) else []:
                key = canonical_url(hit.url)
                if key not in seen:
                    seen.add(key)
                    hits.append(hit)
        return {"hits": hits, "errors": [r for r in results if isinstance(r, str)]}

    def select(state: SearcherState) -> SearcherState:
        ranked = [h.url for h in sorted(state["hits"], key=lambda h: h.rank)]  # the best of each query first
        first = len([h for h in state["hits"] if h.rank <= FIRST_PAGES])
        return {"urls": ranked[:first], "queue": ranked[first:], "page_ids": [], "pages_read": 0, "rounds": 0}

    async def read(state: SearcherState) -> SearcherState:
        reads = await deps.reader.read_many(state["urls"], run_id=state["run_id"])
        write = get_stream_writer()
        for r in reads:
            if r.ok:
                write(PageRead(node=state.get("node_id"), url=r.url, title=r.added.page.title, from_memory=r.from_memory))
        ok = [r.added.page.id for r in reads if r.ok]
        return {"page_ids": state["page_ids"] + ok, "pages_read": state["pages_read"] + len(ok), "rounds": state["rounds"] + 1}

    async def recall(state: SearcherState) -> SearcherState:
        chunks, used, pages = [], 0, 1
        if state["pages_read"]:
            # a sub-question that builds on earlier answers ("Who directed that film?") recalls with
            # them, from its own pages and theirs: not from pages its siblings happen to have read by now
            query = " ".join([state["question"], *state.get("context", [])])
            scope = Scope.pages(state["page_ids"] + state.get("given_pages", []))
            result = await deps.memory.recall(query, budget_tokens=deps.budget_tokens, scope=scope)
            chunks, used, pages = result.chunks, result.stats.tokens_used, max(1, result.stats.pages_used)
        more: list[str] = []
        before = sum(c.tokens for c in state.get("chunks", []))
        if used < FILLED * deps.budget_tokens and state["rounds"] < MAX_ROUNDS and (used > before or not state["pages_read"]):
            # short pages (or none readable): read as many more as the rest of the budget holds
            need = -(-(deps.budget_tokens - used) * pages // used) if used else FIRST_PAGES
            more = state["queue"][: min(MAX_MORE, max(2, need))]
        return {"chunks": chunks, "urls": more, "queue": state["queue"][len(more):]}

    def more_to_read(state: SearcherState) -> str:
        return "read" if state["urls"] else "answer"

    async def answer(state: SearcherState) -> SearcherState:
        chunks = prompts.that_fit(state["chunks"], deps.fit_tokens)  # memory's estimate runs under the model's count
        if not chunks and len(state.get("errors", [])) == len(state["queries"]):
            return {"chunks": [], "found": False, "answer": f"The search failed: {state['errors'][0]}", "error": state["errors"][0]}
        if not chunks:
            return {"chunks": [], "found": False, "answer": NOTHING_FOUND}
        read = content_words(" ".join([state["question"], *state.get("context", []),
                                       *(f"{c.title} {c.text}" for c in chunks)]))

        async def ask(given: list[Chunk], *known: str) -> str:
            text = (await deps.chat.complete(prompts.answer(state["question"], given, [*state.get("context", []), *known]),
                                             max_tokens=48, stop=["\n"])).strip()
            text = defang(text, marker="")  # what a model wrote after reading pages is untrusted too
            return "" if prompts.borrowed(text, read) else renumber(text, [c.id for c in given], {c.id: i for i, c in enumerate(chunks, 1)})

        given = first_read(state["question"], chunks)  # what it names by title; all if that gives no answer
        text = await ask(given) or (await ask(chunks) if len(given) < len(chunks) else "")
        source = holding(text, chunks)
        if (len(given) == len(chunks) and source and (about := about_subject(state["question"], chunks))
                and len(about) < len(chunks) and not source & set(about)):
            # the answer rests on passages about something else (another film's release date): asked
            # again of the passages that name what the sub-question is about
            text = await ask([chunks[i - 1] for i in about]) or text
        if text and repeats(text, state["question"]):
            # only what the question names ("Who did Paul Gross have a child with?": "Paul Gross"):
            # asked again, told so; the first answer stays if the second repeats too
            again = await ask(chunks, prompts.REPEATED.format(strip_markers(text)))
            text = again if again and not repeats(again, state["question"]) else text
        if not text:
            return {"chunks": chunks, "found": False, "answer": NOTHING_FOUND}
        return {"chunks": chunks, "found": True, "answer": text, "evidence": evidence(text, state["question"], chunks)}

    graph = StateGraph(SearcherState)
    for node in (rewrite, search, select, read, recall, answer):
        graph.add_node(node.__name__, node)
    graph.add_edge(START, "rewrite")
    graph.add_edge("rewrite", "search")
    graph.add_edge("search", "select")
    graph.add_edge("select", "read")
    graph.add_edge("read", "recall")
    graph.add_conditional_edges("recall", more_to_read, ["read", "answer"])
    graph.add_edge("answer", END)
    return graph.compile()
