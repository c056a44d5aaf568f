"""Thesis figure 5: (a) best so far, (b) mean of all successes, (c) mean of the last `window` successes,
every search on each panel, against models evaluated or against elapsed time. A search with several
seeds is drawn as the mean over its seeds with a 95% t-interval band."""
from __future__ import annotations

from matplotlib.figure import Figure

from ..search import rundir
from .curves import anytime_curves, counted
from .plots import BAND_ALPHA, ERROR_LABEL, legend_label, mean_band, step_at, time_label

TIME_GRID_POINTS = 400


def panels(window: int) -> tuple:
    """(curve field, panel title) of the three panels; anytime_curves keeps the logbook's field names."""
    return (("best", "(a) best so far"), ("mean_all", "(b) mean of all evaluated"),
            ("mean_last50", f"(c) mean of the last {window} evaluated"))


def figure5(searches, palette: dict, against: str, unit: tuple[float, str],
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
    for search in searches:
        colour, label = palette[search.key], legend_label(search)
        series = [_series(run, against, per_unit, window) for run in search.runs]
        for ax, (field, _) in zip(axes, fields):
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
                            alpha=BAND_ALPHA, linewidth=0)
    runs = [r for s in searches for r in s.runs]
    for ax, (_, title) in zip(axes, fields):
        ax.set_title(title)
        ax.set_xlabel("models evaluated" if against == "evaluations" else time_label(runs, unit_name))
        ax.set_ylabel(ERROR_LABEL)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, max(1, len(labels))), fontsize=9,
               frameon=False)
    what = "models evaluated" if against == "evaluations" else time_label(runs, unit_name).split(" (")[0]
    fig.suptitle(f"Figure 5: search progress against {what} (successful evaluations only)")
    return fig


def window_equals_all(searches, window: int) -> bool:
    """True when no run has more than `window` counted evaluations: then (c) is (b) everywhere."""
    return all(len(counted(r.evaluations)) <= window for s in searches for r in s.runs)


def _series(run, against: str, per_unit: float, window: int):
    curves = anytime_curves(run.evaluations, window)
    xs = curves["index"] if against == "evaluations" else [t / per_unit for t in curves["elapsed"]]
    return xs, curves


def _grid(series, against: str) -> list:
    end = max((xs[-1] for xs, _ in series if xs), default=0)
    if against == "evaluations":
        return list(range(1, int(end) + 1))
    return [end * i / (TIME_GRID_POINTS - 1) for i in range(TIME_GRID_POINTS)]
