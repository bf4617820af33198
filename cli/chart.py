"""The evaluation chart: the modes side by side on each quality metric, as a PNG."""

from pathlib import Path

METRICS = [("em", "exact match"), ("f1", "token F1"), ("answer_in_text", "answer in text"), ("evidence_recall", "evidence recall"),
           ("citation_precision", "citation precision")]


def modes_chart(summary: dict, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(summary)
    width = 0.8 / max(len(modes), 1)
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=120)
    for i, mode in enumerate(modes):
        values = [summary[mode]["all"].get(key) or 0.0 for key, _ in METRICS]
        bars = ax.bar([m + (i - (len(modes) - 1) / 2) * width for m in range(len(METRICS))], values, width, label=mode)
        ax.bar_label(bars, labels=[f"{v:.2f}" if summary[mode]["all"].get(k) is not None else "–"
                                   for v, (k, _) in zip(values, METRICS)], fontsize=7, padding=2)
    ax.set_xticks(range(len(METRICS)), [label for _, label in METRICS])
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
