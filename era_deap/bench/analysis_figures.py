"""The figures of `era bench analyse` (analysis.py), with matplotlib's object API (`Figure`, no pyplot).
Epochs at a lowered learning rate are shaded grey in every figure over epochs: an epoch-r cell is a
point on one schedule's curve, and the drop changes the ranking most."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..search.outputs import save_figure
from .analysis import buckets, mean_interval

if TYPE_CHECKING:
    from .analysis import Analysis

MEAN, SEED, ACROSS, CEILING = "#1f77b4", "#9ecae1", "#ff7f0e", "#555555"
DEPTH, PARAMS, PARTIAL = "#d62728", "#2ca02c", "#9467bd"
BAND_ALPHA = 0.18


def write_figures(a: Analysis, out: Path) -> list[Path]:
    figures = {"rank_correlation": correlation_figure(a), "epoch_matrix": matrix_figure(a),
               "shift_depth": shift_figure(a, "depth"), "shift_params": shift_figure(a, "params"),
               "depth_bias": bias_figure(a), "top_agreement": top_figure(a)}
    return [path for stem, fig in figures.items() for path in save_figure(fig, out, stem)]


def _title(a) -> str:
    c = a.curves
    state = "complete" if c.complete else f"partial: {c.built:,} of {c.total:,} networks"
    return f"table {c.name} ({state}; {c.n:,} networks used, {len(c.seeds)} seeds, {c.epochs} epochs)"


def _schedule(ax, a) -> None:
    """Grey behind the epochs at a lowered learning rate; integer epoch ticks."""
    c = a.curves
    if c.lr_drops:
        ax.axvspan(c.lr_drops[0] - 0.5, c.epochs + 0.5, color="0.9", zorder=0, linewidth=0)
        ax.text(c.lr_drops[0] - 0.4, 0.98, "lr lowered", transform=ax.get_xaxis_transform(), fontsize=8,
                color="0.35", va="top")
    ax.set_xlim(0.5, c.epochs + 0.5)
    ax.set_xticks(range(1, c.epochs + 1))
    ax.set_xlabel(f"epoch r of the {c.epochs}-epoch schedule")
    ax.grid(alpha=0.3)


def correlation_figure(a: Analysis) -> Figure:
    c, rows = a.curves, a.fidelity["rows"]
    epochs = np.arange(1, c.epochs + 1)
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    _schedule(ax, a)
    per_seed = np.array([r["per_seed"] for r in rows])
    for s in range(per_seed.shape[1]):
        ax.plot(epochs, per_seed[:, s], color=SEED, linewidth=1,
                label="one seed: its own curve at r vs at the end" if s == 0 else None)
    ax.plot(epochs, [r["across_seeds"] for r in rows], color=ACROSS, linestyle="--", marker=".",
            label="across seeds: seed s at r vs another seed at the end")
    mean = np.array([[r["mean"]["rho"], r["mean"]["low"], r["mean"]["high"]] for r in rows])
    ax.fill_between(epochs, mean[:, 1], mean[:, 2], color=MEAN, alpha=BAND_ALPHA, linewidth=0)
    ax.plot(epochs, mean[:, 0], color=MEAN, marker="o", linewidth=2, label="mean over seeds (95% CI)")
    ceiling = a.fidelity["ceiling"]
    if np.isfinite(ceiling["mean"]):
        ax.axhline(ceiling["mean"], color=CEILING, linestyle=":", linewidth=1.2,
                   label=f"ceiling: seed vs seed at the end ({ceiling['mean']:.2f})")
    ax.set_ylabel("Spearman's ρ with the last epoch")
    ax.set_ylim(min(0, np.nanmin(per_seed), np.nanmin(mean[:, 1])) - 0.05, 1.02)
    ax.legend(fontsize=8, loc="lower right", framealpha=0.9)
    fig.suptitle("Does epoch r rank the networks as the last epoch does?\n" + _title(a), fontsize=10)
    return fig


def matrix_figure(a: Analysis) -> Figure:
    matrix, epochs = a.fidelity["matrix"], a.curves.epochs
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="0.8")   # undefined cells grey
    image = ax.imshow(np.ma.masked_invalid(matrix), vmin=-1, vmax=1, cmap=cmap)
    ax.set_xticks(range(epochs), range(1, epochs + 1))
    ax.set_yticks(range(epochs), range(1, epochs + 1))
    if epochs <= 20:
        for i in range(epochs):
            for j in range(epochs):
                if np.isfinite(matrix[i, j]):
                    ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=6,
                            color="white" if abs(matrix[i, j]) > 0.6 else "black")
    ax.set_xlabel("epoch")
    ax.set_ylabel("epoch")
    fig.colorbar(image, ax=ax, label="Spearman's ρ of the mean errors")
    fig.suptitle("Rank correlation between every two epochs (as the thesis's tables 4, 7, 9)\n" + _title(a),
                 fontsize=9)
    return fig


def shift_figure(a: Analysis, against: str) -> Figure:
    """Rank shift of every network against depth (or parameters) at the panel epochs: points, the mean
    per bucket with its 95% interval, and the least-squares line."""
    c, rows = a.curves, {row["epoch"]: row for row in a.bias["rows"]}
    # Parameters span three decades: buckets and the line are taken on log10, drawn on a log axis.
    x = c.depth if against == "depth" else np.log10(c.params)
    shown = (lambda v: v) if against == "depth" else (lambda v: 10 ** v)   # noqa: E731
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, c.n) if against == "depth" else 0
    groups = buckets(x, 4 if against == "depth" else 6)
    panels = a.panels
    cols = min(2, len(panels))
    fig = Figure(figsize=(5.2 * cols, 3.9 * ((len(panels) + cols - 1) // cols)), layout="constrained")
    axes = np.atleast_1d(fig.subplots((len(panels) + cols - 1) // cols, cols, sharey=True, squeeze=False)).ravel()
    for ax, r in zip(axes, panels):
        shift, row = a.shifts[r - 1], rows[r]
        ax.scatter(shown(x + jitter), shift, s=5, alpha=0.25, color="0.4", linewidth=0, rasterized=True)
        centres = [x[g].mean() for g in groups]
        means = [mean_interval(shift[g]) for g in groups]
        ax.errorbar(shown(np.array(centres)), [m["mean"] for m in means], yerr=[[m["mean"] - m["low"] for m in means],
                                                               [m["high"] - m["mean"] for m in means]],
                    color=DEPTH if against == "depth" else PARAMS, marker="s", linewidth=1.5, capsize=3,
                    label="mean per bucket (95% CI)")
        fit = row["depth_fit"] if against == "depth" else row["params_fit"]
        if np.isfinite(fit["slope"]):
            line = np.linspace(x.min(), x.max(), 50)
            ax.plot(shown(line), fit["intercept"] + fit["slope"] * line, color="black", linewidth=1,
                    label="least squares")
        ax.axhline(0, color="0.5", linewidth=0.8)
        rho = row[against]
        ax.set_title(f"epoch {r}: Spearman ρ = {rho['rho']:+.2f} (p {_p(rho['p'])})", fontsize=9)
        ax.grid(alpha=0.3)
        if against == "depth":
            ax.set_xlabel("depth (weighted layers)")
        else:
            ax.set_xscale("log")
            ax.set_xlabel("parameters")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel("rank shift (percentile points)\n> 0: ranked worse at r than at the end")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Rank shift against {'depth' if against == 'depth' else 'parameters'}: percentile rank at "
                 f"epoch r minus at the last epoch\n" + _title(a), fontsize=10)
    return fig


def bias_figure(a: Analysis) -> Figure:
    rows = a.bias["rows"]
    epochs = np.array([r["epoch"] for r in rows])
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    _schedule(ax, a)
    for key, colour, label in (("depth", DEPTH, "depth"), ("params", PARAMS, "parameters")):
        values = np.array([[r[key]["rho"], r[key]["low"], r[key]["high"], r[key]["p"]] for r in rows])
        ax.fill_between(epochs, values[:, 1], values[:, 2], color=colour, alpha=BAND_ALPHA, linewidth=0)
        ax.plot(epochs, values[:, 0], color=colour, linewidth=1.8, label=f"ρ(rank shift, {label}) (95% CI)")
        significant = values[:, 3] < 0.05
        ax.scatter(epochs[significant], values[significant, 0], color=colour, zorder=3, s=25)
        ax.scatter(epochs[~significant], values[~significant, 0], facecolor="white", edgecolor=colour, zorder=3,
                   s=25)
    partial = [r["depth_given_params"]["rho"] for r in rows]
    ax.plot(epochs, partial, color=PARTIAL, linestyle="--", marker=".", label="ρ(rank shift, depth | parameters)")
    ax.axhline(0, color="0.4", linewidth=0.8)
    ax.set_xlim(0.5, a.curves.epochs - 0.5)
    ax.set_ylabel("Spearman's ρ   (> 0: short training ranks them worse)")
    ax.legend(fontsize=8, loc="best", title="filled: p < 0.05", title_fontsize=8)
    fig.suptitle("Is epoch r biased against deep (or large) networks?\n" + _title(a), fontsize=10)
    return fig


def top_figure(a: Analysis) -> Figure:
    epochs = np.arange(1, a.curves.epochs + 1)
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    _schedule(ax, a)
    for (fraction, top), colour in zip(sorted(a.top.items()), (DEPTH, MEAN, PARAMS, PARTIAL)):
        ax.plot(epochs, np.array(top["share"]) * 100, color=colour, marker="o",
                label=f"top {100 * fraction:g}% ({top['k']} networks)")
        ax.axhline(top["chance"] * 100, color=colour, linestyle=":", linewidth=1)
        if np.isfinite(top["seed_to_seed"]):
            ax.axhline(top["seed_to_seed"] * 100, color=colour, linestyle="--", linewidth=1)
    ax.set_ylim(0, 102)
    ax.set_ylabel("share of the last epoch's top already in the top at r (%)")
    ax.legend(fontsize=8, loc="upper left", title="dotted: chance; dashed: two seeds' tops at the end agree",
              title_fontsize=8)
    fig.suptitle("Are the best networks already on top at epoch r?\n" + _title(a), fontsize=10)
    return fig


def _p(p: float) -> str:
    if not np.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"
