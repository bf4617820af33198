"""`sleuth eval` end to end against a scripted OpenAI-compatible server on the sample corpus, and
the scoring it reports."""

import json

import pytest

from agents.evaluation import Question, score
from agents.llm import CallRecord, Usage
from agents.evaluation.scoring import exact_match, f1, normalize
from tests.conftest import one_line_error
from tests.openai_stub import OpenAIStub
from tools.search import SAMPLE_CORPUS

QUESTIONS = SAMPLE_CORPUS.parent / "questions.jsonl"


@pytest.fixture
def stub():
    s = OpenAIStub()
    yield s
    s.stop()


def test_answers_are_normalised_as_in_squad_and_hotpotqa():
    assert normalize("The  Sazerac Company [2].") == "sazerac company"
    assert exact_match("the Sazerac company", ["Sazerac Company"]) == 1.0
    assert f1("Sazerac Company makes it", ["Sazerac Company"]) == pytest.approx(2 * (2 / 4) * 1 / (2 / 4 + 1))
    assert f1("Barton", ["Sazerac Company", "Barton 1792"]) == pytest.approx(2 / 3)
    assert f1("", ["x"]) == 0.0


def test_a_citation_to_no_page_read_counts_as_invented():
    q = Question(id="q", question="Who makes Kentucky Tavern?", answer="Sazerac Company",
                 supporting_titles=["Kentucky Tavern"])
    cited = [{"number": 1, "url": "sleuth://doc/a", "title": "Kentucky Tavern", "quote": "made by Sazerac Company"},
             {"number": 2, "url": "sleuth://doc/zzz", "title": "Elsewhere", "quote": "nothing"}]
    calls = [CallRecord(model="m", structured=False, usage=Usage(prompt_tokens=10, completion_tokens=5), seconds=0.1)]
    r = score("rag", q, "the Sazerac Company", "The Sazerac Company [1]\n\nSazerac Company makes it [1] [2] [3].", cited,
              [("sleuth://doc/a", "Kentucky Tavern")], calls, 1.0)
    assert (r.em, r.f1) == (1.0, 1.0)  # the short answer is what is scored
    assert r.invented_citations == 2  # [3] resolves to nothing; [2] to a page never read
    assert (r.citations, r.citations_good) == (2, 1) and r.evidence_recall == 1.0
    assert (r.llm_calls, r.prompt_tokens, r.completion_tokens, r.pages_read) == (1, 10, 5, 1)
    assert r.evidence_in_prompt == 0.0  # read, but none of its passages was given to the model
    given = score("rag", q, "x", "x", [], [("sleuth://doc/a", "Kentucky Tavern")], calls, 1.0, {"sleuth://doc/a"})
    assert given.evidence_in_prompt == 1.0


def test_eval_scores_three_modes_writes_its_reports_and_resumes(sleuth, tmp_path, stub):
    out = tmp_path / "eval"
    args = ["eval", str(QUESTIONS), "--corpus", str(SAMPLE_CORPUS), "--llm-url", stub.url, "--model", "researcher",
            "--limit", "3", "--out", str(out)]
    first = sleuth(*args)
    assert first.returncode == 0, first.stderr
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted((r["mode"], r["id"]) for r in results) == sorted(
        (m, json.loads(line)["id"]) for m in ("direct", "rag", "deep") for line in QUESTIONS.read_text().splitlines()[:3])
    assert all(r["error"] is None for r in results)
    # the server's canned "[1]" cites nothing when the model answers alone; with pages read, nothing is invented
    assert [r["invented_citations"] for r in results if r["mode"] == "direct"] == [1, 1, 1]
    assert all(r["invented_citations"] == 0 for r in results if r["mode"] != "direct")
    assert all(r["pages_read"] > 0 and r["citations"] > 0 for r in results if r["mode"] != "direct")
    assert all(r["evidence_in_prompt"] is not None for r in results if r["mode"] != "direct")
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary) == ["direct", "rag", "deep"] and summary["rag"]["all"]["questions"] == 3
    # rag answers once, and once more where the stub's answer only repeats the question ("Christopher Nolan [1].")
    assert summary["deep"]["all"]["llm_calls"] > summary["rag"]["all"]["llm_calls"] == round(5 / 3, 4)
    assert "| deep | 3 |" in first.stdout and (out / "summary.md").read_text() == first.stdout
    assert (out / "modes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # interrupted: the last result lost, the one before cut short mid-line; a rerun redoes just those
    lines = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text("\n".join(lines[:-2]) + "\n" + lines[-2][:40])
    asked = len(stub.requests)
    again = sleuth(*args)
    assert again.returncode == 0, again.stderr
    redone = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()[len(lines) - 1:]]
    assert len(redone) == 2 and len(stub.requests) > asked
    assert sorted((r["mode"], r["id"]) for r in redone) == sorted(
        (json.loads(line)["mode"], json.loads(line)["id"]) for line in lines[-2:])


def test_a_malformed_questions_file_is_one_clear_error(sleuth, tmp_path):
    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": "1", "question": "Who?"}\n')
    result = sleuth("eval", str(bad), "--llm-url", "http://127.0.0.1:9/v1", "--out", str(tmp_path / "o"))
    assert result.returncode == 1 and "q.jsonl:1 is not a question (answer: Field required)" in one_line_error(result)
