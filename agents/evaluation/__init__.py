"""Evaluation on questions with known answers: one model, one corpus, three modes.

- `direct`: the model answers alone;
- `rag`: one search with the question, the best pages read, one cited answer (the searcher,
  given the question as its only query);
- `deep`: the full planner and searcher graphs (`Researcher`).

Each question gives a `Result`: exact match and token F1 of the short answer against the answer
and its aliases (and, in the summary, how often the gold answer appears in the long answer's text),
evidence recall (supporting titles among the pages read), citation precision (citations whose
chunk comes from a supporting page or contains the answer), invented citations (markers that
resolve to no page read in the run, checked here independently of the agents' own verification),
LLM calls, tokens, pages read and latency; or the reason it failed.
"""

from agents.evaluation.questions import MODES, Question, load_questions
from agents.evaluation.report import summarize, summary_markdown
from agents.evaluation.results import Result, read_results, score
from agents.evaluation.runner import Evaluator, evaluate

__all__ = ["MODES", "Evaluator", "Question", "Result", "evaluate", "load_questions", "read_results", "score", "summarize",
           "summary_markdown"]
