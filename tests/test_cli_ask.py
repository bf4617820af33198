"""`sleuth history` and `sleuth show` on runs made through the Python API (scripted model)."""

import json
import re
import signal
import subprocess
import sys

from agents import Researcher, Settings
from agents.llm import ScriptedChat
from agents.prompts import PlanStep, Queries
from tests.conftest import one_line_error
from tests.openai_stub import OpenAIStub
from tools.search import SAMPLE_CORPUS, LocalIndex


def rule(messages, schema):
    if schema is PlanStep:
        return PlanStep(finish=True)
    if schema is Queries:
        return Queries(queries=["Kentucky Tavern"])
    if "Findings:" in messages[-1].content:
        return "Sazerac makes Kentucky Tavern [1]."
    return "Sazerac makes Kentucky Tavern [1]."


async def test_history_and_show_list_past_runs(sleuth, data_dir):
    settings = Settings.load(search_backend="local")
    LocalIndex(settings.corpus_path).add(SAMPLE_CORPUS)
    answer = await Researcher(settings, chat=ScriptedChat(rule)).aask("Who makes Kentucky Tavern?")
    runs = json.loads(sleuth("history", "--json").stdout)
    assert [r["id"] for r in runs] == [answer.run_id] and runs[0]["status"] == "done"
    shown = sleuth("show", answer.run_id)
    assert shown.returncode == 0 and "Who makes Kentucky Tavern?" in shown.stdout and "q1 [answered]" in shown.stdout
    assert "Sazerac" in json.loads(sleuth("show", "--json", answer.run_id).stdout)["answer"]
    missing = sleuth("show", "nope")
    assert missing.returncode == 1 and "sleuth history" in one_line_error(missing)


async def test_the_live_view_shows_the_plan_queries_and_pages(data_dir):
    import io

    from rich.console import Console

    from cli.ask_cmd import LiveView

    settings = Settings.load(search_backend="local")
    LocalIndex(settings.corpus_path).add(SAMPLE_CORPUS)
    view = LiveView(Console(file=io.StringIO(), width=120, color_system=None))
    snapshots = []
    with view.live():
        async for event in Researcher(settings, chat=ScriptedChat(rule)).astream("Who makes Kentucky Tavern?"):
            view.update(event)
            with view.console.capture() as capture:
                view.console.print(view.render())
            snapshots.append((event.type, capture.get()))
    searching = next(text for kind, text in snapshots if kind == "SearchStarted")
    assert "◐ q1 Who makes Kentucky Tavern?" in searching and "search: Who makes Kentucky Tavern?" in searching
    final = snapshots[-1][1]
    assert "● q1" in final and "pages read" in final and not final.startswith("Researching · 0 pages")
    # written to a file or a pipe, the tree still ends its last line: in one log of stderr and stdout
    # the answer starts on a line of its own
    assert view.console.file.getvalue().endswith("\n")


def test_ctrl_c_keeps_the_run_and_resume_finishes_it(sleuth, data_dir):
    """`sleuth ask` against a scripted OpenAI-compatible server, interrupted while a sub-question
    is being researched, then resumed from the id it printed."""
    settings = Settings.load(search_backend="local")
    LocalIndex(settings.corpus_path).add(SAMPLE_CORPUS)
    stub = OpenAIStub()
    stub.hold_on = "answer"  # the plan is made and checkpointed; the searcher's answer call waits
    args = ["ask", "--search", "local", "--llm-url", stub.url, "--model", "researcher", "Who makes Kentucky Tavern?"]
    try:
        # Ctrl-C as a terminal sends it, even when this test runs from a shell that ignores SIGINT
        # (a background job's children inherit the ignored signal, and Python then never sees it)
        proc = subprocess.Popen([sys.executable, "-m", "cli", *args, "--quiet"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        assert stub.held.wait(timeout=60), "sleuth never asked for a sub-answer"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130
        hint = one_line_error(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
        run_id = re.search(r"--resume (\S+) ", hint).group(1)
        runs = json.loads(sleuth("history", "--json").stdout)
        assert [(r["id"], r["status"]) for r in runs] == [(run_id, "interrupted")]

        resumed = sleuth(*args, "--resume", run_id)
        assert resumed.returncode == 0, resumed.stderr
        assert "Sazerac Company makes Kentucky Tavern [1]" in resumed.stdout and "sleuth://doc/" in resumed.stdout
        plans = [r for r in stub.requests if r.get("response_format", {}).get("json_schema", {}).get("name") == "PlanStep"]
        assert sum(p["messages"][-1]["content"].endswith("(nothing yet)") for p in plans) == 1  # not planned again
        assert json.loads(sleuth("history", "--json").stdout)[0]["status"] == "done"
    finally:
        stub.stop()


def test_resuming_a_run_that_does_not_exist_is_one_clear_error(sleuth, data_dir):
    result = sleuth("ask", "--search", "local", "--llm-url", "http://127.0.0.1:9/v1", "--resume", "nope-123456", "Q?")
    assert result.returncode == 1 and "no run 'nope-123456' to resume" in one_line_error(result)
