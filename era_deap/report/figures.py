"""The report's figures, draw only: the numbers come from statistics.py and pareto.py, the files are
written by report.py (search/outputs.py's save_figure). matplotlib's object API (`Figure`, no pyplot):
no display, no global figure state, nothing to close.

    figure4            thesis figure 4: the validation error of every evaluation against elapsed time,
                       one panel per search
    figure5            thesis figure 5: best so far, mean of all, mean of the last `window`, against models
                       evaluated or elapsed time
    regret_figure, regret_epochs_figure, top_share_figure
                       runs on a benchmark table: the regret against models evaluated (or training epochs)
                       and the share of seeds that have found a top-1% network
    pareto_figure, hypervolume_figure
                       the multi-objective part: fronts of error against parameters, the hypervolume (and
                       on a benchmark table its gap to the true front) against models evaluated

One colour per search in every figure. A search with several seeds is drawn as the mean over its seeds
with a 95% t-interval band (figure 4: every seed faint, the median seed by best error in full colour);
with several seeds a search's front is its median seed's by final hypervolume, drawn bold, every network
any seed evaluated a faint point, a front the staircase it attains (from each network to the right
until a network with more parameters and a lower error takes over).
"""
from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ..search import rundir
from .statistics import anytime_curves, mean_band, median_run, per_evaluation, step_at, zoomed_range

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence

    from .pareto import FrontGap, SearchFronts
    from .runs import Run, SearchRuns
    from .statistics import Benchmark

# tab10, fixed per thesis search so a strategy looks the same in every figure and every report.
STRATEGY_COLOURS = {
    "random_search": "#1f77b4",          # blue
    "local_search": "#ff7f0e",           # orange
    "bayesian_optimization": "#2ca02c",  # green
    "evolution": "#d62728",              # red
    "regularized_evolution": "#9467bd",  # purple
    "crossover_evolution": "#8c564b",    # brown
    "nsga2": "#e377c2",                  # pink (the searches beyond the thesis's six)
    "asha": "#17becf",                   # cyan
    "hyperband": "#bcbd22",              # olive
    "asha_evolution": "#ff9896",         # light red (configs/bench_mf)
}
# Other search keys: Dark2 (grey is kept for failures), picked by a stable hash of the key, moving on
# to the next free colour when two keys collide in one report.
EXTRA_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#8dd3c7",
                 "#1f78b4", "#b15928")
FAILED_COLOUR = "#555555"
ERROR_LABEL = "validation error (%)"
BAND_ALPHA = 0.18
FAINT = {"s": 7, "alpha": 0.2, "linewidths": 0}    # figure 4: every seed but the median one
FULL = {"s": 16, "alpha": 0.9, "linewidths": 0}     # figure 4: the median seed
TIME_GRID_POINTS = 400                              # figure 5 against time: where seeds are averaged
PARAMS_LABEL = "trainable parameters (log scale)"
TRUE_FRONT_STYLE = {"color": "0.1", "linestyle": "--", "linewidth": 1.3}
# Where a log axis shows a gap of 0: a fixed, labelled floor far below any gap a search leaves in practice.
GAP_FLOOR = 1e-4


# --- what every figure shares ---------------------------------------------------------------------

def colours(keys: Collection[str]) -> dict:
    """Search key -> colour: fixed for the thesis's searches, deterministic for any other key (a name
    that two configs share is two keys, "name [id]": two colours)."""
    mapping = {n: STRATEGY_COLOURS[n] for n in keys if n in STRATEGY_COLOURS}
    used = set(mapping.values())
    for key in sorted(n for n in set(keys) if n not in STRATEGY_COLOURS):
        start = zlib.crc32(key.encode()) % len(EXTRA_COLOURS)
        for step in range(len(EXTRA_COLOURS)):
            colour = EXTRA_COLOURS[(start + step) % len(EXTRA_COLOURS)]
            if colour not in used:
                break
        mapping[key] = colour   # more than 10 extra keys: colours repeat (we said what we could)
        used.add(colour)
    return mapping


def time_unit(max_seconds: float) -> tuple[float, str]:
    """(seconds per unit, unit) so the time axis reads in small numbers: s, min or h."""
    if max_seconds >= 2 * 3600:
        return 3600.0, "h"
    if max_seconds >= 120:
        return 60.0, "min"
    return 1.0, "s"


def time_label(runs: Iterable[Run], unit_name: str) -> str:
    """The time axis's name. A run on a benchmark table keeps a simulated clock (summary.json `clock`):
    the training seconds the table recorded for each network it looked up, summed, not wall time."""
    clocks = {r.clock for r in runs}
    if clocks == {"simulated"}:
        return f"simulated training time ({unit_name}; recorded training seconds summed)"
    if "simulated" in clocks:
        return f"elapsed time ({unit_name}; simulated training time for runs on a table)"
    return f"elapsed time ({unit_name})"


def legend_label(search: SearchRuns) -> str:
    label = search.label
    if len(search.runs) > 1:
        label += f" (mean of {len(search.runs)} seeds, 95% CI)"
    return label + ("" if search.finished else " — unfinished")


# --- figure 4: every evaluation -------------------------------------------------------------------

def figure4(searches: Sequence[SearchRuns], palette: dict, unit: tuple[float, str]) -> Figure:
    per_unit, unit_name = unit
    ncols = min(3, len(searches))
    nrows = math.ceil(len(searches) / ncols)
    fig = Figure(figsize=(4.8 * ncols, 3.7 * nrows + 1.0), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    errors = [e.error for s in searches for r in s.runs for e in r.evaluations if e.ok]
    for ax, search in zip(axes.flat, searches):
        _panel(ax, search, palette[search.key], per_unit)
    log = figure4_log_scale(errors)
    if log:   # the best so far (a point or two) would lie on the x axis of a 0-90 % axis
        ax.set_yscale("log")
        ax.set_ylim(min(errors) / 1.3, max(errors) * 1.3)
        _plain_log_ticks(ax.yaxis)
    elif errors:
        ax.set_ylim(0, max(errors) * 1.05)
    runs = [r for s in searches for r in s.runs]
    for i, ax in enumerate(axes.flat):
        if i >= len(searches):
            ax.set_visible(False)
        elif i + ncols >= len(searches):   # nothing visible below: this panel carries the x axis
            ax.xaxis.set_tick_params(labelbottom=True)
            ax.set_xlabel(time_label(runs, unit_name))
    for ax in axes[:, 0]:
        ax.set_ylabel("validation error (%, log scale)" if log else ERROR_LABEL)
    several = any(len(s.runs) > 1 for s in searches)
    cached = any(r.cached for s in searches for r in s.runs)
    key = [Line2D([], [], linestyle="none", marker="o", color="0.35", label="an evaluated network"),
           *([Line2D([], [], linestyle="none", marker="o", markerfacecolor="none", color="0.35",
                     label="cached (a repeat, no budget)")] if cached else []),
           Line2D([], [], color="0.15", linewidth=1.2, label="best so far")]
    if several:
        key.insert(0, Line2D([], [], linestyle="none", marker="o", color="0.35", alpha=0.25, markersize=4,
                             label="other seeds"))
        key[1].set_label("median seed by best error (named in the panel)")
    fig.legend(handles=key, loc="outside lower center", ncols=len(key), fontsize=8, frameon=False)
    what = time_label(runs, unit_name).split(" (")[0]
    fig.suptitle(f"Figure 4: validation error of every evaluated network against {what}")
    return fig


def figure4_log_scale(errors: Sequence[float]) -> bool:
    """Figure 4's error axis is logarithmic when the errors span a factor of 10 or more (all above 0):
    the best so far, near the lowest, then stands clear of the x axis."""
    return bool(errors) and min(errors) > 0 and max(errors) >= 10 * min(errors)


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


# --- figure 5: search progress --------------------------------------------------------------------

def panels(window: int) -> tuple:
    """(curve field, panel title) of the three panels; anytime_curves keeps the logbook's field names."""
    return (("best", "(a) best so far"), ("mean_all", "(b) mean of all evaluated"),
            ("mean_last50", f"(c) mean of the last {window} evaluated"))


def figure5(searches: Sequence[SearchRuns], palette: dict, against: str, unit: tuple[float, str],
            window: int = rundir.RECENT_WINDOW) -> Figure:
    """Against "evaluations" (models evaluated) or "time". Several seeds: the mean over seeds, with a
    95% t-interval band where at least two seeds contribute. Against models evaluated a seed counts up
    to its last evaluation; against time a finished seed also counts after it ended (holding its final
    value), an unfinished one only up to its last result."""
    if against not in ("evaluations", "time"):
        raise ValueError(f"against must be 'evaluations' or 'time', got {against!r}")
    per_unit, unit_name = unit
    fig = Figure(figsize=(15, 5.2), layout="constrained")
    axes = fig.subplots(1, 3, sharex=True)
    fields = panels(window)
    drawn: dict = {field: [] for field, _ in fields}    # field -> [(xs, ys)]: the y range to zoom to
    for search in searches:
        colour, label = palette[search.key], legend_label(search)
        series = [_series(run, against, per_unit, window) for run in search.runs]
        for ax, (field, _) in zip(axes, fields):
            if len(series) == 1:
                xs, curves = series[0]
                pts = [(x, y) for x, y in zip(xs, curves[field]) if y is not None]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], drawstyle="steps-post", color=colour,
                        linewidth=1.6, label=label)
                drawn[field].append(([p[0] for p in pts], [p[1] for p in pts]))
                continue
            grid = _grid(series, against)
            # against time a finished seed holds its final value; otherwise only seeds that got there count
            columns = [step_at(xs, curves[field], grid, hold=against == "time" and run.finished)
                       for (xs, curves), run in zip(series, search.runs)]
            mean, half, _ = mean_band(columns, majority=True)
            ax.plot(grid, mean, drawstyle="steps-post", color=colour, linewidth=1.6, label=label)
            # an error is never below 0 %: the symmetric t-interval is cut there for display
            ax.fill_between(grid, (mean - half).clip(min=0), mean + half, step="post", color=colour,
                            alpha=BAND_ALPHA, linewidth=0)
            drawn[field].append((grid, mean))
    runs = [r for s in searches for r in s.runs]
    for ax, (field, title) in zip(axes, fields):
        limits = zoomed_range(drawn[field])
        if limits is not None:
            ax.set_ylim(*limits)
        ax.set_title(title)
        # a panel is a third of the figure: the time label, on one line, ran off the canvas
        ax.set_xlabel("models evaluated" if against == "evaluations"
                      else time_label(runs, unit_name).replace("; ", ";\n", 1))
        ax.set_ylabel(ERROR_LABEL)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, max(1, len(labels))), fontsize=9,
               frameon=False)
    what = "models evaluated" if against == "evaluations" else time_label(runs, unit_name).split(" (")[0]
    fig.suptitle(f"Figure 5: search progress against {what} (successful evaluations only)")
    return fig


def _series(run, against: str, per_unit: float, window: int):
    curves = anytime_curves(run.evaluations, window)
    xs = curves["index"] if against == "evaluations" else [t / per_unit for t in curves["elapsed"]]
    return xs, curves


def _grid(series, against: str) -> list:
    end = max((xs[-1] for xs, _ in series if xs), default=0)
    if against == "evaluations":
        return list(range(1, int(end) + 1))
    return [end * i / (TIME_GRID_POINTS - 1) for i in range(TIME_GRID_POINTS)]


# --- benchmark tables: regret and top-1% networks -------------------------------------------------

def regret_figure(bench: Benchmark, palette: dict) -> Figure:
    """Mean regret over seeds and its 95% t-interval band, log y axis, against models evaluated."""
    series = {search.key: per_evaluation([bench.regrets(r) for r in search.runs]) for search in bench.searches}
    fig = _regret_plot(bench, palette, series, "models evaluated")
    fig.suptitle(f"Regret on table {bench.name}: mean error of the best network so far minus the optimum's "
                 f"({bench.optimum:.2f}%)", fontsize=11)
    return fig


def regret_epochs_figure(bench: Benchmark, palette: dict, points: int = 300) -> Figure:
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
    """Per search (key -> (grid, columns of seeds)) the mean and 95% band, log y, each curve stopping where
    fewer than half of its seeds contribute. The y axis shows the curves after the first few evaluations
    (statistics.zoomed_range). A log axis has no 0: when some mean reaches regret 0 (every seed's best is
    the optimum), it is drawn at a marked floor below the smallest regret above 0 a mean over the seeds
    can take; otherwise no floor is drawn and the axis ends below the lowest curve."""
    seeds = max(len(s.runs) for s in bench.searches)
    floor = bench.smallest_gap / (2 * seeds)
    fig = Figure(figsize=(8, 5.6), layout="constrained")
    ax = fig.subplots()
    drawn, reaches_zero = [], False
    for search in bench.searches:
        grid, columns = series[search.key]
        mean, half, _ = mean_band(columns, majority=True)
        reaches_zero |= bool(np.any(mean[~np.isnan(mean)] <= 0))
        colour = palette[search.key]
        shown = np.maximum(mean, floor)
        ax.plot(grid, shown, drawstyle="steps-post", color=colour, linewidth=1.6, label=_label(search),
                gid=f"regret:{search.key}")
        drawn.append((grid, shown))
        if len(search.runs) > 1:
            ax.fill_between(grid, np.maximum(mean - half, floor), np.maximum(mean + half, floor), step="post",
                            color=colour, alpha=BAND_ALPHA, linewidth=0)
    ax.set_yscale("log")
    limits = zoomed_range(drawn, log=True)
    if reaches_zero:
        ax.axhline(floor, color="0.4", linestyle=":", linewidth=1)
        ax.text(1, floor, " regret 0: the optimum", transform=ax.get_yaxis_transform(), va="bottom", ha="right",
                fontsize=8, color="0.3")
    if limits is not None:
        ax.set_ylim(floor / 1.5 if reaches_zero else limits[0], limits[1])
    _plain_log_ticks(ax.yaxis)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("regret (percentage points, log scale)")
    ax.grid(alpha=0.3, which="both")
    # below the axes: inside, it covered the curves that end high (random search, the evolutions)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, max(1, len(labels))), fontsize=8,
               frameon=False)
    return fig


def _plain_log_ticks(axis) -> None:
    """Ticks at 1, 2 and 5 times powers of ten, written as plain numbers (0.2, 1, 5): a log axis spanning
    one or two decades otherwise shows one or two labels."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def top_share_figure(bench: Benchmark, palette: dict) -> Figure:
    """Per search: the share of its seeds (of those that reached n) that have evaluated a top-1% network."""
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    for search in bench.searches:
        grid, columns = per_evaluation([bench.found_top(r) for r in search.runs])
        share, _, _ = mean_band(columns, majority=True)
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


# --- multi-objective: fronts and hypervolume ------------------------------------------------------

def pareto_figure(fronts: Sequence[SearchFronts], palette: dict, gaps: Sequence[FrontGap] = ()) -> Figure:
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


def hypervolume_figure(fronts: Sequence[SearchFronts], palette: dict, gaps: Sequence[FrontGap] = ()) -> Figure:
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
    mean, half, _ = mean_band(columns, majority=True)
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
