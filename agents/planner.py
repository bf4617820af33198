"""The planner (MindSearch's WebPlanner) as a LangGraph graph: plan, dispatch searchers in
parallel, merge, plan again; then answer (`agents.answer`: the short answer and its evidence, verified).

The plan is data: a `PlanStep` validated by pydantic (and decoded under its JSON schema), never
code. A sub-question runs as soon as the sub-questions it depends on are answered, all ready ones
at once (LangGraph `Send`), and receives their answers. Limits on rounds, sub-questions, depth and
wall-clock time end the planning; the state's `stopped` then says which (and so does the answer).
"""

import re
import time
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from agents import prompts
from agents.answer import build_answer
from agents.citations import strip_markers
from agents.events import PlanUpdated, SubAnswer
from agents.plan import SELF_PLANNED, NodeStatus, PlanNode, as_findings
from agents.searcher import SearcherDeps, build_searcher
from agents.untrusted import instructions
from memory import TaskNode
from tools.text import content_words


@dataclass(frozen=True)
class Limits:
    max_rounds: int = 4
    max_nodes: int = 8
    max_depth: int = 3
    seconds: float = 600.0


def merge_nodes(old: dict[str, PlanNode], new: dict[str, PlanNode]) -> dict[str, PlanNode]:
    return {**old, **new}


class PlannerState(TypedDict, total=False):
    question: str
    history: list[str]
    today: str
    run_id: str
    started: float
    nodes: Annotated[dict[str, PlanNode], merge_nodes]  # "q1", "q2", ... in the order planned
    rounds: int
    stopped: str | None  # which limit ended planning, if one did
    answer: str  # the short answer, then its cited evidence
    short: str  # the short answer alone, markers removed
    citations: list[dict]
    read: list[str]  # the URLs of the pages whose passages were in a prompt (sub-questions' and the answer's)
    removed: list[int]
    unsupported: list[int]


def build_planner(deps: SearcherDeps, limits: Limits = Limits(), checkpointer: Any = None):
    searcher = build_searcher(deps)

    def ready(nodes: dict[str, PlanNode]) -> list[str]:
        return [k for k, n in nodes.items() if n.status is NodeStatus.PENDING and all(nodes[d].status.done for d in n.depends_on)]

    async def plan(state: PlannerState) -> PlannerState:
        nodes = state.get("nodes", {})
        if ready(nodes) or nodes and all(n.error for n in nodes.values()):
            return {}  # searchers to run; or the search backend out of reach, which more planning would not change
        rounds = state.get("rounds", 0)
        stopped = _limit(state, nodes, rounds, limits)
        if stopped:
            return {"stopped": stopped}
        done = [(int(k[1:]), n.question, n.answer) for k, n in nodes.items() if n.status is NodeStatus.ANSWERED]
        step = known_plan(state["question"], nodes)
        subs = step.sub_questions if step else []
        if step is None:  # the model plans: what it copies from its examples or strays into is dropped
            step = await deps.chat.complete(prompts.plan(state["question"], state.get("history", []), done, state["today"]),
                                            schema=prompts.PlanStep, max_tokens=200)
            subs = on_topic(step.sub_questions, state["question"], done)
        if step.finish and nodes:
            return {"rounds": rounds + 1}
        added: dict[str, PlanNode] = {}
        known = set(nodes)
        for sub in subs:
            if len(nodes) + len(added) >= limits.max_nodes:
                break
            if any(same_question(sub.question, text) for n in (nodes | added).values() for text in (n.planned, n.question)):
                continue  # asked already: a plan that only repeats itself is finished
            node_id = f"q{len(nodes) + len(added) + 1}"
            refs = {int(d) for d in prompts.REFERENCE.findall(sub.question)}  # "Who founded #1?" needs q1
            if any(f"q{d}" not in known for d in refs):
                continue  # "#n" names itself or a later sub-question: an answer it can never have
            depends = [f"q{d}" for d in sorted(set(sub.depends_on) | refs) if f"q{d}" in known]
            if _depth(nodes | added, depends) >= limits.max_depth:
                continue
            added[node_id] = PlanNode(question=sub.question, planned=sub.question, depends_on=depends)
            known.add(node_id)
        if not nodes and not added:  # the model proposed nothing: research the question itself
            added["q1"] = PlanNode(question=state["question"], planned=state["question"])
        if not added:
            return {"rounds": rounds + 1, "stopped": None}
        await _save_plan(deps, state["run_id"], added)
        get_stream_writer()(PlanUpdated(nodes={k: n.item() for k, n in (nodes | added).items()}))
        return {"nodes": added, "rounds": rounds + 1}

    def dispatch(state: PlannerState):
        nodes = state.get("nodes", {})
        todo = ready(nodes)
        if not todo or state.get("stopped"):
            return "respond"
        return [Send("search", _task(state, nodes, k)) for k in todo]

    async def search(task: dict) -> PlannerState:
        started = time.time()
        out = await searcher.ainvoke({k: task[k] for k in ("node_id", "question", "run_id", "today", "context", "queries",
                                                           "given_pages") if task.get(k) is not None})
        status = NodeStatus.ANSWERED if out["found"] else NodeStatus.FAILED
        node = task["node"].model_copy(update={
            "question": task["question"], "status": status, "answer": out["answer"], "evidence": out.get("evidence", ""),
            "chunks": out.get("chunks", []), "queries": out.get("queries", []), "error": out.get("error", ""),
            "started_at": started, "finished_at": time.time(),
            "pages": sorted(set(out.get("page_ids", []) + task["given_pages"]))})
        await _save_node(deps, task, node)
        get_stream_writer()(SubAnswer(node=task["node_id"], status=status, answer=out["answer"]))
        return {"nodes": {task["node_id"]: node}}

    graph = StateGraph(PlannerState)
    graph.add_node("plan", plan)
    graph.add_node("search", search)
    graph.add_node("respond", build_answer(deps))
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", dispatch, ["search", "respond"])
    graph.add_edge("search", "plan")
    graph.add_edge("respond", END)
    return graph.compile(checkpointer=checkpointer)


def _task(state: PlannerState, nodes: dict[str, PlanNode], node_id: str) -> dict:
    """What a searcher gets for one sub-question. "#n" in it becomes sub-question n's short answer,
    so that "Where was #1 born?" is searched as "Where was Bram Stoker born?" (a failed
    sub-question's own words stand in for its answer). A sub-question that stands alone is searched
    with the user's question too; one that needs earlier answers without naming them is rewritten
    into queries by the searcher, knowing those answers. It recalls from the pages it reads and
    from those its dependencies recalled from, never from pages a sibling running beside it
    happens to have read by then (that made a run's answer depend on timing)."""
    node = nodes[node_id]

    def answer_of(m: re.Match) -> str:
        ref = nodes.get(f"q{m.group(1)}")
        if ref is None:
            return m.group(0)
        if ref.status is NodeStatus.ANSWERED:
            return strip_markers(ref.answer).strip().rstrip(".")
        return ref.question.rstrip("?")

    question = prompts.REFERENCE.sub(answer_of, node.question)
    context = [f"{nodes[d].question} {nodes[d].answer}" for d in node.depends_on]
    if not node.depends_on:
        queries = list(dict.fromkeys([question, state["question"]]))
    elif question != node.question:
        queries = [question]
    else:
        queries = None
    given_pages = sorted({p for d in node.depends_on for p in nodes[d].pages})
    return {"node_id": node_id, "node": node, "question": question, "run_id": state["run_id"],
            "today": state["today"], "context": context, "queries": queries, "given_pages": given_pages}


def known_plan(question: str, nodes: dict[str, PlanNode]) -> prompts.PlanStep | None:
    """The next step of a comparison that plans itself: by date (`compare.missing`), each option's
    date, through what the question compares by ("Who is the director of Jaws?", then "When was
    Steven Spielberg born?"); whether two share a country or place (`same.missing`), each one's
    country; whether two are both of a kind (`both.missing`: "Are A and B both board games?"), each
    asked alone; a question through a role or a relation (`chain.missing`: "Where was the director of
    film Jaws born?", "When did X's father die?"), its holder, then the question asked of them.
    Finished once all is answered. None
    for any other question: the model plans it. A small model stops such a plan one step short, at
    the directors, and then guesses."""
    findings = as_findings(nodes)[1]
    needed = next((n for plans in SELF_PLANNED if (n := plans.missing(question, findings)) is not None), None)
    if needed is None:
        return None
    return prompts.PlanStep(sub_questions=[prompts.SubQuestion(question=q) for q in needed if len(q) <= 200], finish=not needed)


def on_topic(subs: list, question: str, done: list) -> list:
    """Sub-questions that share a content word with the question or the findings so far, name no
    one from the prompt's examples whom these do not, stand alone (`stands_alone`), and do not
    address the model. A small model copies its few-shot examples into the plan; those copies are
    dropped here, as is a sub-question a page has talked the model into."""
    words = content_words(question + " " + " ".join(f"{q} {a}" for _, q, a in done))
    copied = {w.lower() for q, subs_ in prompts.PLAN_EXAMPLES for w in re.findall(r"(?<!^)\b[A-Z]\w{2,}", q)} - words
    return [s for s in subs if content_words(s.question) & words and not content_words(s.question) & copied
            and stands_alone(s, question) and not instructions(s.question)]


_NAMED = re.compile(r"\s[\"“'(]?[A-Z0-9]|[\"“][^\"”]+[\"”]")  # a word past the first that is a name or a number


def stands_alone(sub: prompts.SubQuestion, question: str) -> bool:
    """Whether a sub-question says what it asks about, as a search must: it names something (a
    capitalised word past its first, a number, a quotation), or it builds on an earlier answer
    ("#1", or its `depends_on`). A small model plans "What is the name of the country?" or "Who is
    this character?" for a question that names the thing only through a description; no search
    can answer those, and what it reads instead ("South Africa" for the country containing
    Nugegoda) misleads the answer. Any sub-question of a question that names nothing stands."""
    return bool(_NAMED.search(sub.question) or sub.depends_on or prompts.REFERENCE.search(sub.question)
                or not _NAMED.search(question))


def same_question(a: str, b: str) -> bool:
    """Whether two sub-questions ask the same thing: the same content words, give or take one in
    five (models re-propose what they planned before, reworded a little)."""
    x, y = (content_words(t) | set(re.findall(r"\d+", t)) for t in (a, b))  # numbers tell questions apart too
    return x == y or bool(x and y) and len(x & y) / len(x | y) >= 0.8


def _limit(state: PlannerState, nodes: dict, rounds: int, limits: Limits) -> str | None:
    if nodes and all(n.status.done for n in nodes.values()) and rounds >= limits.max_rounds:
        return f"the limit of {limits.max_rounds} planning rounds was reached"
    if len(nodes) >= limits.max_nodes:
        return f"the limit of {limits.max_nodes} sub-questions was reached"
    if time.time() - state.get("started", time.time()) > limits.seconds:
        return f"the time budget of {limits.seconds:g} s was used up"
    return None


def _depth(nodes: dict[str, PlanNode], depends: list[str]) -> int:
    return 1 + max((_depth(nodes, nodes[d].depends_on) for d in depends if d in nodes), default=0)


async def _save_plan(deps: SearcherDeps, run_id: str, added: dict[str, PlanNode]) -> None:
    for node_id, node in added.items():
        await deps.memory.tasks.save_node(run_id, TaskNode(node_id=node_id, question=node.question, depends_on=node.depends_on))


async def _save_node(deps: SearcherDeps, task: dict, node: PlanNode) -> None:
    await deps.memory.tasks.save_node(task["run_id"], TaskNode(
        node_id=task["node_id"], question=node.question, depends_on=node.depends_on, status=node.status.value,
        answer=node.answer, chunk_ids=[c.id for c in node.chunks]))
