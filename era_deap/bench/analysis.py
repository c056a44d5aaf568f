"""`era bench analyse`: is short training biased against deep networks? The thesis asked it of nine
hand-picked ResNets (§4.2); a table's per-epoch curves answer it for every network of a space.

An epoch-r cell is the network after r epochs of the table's one schedule (its learning-rate drop
possibly still ahead), read off the recorded curve, as NAS-Bench-201 users read theirs: not a network
trained for r epochs with a schedule of its own, as `era rankcorr` trains. Four questions:

1. Does epoch r rank the networks as the last epoch does? Spearman's rho of the mean (over seeds)
   error at r against the last epoch's, with a 95% interval; the same per seed (one training's own
   curve) and across seeds (seed s at r against another seed t at the end, which shares no training
   noise); the seed-to-seed rho at the last epoch is the ceiling any predictor of another training meets.
2. Depth bias: each network's rank shift (percentile rank at r minus at the end; > 0: ranked worse
   early than it finishes) against depth and parameters: Spearman with p-values, a regression line,
   the mean shift per depth bucket, and depth given parameters (they go together).
3. Top-k agreement: of the top 1% / 5% at the end, the share already there at epoch r.
4. The thesis's own networks (its tables 3 and 6) through the same measures, for the comparison.

Figures: analysis_figures.py; the page, analysis.json and the files: analysis_page.py.
"""
from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from ..errors import ConfigError
from ..search.outputs import mean_ci

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .table import Table

LEVEL = 0.95
TOP_FRACTIONS = (0.01, 0.05)
DEPTH_BUCKETS = 4
SIGNIFICANCE = 0.05


# --- the curves -----------------------------------------------------------------------------------

@dataclass
class Curves:
    """Per-seed validation-error curves of the networks whose every seed trained a full curve."""
    name: str
    source: str
    complete: bool
    built: int                 # networks in the table
    total: int                 # unique networks of the space
    seeds: list
    epochs: int
    lr_drops: list             # 1-based epochs that start at a lowered learning rate
    keys: list
    depth: np.ndarray
    params: np.ndarray
    errors: np.ndarray         # (networks, seeds, epochs), validation error in %
    left_out: dict = field(default_factory=dict)    # reason -> networks
    setting: dict = field(default_factory=dict)     # dataset and schedule, for the page

    @functools.cached_property
    def mean(self) -> np.ndarray:
        """(networks, epochs): the mean error over seeds."""
        return self.errors.mean(axis=1)

    @property
    def n(self) -> int:
        return len(self.keys)


def load_curves(table: Table) -> Curves:
    """The table's curves; networks with a failed seed or a short curve are left out and counted."""
    epochs, seeds = int(table.data["epochs"]), len(table.seeds)
    keys, depth, params, rows, left_out = [], [], [], [], {}
    for key in sorted(table.networks):
        network = table.networks[key]
        results = network["results"]
        if len(results) < seeds or any(r["status"] != "ok" for r in results):
            reason = "a seed did not train (failed or missing)"
        elif any(len(r.get("val_error") or []) != epochs for r in results):
            reason = f"a seed's curve does not have {epochs} epochs"
        else:
            keys.append(key)
            depth.append(network["depth"])
            params.append(network["params"])
            rows.append([r["val_error"] for r in results[:seeds]])
            continue
        left_out[reason] = left_out.get(reason, 0) + 1
    if len(keys) < 4:
        raise ConfigError(f"{table.source}: {len(keys)} networks with every seed's {epochs}-epoch validation curve; "
                          f"at least 4 are needed to rank networks (a table built with an objective that reports "
                          f"no `curve` has none)")
    evaluator = table.data.get("evaluator", {})
    training = evaluator.get("training", {})
    # As TrainingConfig.milestone_epochs: milestone m drops the lr at the start of 0-based epoch round(m * epochs).
    drops = sorted({round(m * epochs) + 1 for m in training.get("lr_milestones", []) if 0 < round(m * epochs) < epochs})
    setting = {"dataset": (evaluator.get("dataset") or {}).get("name", "?"), "lr": training.get("lr"),
               "lr_gamma": training.get("lr_gamma"), "batch_size": training.get("batch_size"),
               "objective": evaluator.get("objective", "?")}
    return Curves(name=table.name, source=str(table.source), complete=table.complete, built=len(table.networks),
                  total=table.space.n_unique, seeds=list(table.seeds), epochs=epochs, lr_drops=drops, keys=keys,
                  depth=np.asarray(depth, dtype=float), params=np.asarray(params, dtype=float),
                  errors=np.asarray(rows, dtype=float), left_out=left_out, setting=setting)


# --- statistics -----------------------------------------------------------------------------------

def spearman(x: np.ndarray | Sequence[float], y: np.ndarray | Sequence[float]) -> tuple[float, float]:
    """(rho, p); nan for constant input (ranks nothing), without scipy's warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        result = stats.spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)


def spearman_ci(x: np.ndarray | Sequence[float], y: np.ndarray | Sequence[float], level: float = LEVEL) -> dict:
    """Spearman's rho, its p-value and a Fisher-z interval with Bonett & Wright's (2000) variance for
    Spearman, (1 + rho^2 / 2) / (n - 3): cheap, deterministic, and right for the sizes here."""
    rho, p = spearman(x, y)
    n = len(x)
    low = high = math.nan
    if n > 3 and math.isfinite(rho):
        z = math.atanh(min(max(rho, -1 + 1e-12), 1 - 1e-12))
        half = stats.norm.ppf(0.5 + level / 2) * math.sqrt((1 + rho * rho / 2) / (n - 3))
        low, high = math.tanh(z - half), math.tanh(z + half)
    return {"rho": rho, "low": low, "high": high, "p": p, "n": n}


def partial_spearman(x: np.ndarray | Sequence[float], y: np.ndarray | Sequence[float],
                     control: np.ndarray | Sequence[float]) -> dict:
    """Spearman's rho of x and y with `control` held fixed: Pearson of the ranks' residuals after a
    linear fit on the control's ranks; p from t with n - 3 degrees of freedom."""
    rx, ry, rc = (stats.rankdata(v) for v in (x, y, control))
    residual = lambda v: v - np.polyval(np.polyfit(rc, v, 1), rc)   # noqa: E731
    ex, ey = residual(rx), residual(ry)
    n = len(rx)
    if np.std(ex) == 0 or np.std(ey) == 0:
        return {"rho": math.nan, "p": math.nan, "n": n}
    rho = float(np.corrcoef(ex, ey)[0, 1])
    t = rho * math.sqrt((n - 3) / max(1e-300, 1 - rho * rho))
    return {"rho": rho, "p": float(2 * stats.t.sf(abs(t), n - 3)), "n": n}


def percentile_ranks(errors: np.ndarray | Sequence[float]) -> np.ndarray:
    """0 = the best (lowest error), 100 = the worst; ties share their average rank. A shift in these
    points reads the same for a partial table and a complete one."""
    return 100 * (stats.rankdata(errors) - 1) / max(1, len(errors) - 1)


def buckets(values: np.ndarray | Sequence[float], count: int = DEPTH_BUCKETS) -> list[np.ndarray]:
    """Masks of about `count` groups of equal size by value; a value is never split across two groups."""
    values = np.asarray(values)
    distinct, counts = np.unique(values, return_counts=True)
    before = np.concatenate([[0], np.cumsum(counts)[:-1]]) / len(values)
    group = np.minimum((before * count + 1e-9).astype(int), count - 1)
    return [np.isin(values, distinct[group == g]) for g in np.unique(group)]


def mean_interval(values: np.ndarray | Sequence[float], level: float = LEVEL) -> dict:
    """The mean with its t-interval (search/outputs.py's mean_ci): {"mean", "low", "high", "n"}."""
    mean, half = (float(v) for v in mean_ci(values, level))
    return {"mean": mean, "low": mean - half, "high": mean + half, "n": int(len(values))}


# --- the four questions ---------------------------------------------------------------------------

def fidelity(curves: Curves) -> dict:
    """Spearman between epoch r and the last epoch, per r: of the means, per seed, across seeds; the
    seed-to-seed ceiling at the last epoch; and the epoch-by-epoch matrix of the means."""
    errors, mean, last, seeds = curves.errors, curves.mean, curves.epochs - 1, len(curves.seeds)
    pairs = [(s, t) for s in range(seeds) for t in range(seeds) if s != t]
    rows = []
    for r in range(curves.epochs):
        per_seed = [spearman(errors[:, s, r], errors[:, s, last])[0] for s in range(seeds)]
        across = [spearman(errors[:, s, r], errors[:, t, last])[0] for s, t in pairs]
        rows.append({"epoch": r + 1, "mean": spearman_ci(mean[:, r], mean[:, last]),
                     "per_seed": per_seed, "across_seeds": float(np.mean(across)) if across else math.nan})
    ceiling = [spearman(errors[:, s, last], errors[:, t, last])[0] for s, t in pairs if s < t]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        matrix = np.atleast_2d(stats.spearmanr(mean).statistic) if curves.epochs > 1 else np.ones((1, 1))
    return {"rows": rows, "matrix": matrix,
            "ceiling": {"mean": float(np.mean(ceiling)) if ceiling else math.nan,
                        "min": min(ceiling, default=math.nan), "max": max(ceiling, default=math.nan),
                        "pairs": len(ceiling)}}


def rank_shifts(curves: Curves) -> np.ndarray:
    """(epochs, networks): percentile rank at epoch r minus at the last epoch, by mean error."""
    ranks = np.stack([percentile_ranks(curves.mean[:, r]) for r in range(curves.epochs)])
    return ranks - ranks[-1]


def depth_bias(curves: Curves, shifts: np.ndarray) -> dict:
    """Per epoch before the last: how the rank shift goes with depth and with parameters."""
    log_params = np.log10(curves.params)
    groups = buckets(curves.depth)
    rows = []
    for r in range(curves.epochs - 1):
        shift = shifts[r]
        constant = np.ptp(shift) == 0
        depth_fit = None if constant or np.ptp(curves.depth) == 0 else stats.linregress(curves.depth, shift)
        params_fit = None if constant or np.ptp(log_params) == 0 else stats.linregress(log_params, shift)
        rows.append({
            "epoch": r + 1,
            "depth": spearman_ci(shift, curves.depth),
            "params": spearman_ci(shift, curves.params),
            "depth_given_params": partial_spearman(shift, curves.depth, curves.params),
            "depth_fit": _fit(depth_fit), "params_fit": _fit(params_fit),
            "buckets": [mean_interval(shift[g]) for g in groups]})
    labels = [_span(curves.depth[g]) for g in groups]
    return {"rows": rows, "bucket_labels": labels, "bucket_sizes": [int(g.sum()) for g in groups]}


def _fit(fit) -> dict:
    if fit is None:
        return {"slope": math.nan, "intercept": math.nan, "p": math.nan}
    return {"slope": float(fit.slope), "intercept": float(fit.intercept), "p": float(fit.pvalue)}


def _span(values) -> str:
    low, high = int(values.min()), int(values.max())
    return f"{low}" if low == high else f"{low}–{high}"


def top_agreement(curves: Curves, fractions: Sequence[float] = TOP_FRACTIONS) -> dict:
    """Of the top fraction at the last epoch (by mean error, ties by key), the share in the top fraction
    at epoch r; chance is k / n. For scale, how far two seeds' own tops at the last epoch agree."""
    keys = np.asarray(curves.keys)
    best = lambda errors, k: set(np.lexsort((keys, errors))[:k])   # noqa: E731
    seeds, last = len(curves.seeds), curves.epochs - 1
    out = {}
    for fraction in fractions:
        k = max(1, round(fraction * curves.n))
        top = [best(curves.mean[:, r], k) for r in range(curves.epochs)]
        pairs = [len(best(curves.errors[:, s, last], k) & best(curves.errors[:, t, last], k)) / k
                 for s in range(seeds) for t in range(s + 1, seeds)]
        out[fraction] = {"k": k, "chance": k / curves.n,
                         "share": [len(top[r] & top[-1]) / k for r in range(curves.epochs)],
                         "seed_to_seed": float(np.mean(pairs)) if pairs else math.nan}
    return out


def panel_epochs(curves: Curves) -> list[int]:
    """The epochs the scatter figures show: the first, a quarter and half of the schedule, and the last
    epoch before the first learning-rate drop (without a drop: the one before the end)."""
    epochs = curves.epochs
    marks = {1, round(epochs / 4), round(epochs / 2), curves.lr_drops[0] - 1 if curves.lr_drops else epochs - 1}
    return sorted(r for r in marks if 1 <= r < epochs)


# --- the thesis's own networks (tables 3 and 6) -----------------------------------------------------

# CIFAR-10 test accuracy (%) after 5, 10, 20, 50, 100 epochs, one training per cell (thesis tables 3, 6).
THESIS_FIDELITIES = (5, 10, 20, 50, 100)
THESIS_NETWORKS = {   # name: (depth, in the thesis's search space, accuracies)
    "ResNet-56 w8": (56, True, (72.7, 77.6, 81.9, 85.2, 89.1)),
    "ResNet-56 w16": (56, True, (70.7, 79.5, 85.0, 87.1, 90.7)),
    "ResNet-56 w32": (56, True, (56.0, 78.0, 86.3, 88.8, 92.3)),
    "ResNet-56 w64": (56, False, (45.3, 63.8, 80.3, 87.5, 92.0)),
    "ResNet-14": (14, True, (75.9, 80.4, 82.4, 84.0, 87.9)),
    "ResNet-32": (32, True, (75.0, 80.9, 85.1, 86.1, 89.9)),
    "ResNet-110": (110, True, (49.3, 71.4, 83.5, 86.3, 91.1)),
    "ResNet-602": (602, False, (10.0, 10.0, 10.0, 76.4, 89.8)),
}


def thesis_numbers() -> dict:
    """The thesis's six in-space networks (its table 9) through this page's measures: rho of each
    fidelity with 100 epochs (reproduces table 9's last row) and rho of the rank shift with depth."""
    chosen = {name: v for name, v in THESIS_NETWORKS.items() if v[1]}
    depth = np.array([v[0] for v in chosen.values()], dtype=float)
    error = 100 - np.array([v[2] for v in chosen.values()], dtype=float)   # (networks, fidelities)
    ranks = np.stack([percentile_ranks(error[:, f]) for f in range(len(THESIS_FIDELITIES))])
    rows = []
    for f, epochs in enumerate(THESIS_FIDELITIES[:-1]):
        rows.append({"epochs": epochs, "fraction": epochs / THESIS_FIDELITIES[-1],
                     "rank_correlation": spearman_ci(error[:, f], error[:, -1]),
                     "shift_depth": spearman_ci(ranks[f] - ranks[-1], depth)})
    return {"networks": list(chosen), "rows": rows}


# --- everything -----------------------------------------------------------------------------------

@dataclass
class Analysis:
    curves: Curves
    fidelity: dict
    shifts: np.ndarray
    bias: dict
    top: dict
    thesis: dict
    panels: list


def analyse(table: Table) -> Analysis:
    curves = load_curves(table)
    shifts = rank_shifts(curves)
    return Analysis(curves=curves, fidelity=fidelity(curves), shifts=shifts, bias=depth_bias(curves, shifts),
                    top=top_agreement(curves), thesis=thesis_numbers(), panels=panel_epochs(curves))


def summary(a: Analysis) -> dict:
    """Every number of the page, JSON-ready: six significant digits, nan -> null."""
    c = a.curves
    return _clean({
        "table": {"name": c.name, "source": c.source, "complete": c.complete, "networks_built": c.built,
                  "networks_total": c.total, "networks_used": c.n, "left_out": c.left_out, "seeds": c.seeds,
                  "epochs": c.epochs, "lr_drops": c.lr_drops, **c.setting},
        "rank_correlation": {"rows": a.fidelity["rows"], "ceiling": a.fidelity["ceiling"],
                             "matrix": a.fidelity["matrix"].tolist()},
        "depth_bias": a.bias,
        "top_agreement": {f"{100 * f:g}%": v for f, v in a.top.items()},
        "thesis": a.thesis,
    })


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(f"{value:.6g}")   # p-values keep their exponent
    if isinstance(value, np.integer):
        return int(value)
    return value
