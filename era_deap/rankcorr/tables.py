"""The rank-correlation study's outputs (thesis §4.2): accuracy tables, Spearman matrices, heatmaps.

    accuracy_width / accuracy_depth          thesis tables 3 and 6: accuracy %, rows epochs, columns networks
    spearman_width / spearman_depth          tables 4 and 7: Spearman's rho between fidelities, all networks
    spearman_width_in_space / _depth_in_space  tables 5 and 8: only networks of the search space
    spearman_in_space                        table 9: both families together, search-space networks only

Each as CSV (exact numbers) and in rankcorr.md (thesis rounding); each matrix also as an annotated
heatmap (PNG + SVG). rho between fidelities i and j is scipy.stats.spearmanr over the networks'
accuracies at i and at j. Only networks with a result at every fidelity enter a matrix (the others are
named in a note); a fidelity at which every network scores the same ranks nothing, so its rho is nan.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from ..search.outputs import MISSING, markdown_table, save_figure, write_csv
from ..space.families import Network
from .study import WIDTH_LEGEND

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..space.space import SearchSpace
    from .study import RankcorrConfig

TITLES = {
    "accuracy_width": "Table 3: accuracy (%) of the width family",
    "spearman_width": "Table 4: rank correlation of the width family (table 3)",
    "spearman_width_in_space": "Table 5: rank correlation of the width family, search-space networks only",
    "accuracy_depth": "Table 6: accuracy (%) of the depth family",
    "spearman_depth": "Table 7: rank correlation of the depth family (table 6)",
    "spearman_depth_in_space": "Table 8: rank correlation of the depth family, search-space networks only",
    "spearman_in_space": "Table 9: rank correlation of both families, search-space networks only",
}
OUTPUTS = ({f"{stem}.csv" for stem in TITLES} | {f"{s}.{e}" for s in TITLES if s.startswith("spearman")
                                                 for e in ("png", "svg")} | {"networks.csv", "rankcorr.md"})


def accuracy_matrix(networks: Sequence[Network], fidelities: Sequence[int], results: dict) -> np.ndarray:
    """[fidelity, network] accuracy in %, nan where there is no successful training (yet)."""
    def accuracy(network, epochs):
        result = results.get((network.slug, epochs))
        return np.nan if result is None or result.get("accuracy") is None else result["accuracy"]
    return np.array([[accuracy(n, e) for n in networks] for e in fidelities], dtype=float).reshape(
        len(fidelities), len(networks))


def spearman_matrix(accuracy: np.ndarray) -> np.ndarray | None:
    """Spearman's rho between every two fidelities (rows of `accuracy`) over the networks (columns)
    that have every fidelity; None with fewer than two such networks."""
    complete = accuracy[:, ~np.isnan(accuracy).any(axis=0)]
    if complete.shape[1] < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a fidelity where all tie: nan (and a note), not a warning
        rho = stats.spearmanr(complete, axis=1).statistic
    if complete.shape[0] <= 2:   # spearmanr answers a scalar for two variables
        rho = np.array([[1.0, rho], [rho, 1.0]])[:complete.shape[0], :complete.shape[0]]
    return np.asarray(rho, dtype=float)


# --- tables ---------------------------------------------------------------------------------------

def _fmt(value: float, digits: int) -> str:
    return MISSING if np.isnan(value) else f"{value:.{digits}f}"


def accuracy_section(stem: str, networks: Sequence[Network], fidelities: Sequence[int], accuracy: np.ndarray,
                     error_kind: str) -> tuple[list, str]:
    rows = [{"epochs": e, **{n.name: ("" if np.isnan(a) else a) for n, a in zip(networks, accuracy[i])}}
            for i, e in enumerate(fidelities)]
    md = markdown_table(["Epochs", *(n.name for n in networks)],
                        [[e, *(_fmt(a, 1) for a in accuracy[i])] for i, e in enumerate(fidelities)])
    return rows, f"### {TITLES[stem]}\n\nAccuracy (100 − error) on {error_kind} data; {WIDTH_LEGEND}.\n\n{md}"


def spearman_section(stem: str, networks: Sequence[Network], fidelities: Sequence[int],
                     accuracy: np.ndarray) -> tuple[list | None, str, np.ndarray | None]:
    rho = spearman_matrix(accuracy)
    complete = [n for n, col in zip(networks, accuracy.T) if not np.isnan(col).any()]
    left_out = [n.name for n in networks if n not in complete]
    notes = [f"Networks: {', '.join(n.name for n in complete) or 'none'}."]
    if left_out:
        notes.append(f"Left out (no result at every fidelity yet, or a failed training): {', '.join(left_out)}.")
    if rho is None:
        return None, f"### {TITLES[stem]}\n\nNeeds two networks with every fidelity.\n\n" + \
            " ".join(notes) + "\n", None
    if np.isnan(rho).any():
        notes.append("nan: at that fidelity every network has the same accuracy, so it ranks nothing.")
    rows = [{"epochs": e, **{str(f): ("" if np.isnan(r) else r) for f, r in zip(fidelities, rho[i])}}
            for i, e in enumerate(fidelities)]
    md = markdown_table(["Epochs", *map(str, fidelities)],
                        [[e, *(_fmt(r, 2) for r in rho[i])] for i, e in enumerate(fidelities)])
    return rows, f"### {TITLES[stem]}\n\n{md}\n{' '.join(notes)}\n\n![{stem}]({stem}.png)\n", rho


def heatmap(rho: np.ndarray, fidelities: Sequence[int], title: str) -> Figure:
    size = 1.6 + 0.7 * len(fidelities)
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.add_subplot()
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#dddddd")   # nan cells grey
    image = ax.imshow(np.ma.masked_invalid(rho), cmap=cmap, vmin=-1, vmax=1)
    labels = [str(e) for e in fidelities]
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("epochs")
    ax.set_ylabel("epochs")
    for i in range(len(labels)):
        for j in range(len(labels)):
            value = rho[i, j]
            ax.text(j, i, "nan" if np.isnan(value) else f"{value:.2f}", ha="center", va="center",
                    fontsize=9, color="white" if abs(np.nan_to_num(value)) > 0.6 else "black")
    ax.set_title(title, fontsize=9, wrap=True)
    fig.colorbar(image, ax=ax, label="Spearman's rho", shrink=0.8)
    fig.tight_layout()
    return fig


# --- everything -----------------------------------------------------------------------------------

def write_outputs(config: RankcorrConfig, space: SearchSpace, results: dict, out: Path) -> list[Path]:
    """Write every table, matrix and heatmap that the results allow, and rankcorr.md; returns the paths."""
    from .study import network_rows
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fidelities = config.fidelities
    families = config.families()
    info = network_rows(config, space)
    in_space = {Network(r["depth"], r["width"]) for r in info if r["in_space"]}
    error_kind = next((r["error_kind"] for r in results.values() if r.get("error_kind")), "validation")
    sections, written = [], []

    def add_spearman(stem, networks):
        acc = accuracy_matrix(networks, fidelities, results)
        rows, text, rho = spearman_section(stem, networks, fidelities, acc)
        sections.append(text)
        if rows is not None:
            written.append(write_csv(out / f"{stem}.csv", ["epochs", *map(str, fidelities)], rows))
            written.extend(save_figure(heatmap(rho, fidelities, TITLES[stem]), out, stem))

    for family in ("width", "depth"):
        networks = families[family]
        if not networks:
            continue
        acc = accuracy_matrix(networks, fidelities, results)
        rows, text = accuracy_section(f"accuracy_{family}", networks, fidelities, acc, error_kind)
        sections.append(text)
        columns = ["epochs", *(n.name for n in networks)]
        written.append(write_csv(out / f"accuracy_{family}.csv", columns, rows))
        add_spearman(f"spearman_{family}", networks)
        add_spearman(f"spearman_{family}_in_space", [n for n in networks if n in in_space])
    add_spearman("spearman_in_space", [n for n in config.networks() if n in in_space])

    written.append(_write_networks(out, info, results, fidelities))
    written.append(out / "rankcorr.md")
    (out / "rankcorr.md").write_text(_page(config, info, results, sections, error_kind), encoding="utf-8")
    names = {p.name for p in written}
    for name in OUTPUTS - names:   # outputs of ours this run no longer produces
        (out / name).unlink(missing_ok=True)
    return written


def _write_networks(out, info, results, fidelities) -> Path:
    rows = []
    for r in info:
        slug = Network(r["depth"], r["width"]).slug
        done = [results.get((slug, e)) for e in fidelities]
        rows.append({"network": r["network"], "depth": r["depth"], "width": r["width"],
                     "filters": Network(r["depth"], r["width"]).filters,   # the gene (WIDTH_LEGEND)
                     "families": " ".join(r["families"]), "in_space": int(r["in_space"]), "key": r["key"] or "",
                     "why_outside": "; ".join(r["why_outside"]),
                     "params": next((d["params"] for d in done if d and d.get("params")), ""),
                     "trained": sum(d is not None for d in done),
                     "failed": " ".join(f"{e}:{d['status']}" for e, d in zip(fidelities, done)
                                        if d is not None and d["status"] != "ok"),
                     "seconds": round(sum(d["seconds"] for d in done if d), 1)})
    return write_csv(out / "networks.csv", list(rows[0]) if rows else ["network"], rows)


def _page(config, info, results, sections, error_kind) -> str:
    expected = len(info) * len(config.fidelities)
    lines = [
        "# Rank correlation between training fidelities (thesis §4.2)", "",
        f"Config `{config.source}`: dataset {config.dataset.name}, fidelities "
        f"{', '.join(map(str, config.fidelities))} epochs, accuracy on {error_kind} data, search space "
        f"`{config.space or 'built-in default (configs/space.yaml)'}`. {len(results)} of {expected} trainings done.",
        "",
        "Each fidelity is its own training from scratch: the `training` schedule with `epochs` set to the "
        f"fidelity and its learning-rate drops at the same fractions ({config.training.lr_milestones}) of it "
        "(docs/rankcorr.md says why).", "",
        "## Networks", "",
        f"Names are ResNet-<depth> w<W>; {WIDTH_LEGEND}.", "",
        markdown_table(["Network", "Families", "Genome in the space", "Outside the space because"],
                       [[r["network"], ", ".join(r["families"]), r["key"] or "—", "; ".join(r["why_outside"]) or "—"]
                        for r in info]),
        "## Tables", "", *sections]
    return "\n".join(lines)
