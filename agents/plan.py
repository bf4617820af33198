"""The plan of a run as the planner keeps it: one `PlanNode` per sub-question, with its status."""

from enum import StrEnum

from pydantic import BaseModel, Field

from agents import both, chain, compare, same
from memory import Chunk


class NodeStatus(StrEnum):
    PENDING = "pending"  # planned, waiting for the sub-questions it depends on, or to be searched
    ANSWERED = "answered"
    FAILED = "failed"  # searched, and the pages read did not answer it

    @property
    def done(self) -> bool:
        return self is not NodeStatus.PENDING


class PlanItem(BaseModel):
    """A sub-question as a user sees it (in `Answer.plan` and `PlanUpdated`)."""

    question: str  # as searched: "#n" replaced by sub-question n's answer once it is known
    depends_on: list[str] = Field(default_factory=list)
    status: NodeStatus = NodeStatus.PENDING
    answer: str = ""  # the short answer, cited


class PlanNode(PlanItem):
    """A sub-question as the planner keeps it: what it asked, and what its searcher found."""

    planned: str  # as the model planned it ("Where was #1 born?")
    evidence: str = ""  # the cited passage sentence behind the answer
    chunks: list[Chunk] = Field(default_factory=list)  # what the searcher recalled, cited as [1], [2], ...
    pages: list[int] = Field(default_factory=list)  # the pages it recalled from: its own and its dependencies'
    queries: list[str] = Field(default_factory=list)
    error: str = ""  # why its search failed, when no query could be searched
    started_at: float | None = None
    finished_at: float | None = None

    def item(self) -> PlanItem:
        return PlanItem(question=self.question, depends_on=self.depends_on, status=self.status, answer=self.answer)


CHECKPOINTED = (PlanNode, NodeStatus, Chunk)  # the types a run's checkpoint holds besides plain data


# The questions that plan themselves and that their findings decide, the first that takes a question
SELF_PLANNED = (compare, same, both, chain)


def as_findings(nodes: dict[str, PlanNode]) -> tuple[list[PlanNode], list[compare.Finding]]:
    """The answered sub-questions, and each as a `compare.Finding`."""
    answered = {key: n for key, n in nodes.items() if n.status is NodeStatus.ANSWERED}
    position = {key: i for i, key in enumerate(answered)}
    return list(answered.values()), [compare.Finding(n.question, n.answer, tuple(position[d] for d in n.depends_on if d in position),
                                                     tuple((c.title, c.text) for c in n.chunks)) for n in answered.values()]
