"""What every page era-deap writes for people shares: figure files, CSV and Markdown tables, and the mean
± 95% t-interval they print. One home for `era report` (report/), `era bench analyse` (bench/) and
`era rankcorr` (rankcorr/).

It sits in search/, stage 3, because that is the highest stage below all three (bench/ is stage 4;
docs/design.md §2): the search itself writes none of these files. matplotlib loads only when a figure
is saved.

    save_figure(fig, out, "fig4")                 # fig4.png and fig4.svg, the same bytes on every run
    markdown_table(["Search", "Error"], rows)     # first column left-aligned, the others right
    write_csv(out / "table2.csv", columns, rows)
    mean, half = mean_ci(values)                  # mean and the 95% t-interval's half-width
    mean_ci_text(values, 2)                       # "4.21 ± 0.37", MISSING without a value
"""
from __future__ import annotations

import csv
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

MISSING = "—"   # a cell without a value, in every Markdown table


# --- figures --------------------------------------------------------------------------------------

def save_figure(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    """PNG and SVG of a matplotlib `Figure`, byte-for-byte reproducible (no dates, fixed SVG ids), so
    rerunning a command rewrites the same files."""
    import matplotlib
    png, svg = Path(out_dir) / f"{stem}.png", Path(out_dir) / f"{stem}.svg"
    with matplotlib.rc_context({"svg.hashsalt": "era-deap", "svg.fonttype": "none"}):
        fig.savefig(png, dpi=130, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return [png, svg]


# --- tables ---------------------------------------------------------------------------------------

def markdown_table(header: Sequence[object], rows: Iterable[Sequence[object]], align: str | None = None) -> str:
    """A Markdown table, one line per row, ending in a newline. `align`: one letter per column, "l" or
    "r" (default: the first column left, the others right, as numbers read best)."""
    def cell(value):
        return str(value).replace("|", "\\|").replace("\n", " ")
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(map(cell, header)) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Mapping[str, object]]) -> Path:
    """`rows` (dicts over `columns`) as CSV with a header, "\\n" line ends; returns the path."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


# --- mean ± 95% CI --------------------------------------------------------------------------------

def mean_ci(values: ArrayLike, confidence: float = 0.95) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Mean and half-width of the Student-t confidence interval of the mean (`scipy.stats.t.interval`)
    over the last axis of `values`, nan left out: a list gives two numbers, a points × samples array two
    arrays. The mean is nan with no value, the half-width with fewer than two."""
    data = np.asarray(values, dtype=float)
    n = np.sum(~np.isnan(data), axis=-1)
    with warnings.catch_warnings():   # empty and one-value slices give nan, as said above
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(data, axis=-1)
        sem = np.nanstd(data, axis=-1, ddof=1) / np.sqrt(n)
    # t.interval around 0 with scale 1 is ±t; times the standard error (possibly 0: all values equal)
    _, t = stats.t.interval(confidence, np.maximum(n - 1, 1))
    return mean, np.where(n >= 2, t * sem, np.nan)[()]


def format_mean_ci(mean: float, half: float, digits: int) -> str:
    """"4.21 ± 0.37"; the mean alone without an interval (one value); MISSING without a mean."""
    if np.isnan(mean):
        return MISSING
    return f"{mean:.{digits}f}" + ("" if np.isnan(half) else f" ± {half:.{digits}f}")


def mean_ci_text(values: ArrayLike, digits: int) -> str:
    """format_mean_ci of mean_ci(values)."""
    return format_mean_ci(*mean_ci(values), digits)
