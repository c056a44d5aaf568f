"""The thesis's figures 4 and 5 from run records (era_deap.report.runs_read), as matplotlib Figures.

    figure4: every evaluation's validation error against elapsed time, one panel per search;
    figure5: (a) best so far, (b) mean of all successes, (c) mean of the last 50 successes, all searches
             on each panel, against models evaluated or against elapsed time. A search with several
             seeds is drawn as the mean over its seeds with a 95% t-interval band.

One colour per search everywhere (`colours`). Figures are built with matplotlib's object API
(`Figure`, no pyplot): no display, no global figure state, nothing to close.
"""
from __future__ import annotations

import math
import zlib
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.transforms import blended_transform_factory

from .runs_read import anytime_curves
from .tables import mean_ci

# tab10, fixed per thesis search so a strategy looks the same in every figure and every report.
STRATEGY_COLOURS = {
    "random_search": "#1f77b4",          # blue
    "local_search": "#ff7f0e",           # orange
    "bayesian_optimization": "#2ca02c",  # green
    "evolution": "#d62728",              # red
    "regularized_evolution": "#9467bd",  # purple
    "crossover_evolution": "#8c564b",    # brown
}
# Other search names: the rest of tab10 (grey is kept for failures) and Dark2, picked by a stable
# hash of the name, moving on to the next free colour when two names collide in one report.
EXTRA_COLOURS = ("#e377c2", "#bcbd22", "#17becf", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e",
                 "#e6ab02", "#a6761d")
FAILED_COLOUR = "#555555"
SEED_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
ERROR_LABEL = "validation error (%)"
PANELS = (("best", "(a) best so far"), ("mean_all", "(b) mean of all evaluated"),
          ("mean_last50", "(c) mean of the last 50 evaluated"))
TIME_GRID_POINTS = 400
FAILED_STRIP, FAILED_Y = 0.92, 0.96   # figure 4: failures sit in the top 8% of each panel


def colours(names) -> dict:
    """name -> colour: fixed for the thesis's searches, deterministic for any other name."""
    mapping = {n: STRATEGY_COLOURS[n] for n in names if n in STRATEGY_COLOURS}
    used = set(mapping.values())
    for name in sorted(n for n in set(names) if n not in STRATEGY_COLOURS):
        start = zlib.crc32(name.encode()) % len(EXTRA_COLOURS)
        for step in range(len(EXTRA_COLOURS)):
            colour = EXTRA_COLOURS[(start + step) % len(EXTRA_COLOURS)]
            if colour not in used:
                break
        mapping[name] = colour   # more than 10 extra names: colours repeat (we said what we could)
        used.add(colour)
    return mapping


def time_unit(max_seconds: float) -> tuple[float, str]:
    """(seconds per unit, unit) so the time axis reads in small numbers: s, min or h."""
    if max_seconds >= 2 * 3600:
        return 3600.0, "h"
    if max_seconds >= 120:
        return 60.0, "min"
    return 1.0, "s"


def _legend_label(search) -> str:
    label = search.label
    if len(search.runs) > 1:
        label += f" (mean of {len(search.runs)} seeds, 95% CI)"
    return label + ("" if search.finished else " — unfinished")


# --- figure 4 -------------------------------------------------------------------------------------

def figure4(searches, palette: dict, unit: tuple[float, str]) -> Figure:
    """Scatter of error against elapsed time, one panel per search, shared axes. Cached rows (repeats)
    are hollow; failed evaluations have no error, so they are drawn as grey crosses in a strip along
    the top, at the time they failed, and counted in the panel title."""
    per_unit, unit_name = unit
    ncols = min(3, len(searches))
    nrows = math.ceil(len(searches) / ncols)
    fig = Figure(figsize=(4.8 * ncols, 3.7 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    errors = [e.error for s in searches for r in s.runs for e in r.evaluations if e.ok]
    any_failed = any(not e.ok for s in searches for r in s.runs for e in r.evaluations)
    for ax, search in zip(axes.flat, searches):
        colour = palette[search.name]
        top = blended_transform_factory(ax.transData, ax.transAxes)
        for k, run in enumerate(search.runs):
            marker = SEED_MARKERS[k % len(SEED_MARKERS)]
            fresh = [e for e in run.evaluations if e.ok and not e.cached]
            cached = [e for e in run.evaluations if e.ok and e.cached]
            failed = [e for e in run.evaluations if not e.ok]
            seed = f"seed {run.seed}" if len(search.runs) > 1 else None
            ax.scatter([e.elapsed / per_unit for e in fresh], [e.error for e in fresh], s=16, marker=marker,
                       color=colour, alpha=0.75, linewidths=0, label=seed, gid=f"ok:{search.name}")
            ax.scatter([e.elapsed / per_unit for e in cached], [e.error for e in cached], s=22, marker=marker,
                       facecolors="none", edgecolors=colour, linewidths=0.9, gid=f"cached:{search.name}")
            if failed:   # (an empty unclipped line would pull constrained layout to the figure's corner)
                ax.plot([e.elapsed / per_unit for e in failed], [FAILED_Y] * len(failed), linestyle="none",
                        marker="x", markersize=5, color=FAILED_COLOUR, transform=top, gid=f"failed:{search.name}")
        if any_failed:
            # add_artist, not add_patch: the strip is in axes coordinates and must not move the limits
            ax.add_artist(Rectangle((0, FAILED_STRIP), 1, 1 - FAILED_STRIP, transform=ax.transAxes,
                                    color="0.92", zorder=0, linewidth=0))
        ax.set_title(_panel_title(search), fontsize=10)
        ax.grid(alpha=0.3)
        if len(search.runs) > 1:
            ax.legend(fontsize=7, loc="lower right", framealpha=0.8)
    if errors:   # from 0; headroom above the worst error keeps the failure strip clear of points
        ax.set_ylim(0, max(errors) / (FAILED_STRIP - 0.02) if any_failed else max(errors) * 1.05)
    for i, ax in enumerate(axes.flat):
        if i >= len(searches):
            ax.set_visible(False)
        elif i + ncols >= len(searches):   # nothing visible below: this panel carries the x axis
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel(f"elapsed time ({unit_name})")
    for ax in axes[:, 0]:
        ax.set_ylabel(ERROR_LABEL)
    key = [Line2D([], [], linestyle="none", marker="o", color="0.35", label="evaluated network"),
           Line2D([], [], linestyle="none", marker="o", markerfacecolor="none", color="0.35",
                  label="cached (repeat of an earlier evaluation, no budget)"),
           Line2D([], [], linestyle="none", marker="x", color=FAILED_COLOUR,
                  label="failed (no error; shown in the grey strip at the top)")]
    fig.legend(handles=key, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    fig.suptitle("Figure 4: validation error of every evaluated network against elapsed time")
    return fig


def _panel_title(search) -> str:
    evaluated = sum(len(r.evaluations) for r in search.runs)
    failed = sum(sum(r.failed.values()) for r in search.runs)
    cached = sum(r.cached for r in search.runs)
    seeds = f", {len(search.runs)} seeds" if len(search.runs) > 1 else ""
    unfinished = " (unfinished)" if not search.finished else ""
    return f"{search.label}{unfinished}\n{evaluated} evaluated, {failed} failed, {cached} cached{seeds}"


# --- figure 5 -------------------------------------------------------------------------------------

def figure5(searches, palette: dict, against: str, unit: tuple[float, str]) -> Figure:
    """Panels (a) best so far, (b) mean of all, (c) mean of the last 50, against "evaluations" (models
    evaluated) or "time" (elapsed). Several seeds: the mean over seeds, with a
    95% t-interval band where at least two seeds contribute. Against models evaluated a seed counts up
    to its last evaluation; against time a finished seed also counts after it ended (holding its final
    value), an unfinished one only up to its last result."""
    if against not in ("evaluations", "time"):
        raise ValueError(f"against must be 'evaluations' or 'time', got {against!r}")
    per_unit, unit_name = unit
    fig = Figure(figsize=(15, 5.2), layout="constrained")
    axes = fig.subplots(1, 3, sharex=True)
    for search in searches:
        colour, label = palette[search.name], _legend_label(search)
        series = [_series(run, against, per_unit) for run in search.runs]
        for ax, (field, _) in zip(axes, PANELS):
            if len(series) == 1:
                xs, curves = series[0]
                pts = [(x, y) for x, y in zip(xs, curves[field]) if y is not None]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], drawstyle="steps-post", color=colour,
                        linewidth=1.6, label=label)
                continue
            grid = _grid(series, against)
            # against time a finished seed holds its final value; otherwise only seeds that got there count
            columns = [step_at(xs, curves[field], grid, hold=against == "time" and run.finished)
                       for (xs, curves), run in zip(series, search.runs)]
            mean, half, _ = mean_band(columns)
            ax.plot(grid, mean, drawstyle="steps-post", color=colour, linewidth=1.6, label=label)
            # an error is never below 0 %: the symmetric t-interval is cut there for display
            ax.fill_between(grid, (mean - half).clip(min=0), mean + half, step="post", color=colour,
                            alpha=0.18, linewidth=0)
    for ax, (_, title) in zip(axes, PANELS):
        ax.set_title(title)
        ax.set_xlabel("models evaluated" if against == "evaluations" else f"elapsed time ({unit_name})")
        ax.set_ylabel(ERROR_LABEL)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, max(1, len(labels))), fontsize=9,
               frameon=False)
    what = "models evaluated" if against == "evaluations" else "elapsed time"
    fig.suptitle(f"Figure 5: search progress against {what} (successful evaluations only)")
    return fig


def _series(run, against: str, per_unit: float):
    curves = anytime_curves(run.evaluations)
    xs = curves["index"] if against == "evaluations" else [t / per_unit for t in curves["elapsed"]]
    return xs, curves


def _grid(series, against: str) -> list:
    end = max((xs[-1] for xs, _ in series if xs), default=0)
    if against == "evaluations":
        return list(range(1, int(end) + 1))
    return [end * i / (TIME_GRID_POINTS - 1) for i in range(TIME_GRID_POINTS)]


# --- seeds ---------------------------------------------------------------------------------------

def mean_band(columns, confidence: float = 0.95):
    """Per point: mean, t-interval half-width (tables.mean_ci) and count over the values that are not
    None/nan. `columns` is seeds × points (a list per seed). Half-width is nan where fewer than two values."""
    data = np.array([[np.nan if v is None else v for v in row] for row in columns], dtype=float)
    mean, half = mean_ci(data.T, confidence)
    return mean, half, np.sum(~np.isnan(data), axis=0)


def step_at(xs, ys, grid, hold: bool = False) -> list:
    """The step function through (xs, ys) — the value of the last point at or before x — at each grid
    point; None before the first point, and after the last unless `hold` (a finished search keeps its
    final state: on a time axis its best stays what it was when it ended)."""
    out, i = [], -1
    for x in grid:
        while i + 1 < len(xs) and xs[i + 1] <= x:
            i += 1
        out.append(None if i < 0 or (x > xs[-1] and not hold) else ys[i])   # i < 0 first: xs may be empty
    return out


# --- files ----------------------------------------------------------------------------------------

def save(fig: Figure, out_dir: Path, stem: str) -> list:
    """PNG and SVG, byte-for-byte reproducible (no dates, fixed SVG ids): reruns are idempotent."""
    out_dir = Path(out_dir)
    png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
    with matplotlib.rc_context({"svg.hashsalt": "era-deap", "svg.fonttype": "none"}):
        fig.savefig(png, dpi=130, metadata={"Software": None})
        fig.savefig(svg, metadata={"Date": None, "Creator": None})
    return [png, svg]
