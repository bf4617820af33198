"""The questions an evaluation answers: JSONL with `id, question, answer, aliases,
supporting_titles[, source_dataset]` per line (the bench's questions-dev.jsonl)."""

from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from agents.errors import EvalError

MODES = ("direct", "rag", "deep")


class Question(BaseModel):
    id: str
    question: str
    answer: str
    aliases: list[str] = Field(default_factory=list)
    supporting_titles: list[str] = Field(default_factory=list)
    source_dataset: str = ""

    @property
    def golds(self) -> list[str]:
        return [self.answer, *self.aliases]


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Questions in the JSONL format of the bench's questions-dev.jsonl; the first `limit` of them."""
    if not path.is_file():
        raise EvalError(f"{path} is not a file.")
    questions = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                questions.append(Question.model_validate_json(line))
            except ValidationError as e:
                first = e.errors()[0]
                raise EvalError(f"{path}:{n} is not a question ({'.'.join(map(str, first['loc'])) or 'line'}: "
                                f"{first['msg']}).") from None
            if limit is not None and len(questions) >= limit:
                break
    if not questions:
        raise EvalError(f"{path} holds no questions.")
    return questions
