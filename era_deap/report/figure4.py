"""Thesis figure 4: the validation error of every evaluation against elapsed time, one panel per search.

Readable with one seed or with twenty: every seed's evaluations are faint points in the search's
colour, and one seed is drawn in full, the median seed by best error, with its best error so far as a
line. Failed evaluations have no error to draw; each panel says how many there were, in a box.
"""
from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .curves import anytime_curves, best_evaluation
from .plots import ERROR_LABEL, FAILED_COLOUR, time_label

FAINT = {"s": 7, "alpha": 0.2, "linewidths": 0}    # every seed but the median one
FULL = {"s": 16, "alpha": 0.9, "linewidths": 0}


def median_run(search):
    """The seed whose best error is the median of its search's (the lower one of the middle two with an
    even count, earliest seed on ties); None when no seed has a success."""
    ranked = sorted(((best_evaluation(r.evaluations), k, r) for k, r in enumerate(search.runs)),
                    key=lambda t: (t[0] is None, t[0].error if t[0] else 0.0, t[1]))
    ranked = [r for best, _, r in ranked if best is not None]
    return ranked[(len(ranked) - 1) // 2] if ranked else None


def figure4(searches, palette: dict, unit: tuple[float, str]) -> Figure:
    per_unit, unit_name = unit
    ncols = min(3, len(searches))
    nrows = math.ceil(len(searches) / ncols)
    fig = Figure(figsize=(4.8 * ncols, 3.7 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    errors = [e.error for s in searches for r in s.runs for e in r.evaluations if e.ok]
    for ax, search in zip(axes.flat, searches):
        _panel(ax, search, palette[search.key], per_unit)
    if errors:
        ax.set_ylim(0, max(errors) * 1.05)
    runs = [r for s in searches for r in s.runs]
    for i, ax in enumerate(axes.flat):
        if i >= len(searches):
            ax.set_visible(False)
        elif i + ncols >= len(searches):   # nothing visible below: this panel carries the x axis
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel(time_label(runs, unit_name))
    for ax in axes[:, 0]:
        ax.set_ylabel(ERROR_LABEL)
    several = any(len(s.runs) > 1 for s in searches)
    key = [Line2D([], [], linestyle="none", marker="o", color="0.35", label="an evaluated network"),
           Line2D([], [], linestyle="none", marker="o", markerfacecolor="none", color="0.35",
                  label="cached (a repeat, no budget)"),
           Line2D([], [], color="0.15", linewidth=1.2, label="best so far")]
    if several:
        key.insert(0, Line2D([], [], linestyle="none", marker="o", color="0.35", alpha=0.25, markersize=4,
                             label="other seeds"))
        key[1].set_label("median seed by best error (named in the panel)")
    fig.legend(handles=key, loc="outside lower center", ncols=len(key), fontsize=8, frameon=False)
    what = time_label(runs, unit_name).split(" (")[0]
    fig.suptitle(f"Figure 4: validation error of every evaluated network against {what}")
    return fig


def _panel(ax, search, colour: str, per_unit: float) -> None:
    median = median_run(search)
    several = len(search.runs) > 1
    for run in search.runs:
        if run is not median:
            _points(ax, run, colour, per_unit, FAINT, f"ok:{search.key}")
    if median is not None:   # last, on top of the others
        _points(ax, median, colour, per_unit, FULL, f"{'median' if several else 'ok'}:{search.key}")
        curves = anytime_curves(median.evaluations)
        pts = [(t / per_unit, b) for t, b in zip(curves["elapsed"], curves["best"]) if b is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], drawstyle="steps-post", color="0.15", linewidth=1.2)
    failed: dict = {}
    for run in search.runs:
        for status, n in run.failed.items():
            failed[status] = failed.get(status, 0) + n
    if failed:
        text = "failed: " + ", ".join(f"{n} {status}" for status, n in sorted(failed.items()))
        ax.text(0.98, 0.97, text, transform=ax.transAxes, ha="right", va="top", fontsize=8, color=FAILED_COLOUR,
                bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": FAILED_COLOUR, "alpha": 0.9},
                gid=f"failed:{search.key}")
    ax.set_title(_title(search, median), fontsize=10)
    ax.grid(alpha=0.3)


def _points(ax, run, colour: str, per_unit: float, style: dict, gid: str) -> None:
    fresh = [e for e in run.evaluations if e.ok and not e.cached]
    cached = [e for e in run.evaluations if e.ok and e.cached]
    ax.scatter([e.elapsed / per_unit for e in fresh], [e.error for e in fresh], color=colour, gid=gid, **style)
    if cached:
        ax.scatter([e.elapsed / per_unit for e in cached], [e.error for e in cached], facecolors="none",
                   edgecolors=colour, s=style["s"] + 6, alpha=style["alpha"], linewidths=0.9)


def _title(search, median) -> str:
    evaluated = sum(len(r.evaluations) for r in search.runs)
    failed = sum(sum(r.failed.values()) for r in search.runs)
    cached = sum(r.cached for r in search.runs)
    unfinished = " (unfinished)" if not search.finished else ""
    counts = f"{evaluated} evaluated, {failed} failed, {cached} cached"
    if len(search.runs) == 1:
        return f"{search.label}{unfinished}\n{counts}"
    median_text = f"\nmedian seed (full colour): seed {median.seed}" if median is not None else ""
    return f"{search.label}{unfinished}\n{len(search.runs)} seeds: {counts}{median_text}"
