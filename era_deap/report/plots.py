"""What every figure of the report shares: one colour per search, the time axis, the mean and band over
seeds, and reproducible files. The figures themselves: figure4.py, figure5.py, bench_figures.py.

Figures are built with matplotlib's object API (`Figure`, no pyplot): no display, no global figure
state, nothing to close.
"""
from __future__ import annotations

import zlib

import numpy as np

from ..search.outputs import mean_ci, save_figure

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


def colours(keys) -> dict:
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


def time_label(runs, unit_name: str) -> str:
    """The time axis's name. A run on a benchmark table keeps a simulated clock (summary.json `clock`):
    the training seconds the table recorded for each network it looked up, summed, not wall time."""
    clocks = {r.clock for r in runs}
    if clocks == {"simulated"}:
        return f"simulated training time ({unit_name}; recorded training seconds summed)"
    if "simulated" in clocks:
        return f"elapsed time ({unit_name}; simulated training time for runs on a table)"
    return f"elapsed time ({unit_name})"


def legend_label(search) -> str:
    label = search.label
    if len(search.runs) > 1:
        label += f" (mean of {len(search.runs)} seeds, 95% CI)"
    return label + ("" if search.finished else " — unfinished")


# --- seeds ---------------------------------------------------------------------------------------

def mean_band(columns, confidence: float = 0.95):
    """Per point: mean, t-interval half-width (stats.mean_ci) and count over the values that are not
    None/nan. `columns` is seeds × points (a list per seed). Half-width is nan where fewer than two values."""
    data = np.array([[np.nan if v is None else v for v in row] for row in columns], dtype=float)
    mean, half = mean_ci(data.T, confidence)
    return mean, half, np.sum(~np.isnan(data), axis=0)


def per_evaluation(series) -> tuple[list, list]:
    """(grid 1..longest, columns) for mean_band from one list per seed with a value per evaluation: a
    seed counts up to its last evaluation."""
    longest = max((len(s) for s in series), default=0)
    return list(range(1, longest + 1)), [list(s) + [None] * (longest - len(s)) for s in series]


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


save = save_figure   # figures are saved as every era-deap figure is (search/outputs.py)
