"""Figures of the multi-objective part: the Pareto fronts of error against parameters, and the hypervolume
(and on a benchmark table its gap to the true front) against models evaluated, in the searches' colours.

With several seeds a search's front is its median seed's by final hypervolume (pareto.py), drawn bold;
every network any seed evaluated is a faint point. A front is drawn as the staircase it attains: from
each network to the right until a network with more parameters and a lower error takes over.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .plots import BAND_ALPHA, ERROR_LABEL, mean_band, per_evaluation

PARAMS_LABEL = "trainable parameters (log scale)"
TRUE_FRONT_STYLE = {"color": "0.1", "linestyle": "--", "linewidth": 1.3}
# Where a log axis shows a gap of 0: a fixed, labelled floor far below any gap a search leaves in practice.
GAP_FLOOR = 1e-4


def pareto_figure(fronts, palette: dict, gaps=()) -> Figure:
    """Every evaluated network faint, each search's (median seed's) front bold; each table's true front
    (mean errors over its seeds) dashed black."""
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.subplots()
    seeds = max(len(f.runs) for f in fronts)
    faint = max(0.04, 0.3 / seeds)    # twenty seeds of faint points should not blacken the plane
    for f in fronts:
        colour = palette[f.search.key]
        networks = [n for r in f.runs for n in r.networks]
        ax.scatter([n.params for n in networks], [n.error for n in networks], s=6, color=colour, alpha=faint,
                   linewidths=0, rasterized=True, gid=f"evaluated:{f.search.key}")
    for f in fronts:
        median = f.median
        if median is not None:
            _staircase(ax, median.front, color=palette[f.search.key], linewidth=2.2, marker="o", markersize=4,
                       label=_front_label(f, median), gid=f"front:{f.search.key}")
    for gap in gaps:
        _staircase(ax, gap.true_front, **TRUE_FRONT_STYLE, marker=".", markersize=3,
                   label=f"true front of table {gap.name} (mean error over its seeds; hypervolume "
                         f"{gap.true_hypervolume:.3f})", gid=f"true:{gap.name}")
    ax.set_xscale("log")
    ax.set_xlabel(PARAMS_LABEL)
    ax.set_ylabel(ERROR_LABEL)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
    several = seeds > 1
    fig.suptitle("Pareto fronts: validation error against parameters\n" + (
        "bold: each search's median seed by hypervolume; faint: every network of every seed" if several
        else "bold: each search's front; faint: every evaluated network"), fontsize=10)
    return fig


def hypervolume_figure(fronts, palette: dict, gaps=()) -> Figure:
    """(a) the hypervolume of the front so far against models evaluated, mean over seeds with a 95% band;
    one more panel per benchmark table: the gap to its true front, log scale."""
    fig = Figure(figsize=(7.5 + 6.5 * len(gaps), 5.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, 1 + len(gaps)))
    ax = axes[0]
    for f in fronts:
        _mean_with_band(ax, [r.series for r in f.runs], palette[f.search.key], _legend(f), f"hv:{f.search.key}")
    ax.set_title("(a) hypervolume of the front so far (error x params, normalised)", fontsize=10)
    ax.set_ylabel("hypervolume (higher is better)")
    for letter, (ax, gap) in zip("bcdefgh", zip(axes[1:], gaps)):
        lowest = min([_mean_with_band(ax, [gap.gaps(r) for r in f.runs], palette[f.search.key], _legend(f),
                                      f"gap:{f.search.key}", log=True) for f in gap.fronts], default=1.0)
        ax.set_yscale("log")
        if lowest <= GAP_FLOOR:   # some mean reached 0: say where a log axis draws it
            ax.axhline(GAP_FLOOR, color="0.4", linestyle=":", linewidth=1)
            ax.text(1, GAP_FLOOR, " gap 0 (the true front) or below 1e-4", transform=ax.get_yaxis_transform(),
                    va="bottom", ha="right", fontsize=8, color="0.3")
        ax.set_title(f"({letter}) gap to the true front of table {gap.name} (mean errors; log scale)", fontsize=10)
        ax.set_ylabel("hypervolume gap (lower is better)")
    for ax in axes:
        ax.set_xlabel("models evaluated")
        ax.grid(alpha=0.3, which="both")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, max(1, len(labels))), fontsize=9,
               frameon=False)
    fig.suptitle("Hypervolume against models evaluated", fontsize=11)
    return fig


def _mean_with_band(ax, series, colour: str, label: str, gid: str, log: bool = False) -> float:
    """Draw the mean over seeds and its band; returns the lowest mean (before a log axis's floor)."""
    grid, columns = per_evaluation(series)
    mean, half, _ = mean_band(columns)
    lowest = float(np.nanmin(mean)) if len(mean) else 1.0
    low, high = np.maximum(mean - half, 0.0), mean + half   # neither a hypervolume nor a gap is below 0
    if log:
        mean, low, high = (np.maximum(v, GAP_FLOOR) for v in (mean, low, high))
    ax.plot(grid, mean, drawstyle="steps-post", color=colour, linewidth=1.6, label=label, gid=gid)
    if len(series) > 1:
        ax.fill_between(grid, low, high, step="post", color=colour, alpha=BAND_ALPHA, linewidth=0)
    return lowest


def _staircase(ax, front, **style) -> None:
    """A front sorted by params: each point holds its error to the right until the next point."""
    if not front:
        return
    xs = [n.params for n in front]
    ys = [n.error for n in front]
    ax.plot(xs, ys, drawstyle="steps-post", **style)


def _front_label(fronts, median) -> str:
    searched = "error x params" if fronts.objectives == ["error", "params"] else " x ".join(fronts.objectives)
    seed = f", median seed {median.run.seed}" if len(fronts.runs) > 1 else ""
    unfinished = "" if fronts.search.finished else " — unfinished"
    return (f"{fronts.search.label} (searched {searched}{seed}: {len(median.front)} networks, "
            f"hypervolume {median.hypervolume:.3f}){unfinished}")


def _legend(fronts) -> str:
    seeds = len(fronts.runs)
    only = "" if fronts.multi else ", searched error only"
    band = f"mean of {seeds} seeds, 95% CI" if seeds > 1 else "1 seed"
    return f"{fronts.search.label} ({band}{only})" + ("" if fronts.search.finished else " — unfinished")
