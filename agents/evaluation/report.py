"""The results summed up: per mode and per source dataset (`summarize`), as a Markdown table."""

from statistics import mean

from agents.evaluation.questions import MODES
from agents.evaluation.results import Result
from agents.evaluation.scoring import contains


def summarize(results: list[Result]) -> dict:
    """Per mode: the aggregate over all questions, and per source dataset."""
    out: dict = {}
    for mode in [m for m in MODES if any(r.mode == m for r in results)]:
        rows = [r for r in results if r.mode == mode]
        out[mode] = {"all": _aggregate(rows), "by_dataset": {
            ds: _aggregate([r for r in rows if r.source_dataset == ds]) for ds in sorted({r.source_dataset for r in rows})}}
    return out


def _aggregate(rows: list[Result]) -> dict:
    ok = [r for r in rows if r.error is None]
    recall = [r.evidence_recall for r in ok if r.evidence_recall is not None]
    in_prompt = [r.evidence_in_prompt for r in ok if r.evidence_in_prompt is not None]
    cited = sum(r.citations for r in ok)
    latency = sorted(r.seconds for r in ok)
    return {
        "questions": len(rows), "failures": len(rows) - len(ok),
        "em": _mean([r.em for r in rows]), "f1": _mean([r.f1 for r in rows]),
        "answer_in_text": _mean([float(contains(r.text or r.prediction, [r.gold])) for r in rows]),
        "evidence_recall": _mean(recall) if recall else None,
        "evidence_in_prompt": _mean(in_prompt) if in_prompt else None,
        "citation_precision": round(sum(r.citations_good for r in ok) / cited, 4) if cited else None,
        "citations": cited, "invented_citations": sum(r.invented_citations for r in ok),
        "llm_calls": _mean([r.llm_calls for r in ok]), "tokens": _mean([r.prompt_tokens + r.completion_tokens for r in ok]),
        "pages_read": _mean([r.pages_read for r in ok]),
        "latency_p50_s": _pct(latency, 0.50), "latency_p95_s": _pct(latency, 0.95),
        "failure_reasons": sorted({r.error.split(":")[0] for r in rows if r.error}),
    }


def summary_markdown(summary: dict) -> str:
    head = ("| mode | questions | EM | F1 | answer in text | evidence recall (read / in prompt) | citation precision | invented citations | "
            "LLM calls | tokens | pages read | latency p50 / p95 (s) | failures |")
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for mode, s in summary.items():
        a = s["all"]
        lines.append(f"| {mode} | {a['questions']} | {_f(a['em'])} | {_f(a['f1'])} | {_f(a['answer_in_text'])} | "
                     f"{_f(a['evidence_recall'])} / {_f(a.get('evidence_in_prompt'))} | "
                     f"{_f(a['citation_precision'])} | {a['invented_citations']} | {_f(a['llm_calls'], 1)} | "
                     f"{_f(a['tokens'], 0)} | {_f(a['pages_read'], 1)} | {_f(a['latency_p50_s'], 1)} / "
                     f"{_f(a['latency_p95_s'], 1)} | {a['failures']} |")
    datasets = sorted({d for s in summary.values() for d in s["by_dataset"]})
    by = ["", "F1 by source dataset:", "", "| mode | " + " | ".join(datasets) + " |", "|" + " --- |" * (len(datasets) + 1)]
    for mode, s in summary.items():
        by.append(f"| {mode} | " + " | ".join(_f(s["by_dataset"].get(d, {}).get("f1")) for d in datasets) + " |")
    return "\n".join(lines + by) + "\n"


def _mean(values: list[float]) -> float | None:
    return round(mean(values), 4) if values else None


def _pct(values: list[float], q: float) -> float | None:
    return values[min(len(values) - 1, int(q * len(values)))] if values else None


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"
