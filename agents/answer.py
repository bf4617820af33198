"""The answer step of a research run, the planner's last node: a short answer, then the evidence
sentence behind each finding, every sentence checked as it is written and streamed at once
(`AnswerDelta`), so that what a reader sees is never taken back.

The short answer is the one the findings decide (a comparison by date or country, a chain's last
finding: `by_findings`), or else the one the model writes from what memory recalls for the question
out of every page the run read, knowing the findings. A short answer whose words are not in the
findings or sources, that only echoes the question, or that names what only the prompt's example
does, is dropped, and the last finding's answer leads instead; one that only repeats what the
question names is asked again, told so; one citing no passage that holds it cites its finding's
(`cited_from_findings`).
"""

from dataclasses import asdict
from typing import Any

from langgraph.config import get_stream_writer

from agents import prompts
from agents.citations import Verifier, adds_to, grounded, lexical_support, renumber, repeats, strip_markers
from agents.events import AnswerDelta
from agents.plan import SELF_PLANNED, NodeStatus, PlanNode, as_findings
from agents.searcher import SearcherDeps
from agents.untrusted import defang
from memory import Chunk, Scope
from tools.text import MARKER, content_words


def build_answer(deps: SearcherDeps):
    """The answer node: state (the question, the run, the plan's nodes) -> the answer, its short
    answer, citations, the pages read, and the markers removed or unsupported."""

    async def respond(state: dict[str, Any]) -> dict[str, Any]:
        nodes = state.get("nodes", {})
        sources: dict[int, Chunk] = {}
        number_of: dict[int, int] = {}
        findings, evidence = [], []

        def number(chunks: list[Chunk]) -> None:  # the global [n] of each chunk, in the order first cited
            for c in chunks:
                if c.id not in number_of:
                    number_of[c.id] = len(number_of) + 1
                    sources[number_of[c.id]] = c

        for node in nodes.values():
            if node.status is not NodeStatus.ANSWERED:
                continue
            number(node.chunks)
            local = [c.id for c in node.chunks]
            findings.append(f"{node.question} {renumber(node.answer, local, number_of)}")
            if node.evidence:
                evidence.append(renumber(node.evidence, local, number_of))
        question = state["question"]
        reading: list[Chunk] = []
        if findings:  # what memory recalls for the question itself, from every page this run read
            recalled = await deps.memory.recall(question, budget_tokens=deps.budget_tokens, scope=Scope.run(state["run_id"]))
            reading = prompts.that_fit(recalled.chunks or list(sources.values())[:8], deps.fit_tokens)
            number(reading)
        basis = " ".join(findings + [c.text for c in sources.values()])
        read = content_words(f"{basis} {question}")  # once, not once a sentence
        checker = Verifier(sources, clean=lambda s: defang(s, marker="") if grounded(s, basis) and adds_to(s, question)
                           and not prompts.borrowed(s, read) else "")
        write = get_stream_writer()

        def show(text: str) -> str:
            if text:
                write(AnswerDelta(text=text))
            return text

        if not findings:
            failed = next((n.error for n in nodes.values() if n.error), "")
            short = text = show(f"sleuth could not search: {failed}" if failed else "sleuth found nothing to answer this question with.")
        else:
            decided = by_findings(question, nodes, number_of)
            if decided:  # a comparison the findings settle: their dates or countries answer it, not the model
                reply = decided
            else:
                known = [strip_markers(f) for f in findings]

                async def ask(*told: str) -> str:
                    said = await deps.chat.complete(prompts.answer(question, reading, [*known, *told]), max_tokens=48, stop=["\n"])
                    return renumber(said.strip(), [c.id for c in reading], number_of)

                reply = await ask()
                if repeats(reply, question):  # only what the question names ("Lilu" for what Lilu is): asked again, told so
                    again = await ask(prompts.REPEATED.format(strip_markers(reply)))
                    reply = again if again and not repeats(again, question) else reply
                reply = cited_from_findings(reply, nodes, number_of, sources)
            short = show(checker.feed(reply)) + show(checker.close())
            if not short.strip():
                last = next(n for n in reversed(nodes.values()) if n.status is NodeStatus.ANSWERED)
                short = show(checker.feed(renumber(last.answer, [c.id for c in last.chunks], number_of))) + show(checker.close())
            if evidence:  # two sub-questions may rest on the same sentence: it is said once
                show(checker.feed("\n\n" + " ".join(dict.fromkeys(evidence))))
                show(checker.close())
            text = checker.result.text
        checked = checker.result
        return {"answer": text, "short": strip_markers(short), "citations": [asdict(c) for c in checked.citations],
                "read": list(dict.fromkeys(c.url for c in sources.values())),
                "removed": checked.removed, "unsupported": checked.unsupported}

    return respond


def by_findings(question: str, nodes: dict[str, PlanNode], number_of: dict[int, int]) -> str | None:
    """The short answer of a comparison the findings settle, citing the passages behind it: by date
    ("Who was born first, A or B?", `agents.compare`), the option picked, citing the passages that
    name it; by country or place ("Are A and B of the same nationality?", `agents.same`), yes or no,
    citing the passages that give each one's; whether both are of a kind (`agents.both`), no if
    either is, yes if both are; through a role or a relation ("Where was the director
    of film Jaws born?", `agents.chain`), what the question asked of the director found. None when the findings
    do not settle it."""
    found, findings = as_findings(nodes)
    decided = next((d for plans in SELF_PLANNED if (d := plans.decide(question, findings))), None)
    if decided is None:
        return None
    answer, behind = decided
    cited = [found[i].chunks[int(m) - 1] for i in behind for m in MARKER.findall(found[i].answer)
             if 1 <= int(m) <= len(found[i].chunks)]
    # an option is cited by the passages that name it: the film's page, not its director's birth
    # date, which does not support the film's name (that sentence follows, cited, in the evidence)
    naming = [c for c in cited if lexical_support(answer, c)] or cited
    return " ".join([answer, *dict.fromkeys(f"[{number_of[c.id]}]" for c in naming)])


def cited_from_findings(reply: str, nodes: dict[str, PlanNode], number_of: dict[int, int], sources: dict[int, Chunk]) -> str:
    """A short answer whose cited passages do not hold its words cites, instead, the passages of the
    first finding that says it and whose passages hold it: "associated with other demons like Gallu and
    Lilu [3]", [3] a film's page, comes from the finding "Alû is associated with other demons like
    Gallu and Lilu [4]", so it cites [4]. The model numbers its passages by the answer prompt's reading;
    the finding's citation was checked when its sub-question was answered."""
    said = strip_markers(reply)
    words = content_words(said)
    cited = [sources[n] for m in MARKER.findall(reply) if (n := int(m)) in sources]
    if not words or any(lexical_support(said, c) for c in cited):
        return reply
    for node in nodes.values():
        if node.status is not NodeStatus.ANSWERED or not words <= content_words(strip_markers(node.answer)):
            continue
        marks = [n for m in MARKER.findall(node.answer) if 1 <= int(m) <= len(node.chunks)
                 and lexical_support(said, sources[n := number_of[node.chunks[int(m) - 1].id]])]
        if marks:
            return " ".join([said.rstrip("."), *dict.fromkeys(f"[{n}]" for n in marks)])  # one sentence, its markers inside
    return reply
