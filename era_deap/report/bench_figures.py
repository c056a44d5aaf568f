"""Figures of searches run on a benchmark table (benchmark.py): the regret against models evaluated,
and the share of seeds that have found a top-1% network. Mean over the seeds that reached an
evaluation count, as figure 5 does, in the searches' own colours."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .plots import BAND_ALPHA, mean_band, per_evaluation, step_at


def regret_figure(bench, palette: dict) -> Figure:
    """Mean regret over seeds and its 95% t-interval band, log y axis, against models evaluated."""
    series = {search.key: per_evaluation([bench.regrets(r) for r in search.runs]) for search in bench.searches}
    fig = _regret_plot(bench, palette, series, "models evaluated")
    fig.suptitle(f"Regret on table {bench.name}: mean error of the best network so far minus the optimum's "
                 f"({bench.optimum:.2f}%)", fontsize=11)
    return fig


def regret_epochs_figure(bench, palette: dict, points: int = 300) -> Figure:
    """The regret against cumulative training epochs (a rung costs its epochs, a full training the
    table's schedule): multi-fidelity and single-fidelity searches at equal training. Mean over the
    seeds that had trained that much, with a 95% band, log y axis as the regret figure."""
    full = bench.full_epochs
    spent = {id(r): bench.epochs_spent(r) for s in bench.searches for r in s.runs}
    grid = np.linspace(1, max((c[-1] for c in spent.values() if len(c)), default=1), points)
    series = {search.key: (grid, [step_at(spent[id(r)], bench.regrets(r), grid) for r in search.runs])
              for search in bench.searches}
    fig = _regret_plot(bench, palette, series, f"training epochs so far (a rung costs its epochs, a full "
                                               f"training {full})")
    fig.suptitle(f"Regret on table {bench.name} against the training epochs spent", fontsize=11)
    return fig


def _regret_plot(bench, palette: dict, series: dict, xlabel: str) -> Figure:
    """Per search (key -> (grid, columns of seeds)) the mean and 95% band, log y. A log axis has no 0:
    regret 0 (the optimum is the search's best) is drawn at the floor, below the smallest regret above 0
    a mean over the seeds can take, and the floor is marked."""
    seeds = max(len(s.runs) for s in bench.searches)
    floor = bench.smallest_gap / (2 * seeds)
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    for search in bench.searches:
        grid, columns = series[search.key]
        mean, half, _ = mean_band(columns)
        colour = palette[search.key]
        ax.plot(grid, np.maximum(mean, floor), drawstyle="steps-post", color=colour, linewidth=1.6,
                label=_label(search), gid=f"regret:{search.key}")
        if len(search.runs) > 1:
            ax.fill_between(grid, np.maximum(mean - half, floor), np.maximum(mean + half, floor), step="post",
                            color=colour, alpha=BAND_ALPHA, linewidth=0)
    ax.set_yscale("log")
    ax.axhline(floor, color="0.4", linestyle=":", linewidth=1)
    ax.text(1, floor, " regret 0: the optimum", transform=ax.get_yaxis_transform(), va="bottom", ha="right",
            fontsize=8, color="0.3")
    ax.set_ylim(bottom=floor / 1.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("regret (percentage points, log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper right", framealpha=0.85)
    return fig


def top_share_figure(bench, palette: dict) -> Figure:
    """Per search: the share of its seeds (of those that reached n) that have evaluated a top-1% network."""
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    for search in bench.searches:
        grid, columns = per_evaluation([bench.found_top(r) for r in search.runs])
        share, _, _ = mean_band(columns)
        ax.plot(grid, 100 * share, drawstyle="steps-post", color=palette[search.key], linewidth=1.6,
                label=_label(search), gid=f"top:{search.key}")
    ax.set_ylim(-2, 102)
    ax.set_xlabel("models evaluated")
    ax.set_ylabel("seeds that have found a top-1% network (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", framealpha=0.85)
    fig.suptitle(f"Top 1% of table {bench.name}: the {bench.top_count} networks with a mean error of at most "
                 f"{bench.top_threshold:.2f}%", fontsize=11)
    return fig


def _label(search) -> str:
    seeds = len(search.runs)
    return f"{search.label} ({seeds} seed{'s' if seeds > 1 else ''})" + ("" if search.finished else " — unfinished")
