"""`sleuth history` and `sleuth show` on runs made through the Python API (scripted model)."""

import json

from agents import Researcher, Settings
from agents.llm import ScriptedChat
from agents.prompts import PlanStep, Queries
from tests.conftest import one_line_error
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
    assert "◐ q1 Who makes Kentucky Tavern?" in searching and "search: Kentucky Tavern" in searching
    final = snapshots[-1][1]
    assert "● q1" in final and "pages read" in final and not final.startswith("Researching · 0 pages")
