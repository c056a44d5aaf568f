"""The page of `era bench analyse` (analysis.md), analysis.json and the figures, in one folder. The page
says which table and how much of it, what an epoch-r cell is, the numbers of the four questions, and
what they mean next to the thesis's own; the sentences that judge are built from the numbers, with
p < 0.05 as the line, so they stay true for a partial table and a complete one."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..search.outputs import markdown_table
from .analysis import SIGNIFICANCE, THESIS_FIDELITIES, THESIS_NETWORKS, Analysis, summary
from .analysis_figures import write_figures

if TYPE_CHECKING:
    import os


def write_outputs(a: Analysis, out: str | os.PathLike) -> list[Path]:
    """analysis.md, analysis.json and the figures (PNG + SVG) in `out`; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = write_figures(a, out)
    (out / "analysis.json").write_text(json.dumps(summary(a), indent=1, ensure_ascii=False) + "\n")
    (out / "analysis.md").write_text(page(a))
    return [out / "analysis.md", out / "analysis.json", *written]


def page(a: Analysis) -> str:
    return "\n".join([*_header(a), *_summary(a), *_fidelity(a), *_bias(a), *_top(a), *_thesis(a), *_files()]) + "\n"


# --- numbers as text --------------------------------------------------------------------------------

def _f(value, digits: int = 2, sign: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _p(p) -> str:
    if p is None or not math.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _ci(d: dict, sign: bool = False) -> str:
    return f"{_f(d['rho'], sign=sign)} [{_f(d['low'], sign=sign)}, {_f(d['high'], sign=sign)}]"


def _seeds(values) -> str:
    """The mean of per-seed values and their range: '0.95 (0.93–0.97)'."""
    return f"{_f(float(np.mean(values)))} ({_f(min(values))}–{_f(max(values))})"


def _at(values) -> str:
    """'epoch 4' or 'epochs 1–3, 5'."""
    return ("epoch " if len(values) == 1 else "epochs ") + _epochs(values)


def _epochs(values) -> str:
    """[1, 2, 3, 5] -> '1–3, 5'."""
    runs, out = [], []
    for v in values:
        if runs and v == runs[-1][-1] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    for run in runs:
        out.append(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}")
    return ", ".join(out)


def _lr(a: Analysis, epoch: int) -> str:
    s = a.curves.setting
    if s.get("lr") is None:
        return "?"
    drops = sum(epoch >= d for d in a.curves.lr_drops)
    return f"{s['lr'] * (s.get('lr_gamma') or 1) ** drops:g}"


def _schedule(a: Analysis) -> str:
    c, s = a.curves, a.curves.setting
    text = f"{c.epochs} epochs on {s['dataset']}"
    if s.get("lr") is not None:
        text += f", batch {s.get('batch_size')}, lr {s['lr']:g}"
        for d in c.lr_drops:
            text += f", ×{s.get('lr_gamma'):g} from epoch {d}"
    if s.get("objective") not in ("train", None):
        text += f" (objective {s['objective']}, not a training)"
    return text


# --- sections ---------------------------------------------------------------------------------------

def _header(a: Analysis) -> list[str]:
    c = a.curves
    if c.complete:
        state = f"**complete**: all {c.total:,} unique networks of the space"
    else:
        state = (f"**PARTIAL**: {c.built:,} of the space's {c.total:,} unique networks. A build trains networks in "
                 f"a shuffled order, so they are a uniform random sample of the space; every number below is "
                 f"about that sample and will move when the table is complete")
    left = "; ".join(f"{n:,} left out: {reason}" for reason, n in c.left_out.items()) or "none left out"
    return [
        f"# Short training and deep networks: table `{c.name}`",
        "",
        "Written by `era bench analyse`. Every number on this page comes from one table file:",
        "",
        "| | |",
        "|---|---|",
        f"| table | `{c.name}`: `{c.source}` |",
        f"| networks | {state} |",
        f"| used | {c.n:,} networks with every seed's full curve ({left}) |",
        f"| seeds | {len(c.seeds)} trainings per network (training seeds {', '.join(map(str, c.seeds))}); "
        f"\"mean\" is the mean validation error over them |",
        f"| curves | validation error after every epoch of one schedule: {_schedule(a)} |",
        "",
        f"**What an epoch-r cell is.** The network after r epochs of that one {c.epochs}-epoch schedule, read off "
        f"its recorded curve" + (f", with the learning-rate drop at epoch {c.lr_drops[0]} still ahead for r < "
                                 f"{c.lr_drops[0]}" if c.lr_drops else "") +
        ". That is how NAS-Bench-201 users read early epochs; it is *not* a network trained for r epochs with "
        "a schedule of its own, as `era rankcorr` trains each fidelity (docs/rankcorr.md). \"The end\" is epoch "
        f"{c.epochs} of this schedule, not a converged network: the table says how the ranking moves within "
        "its schedule, not whether the schedule itself favours some networks over a longer training.",
        "",
    ]


def _summary(a: Analysis) -> list[str]:
    rows, ceiling = a.fidelity["rows"], a.fidelity["ceiling"]
    rho = ", ".join(f"epoch {r}: {_f(rows[r - 1]['mean']['rho'])}" for r in a.panels)
    top = a.top[min(a.top)]
    shares = ", ".join(f"epoch {r}: {100 * top['share'][r - 1]:.0f}%" for r in a.panels)
    return [
        "## In short",
        "",
        f"- Rank correlation of the mean error with the last epoch's: {rho} (Spearman; the seed-to-seed "
        f"correlation at the last epoch, the ceiling for predicting another training, is {_f(ceiling['mean'])}).",
        f"- Depth: {_verdict(a, 'depth')}",
        f"- Parameters: {_verdict(a, 'params')}",
        f"- Of the last epoch's top {100 * min(a.top):g}% ({top['k']} networks), "
        f"already in the top {100 * min(a.top):g}% "
        f"at {shares} (chance {100 * top['chance']:.0f}%).",
        "",
    ]


def _verdict(a: Analysis, key: str) -> str:
    """Which epochs rank deeper (larger) networks worse early than at the end, which better, which neither."""
    rows = a.bias["rows"]
    noun = "deeper networks" if key == "depth" else "networks with more parameters"
    worse = [r for r in rows if r[key]["p"] < SIGNIFICANCE and r[key]["rho"] > 0]
    better = [r for r in rows if r[key]["p"] < SIGNIFICANCE and r[key]["rho"] < 0]
    neither = [r for r in rows if r not in worse and r not in better]
    parts = []
    if worse:
        parts.append(f"{noun} rank worse than they finish at {_at([r['epoch'] for r in worse])} "
                     f"(ρ of rank shift with {key} {_range([r[key]['rho'] for r in worse])}): short training "
                     f"is biased against them there")
    if better:
        parts.append(f"{noun} rank better than they finish at {_at([r['epoch'] for r in better])} "
                     f"(ρ {_range([r[key]['rho'] for r in better])}): biased in their favour there")
    if neither:
        parts.append(f"no relation at p < {SIGNIFICANCE} at {_at([r['epoch'] for r in neither])}")
    text = "; ".join(parts) + "."
    if key == "depth":
        given = [r for r in rows if r["depth_given_params"]["p"] < SIGNIFICANCE]
        text += (f" With parameters held fixed, depth still relates to the shift at "
                 f"{_at([r['epoch'] for r in given])}." if given else
                 f" With parameters held fixed, depth relates to the shift at no epoch (p < {SIGNIFICANCE}).")
    return text


def _range(values) -> str:
    low, high = min(values), max(values)
    return _f(low, sign=True) if math.isclose(low, high) else f"{_f(low, sign=True)} to {_f(high, sign=True)}"


def _fidelity(a: Analysis) -> list[str]:
    c, rows, ceiling = a.curves, a.fidelity["rows"], a.fidelity["ceiling"]
    lines = [
        "## 1. Does epoch r rank the networks as the last epoch does?",
        "",
        f"Spearman's ρ between the networks' errors at epoch r and at epoch {c.epochs}. *Mean*: of the mean "
        "over seeds, with a 95% interval (Fisher z, Bonett–Wright variance). *One seed*: each seed's curve at r "
        "against the same training's end (mean, and lowest–highest over seeds). *Across seeds*: seed s at r "
        "against another seed t at the end, the mean over ordered pairs: how well r epochs of one training "
        "predict another, independent training; at the last epoch it equals the ceiling. The mean and one-seed "
        "columns compare a training with its own end, whose noise they share, so near the end they can pass "
        "the ceiling.",
        "",
        *_table(["epoch", "lr", "mean: ρ [95% CI]", "one seed: ρ (lowest–highest)", "across seeds: ρ"],
                [[row["epoch"], _lr(a, row["epoch"]), _ci(row["mean"]), _seeds(row["per_seed"]),
                  _f(row["across_seeds"])] for row in rows], "rrllr"),
        "",
        f"**Ceiling**: two seeds of the same network at epoch {c.epochs} agree with ρ = {_f(ceiling['mean'])} "
        f"(lowest {_f(ceiling['min'])}, highest {_f(ceiling['max'])} "
        f"over {ceiling['pairs']} pairs of seeds): about the "
        "best that the ranking of one training can predict the ranking of another, so the across-seeds column "
        "is read against it.",
        "",
        *_figure("Rank correlation with the last epoch", "rank_correlation.png"),
        "Every pair of epochs, as the thesis's tables 4, 7 and 9 (there between separately trained fidelities):",
        "",
        *_figure("Rank correlation between every two epochs", "epoch_matrix.png"),
    ]
    return lines


def _bias(a: Analysis) -> list[str]:
    c, bias = a.curves, a.bias
    lines = [
        "## 2. Is short training biased against deep networks?",
        "",
        "Each network's **rank shift** at epoch r is its percentile rank by mean error at r minus its percentile "
        f"rank at epoch {c.epochs} (0 = best, 100 = worst; ties share a rank). A shift > 0: the network is ranked "
        "worse early than it finishes, so a search that stopped at r would undervalue it. If short training is "
        "biased against depth, the shift grows with depth: Spearman's ρ(shift, depth) > 0. Depth counts weighted "
        "layers (stem, head, 2 per basic block, 3 per bottleneck block). Deeper networks also tend to have more "
        "parameters, so the last column holds parameters fixed (partial Spearman). The slope is the "
        "least-squares line of the shift on depth, in percentile points per layer.",
        "",
        *_table(["epoch", "ρ(shift, depth) [95% CI]", "p", "slope / layer", "ρ(shift, params) [95% CI]", "p",
                 "ρ(shift, depth | params)", "p"],
                [[row["epoch"], _ci(row["depth"], True), _p(row["depth"]["p"]),
                  _f(row["depth_fit"]["slope"], 2, True), _ci(row["params"], True), _p(row["params"]["p"]),
                  _f(row["depth_given_params"]["rho"], 2, True), _p(row["depth_given_params"]["p"])]
                 for row in bias["rows"]], "rlrrlrrr"),
    ]
    lines += [
        "",
        f"The p-values are per epoch, not corrected for testing {len(bias['rows'])} epochs: with Bonferroni, "
        f"p < {SIGNIFICANCE / len(bias['rows']):.4f} is the line for any one of them.",
        "",
        "Mean rank shift (percentile points) per depth bucket, buckets of about equal size, at every epoch r "
        "before the last:",
        "",
        *_table(["depth", "networks", *(row["epoch"] for row in bias["rows"])],
                [[label, f"{size:,}", *(_f(row["buckets"][b]["mean"], 1, True) for row in bias["rows"])]
                 for b, (label, size) in enumerate(zip(bias["bucket_labels"], bias["bucket_sizes"]))]),
    ]
    lines += [
        "",
        f"**Reading.** Depth: {_verdict(a, 'depth')} Parameters: {_verdict(a, 'params')}",
        "",
        f"Rank shift against depth at epochs {', '.join(map(str, a.panels))} (grey: networks, jittered "
        "sideways; squares: bucket means with 95% intervals; black: least squares):",
        "",
        *_figure("Rank shift against depth", "shift_depth.png"),
        *_figure("Rank shift against parameters", "shift_params.png"),
        *_figure("Correlation of the rank shift with depth and parameters at every epoch", "depth_bias.png"),
    ]
    return lines


def _table(header, rows, align: str | None = None) -> list[str]:
    """search/outputs.py's Markdown table, as lines of the page."""
    return markdown_table(header, rows, align).splitlines()


def _figure(alt: str, file: str) -> list[str]:
    """A figure's markdown lines: the image and a blank line."""
    return [f"![{alt}]({file})", ""]


def _top(a: Analysis) -> list[str]:
    fractions = sorted(a.top)
    lines = [
        "## 3. Are the best networks already on top?",
        "",
        f"Of the top networks at epoch {a.curves.epochs} by mean error (ties broken by key), the share that is in "
        "the top of the same size at epoch r. Chance (a ranking at random) is the top's own share; for scale, "
        f"the last row says how far the tops of two independent trainings (two seeds) agree at epoch "
        f"{a.curves.epochs}; the rows above compare the mean of the same trainings with its own end, whose noise "
        "they share. A small top moves in steps of 1 / k.",
        "",
        *_table(["epoch", *(f"top {100 * f:g}% ({a.top[f]['k']} networks)" for f in fractions)],
                [*([r + 1, *(f"{100 * a.top[f]['share'][r]:.0f}%" for f in fractions)]
                   for r in range(a.curves.epochs)),
                 ["chance", *(f"{100 * a.top[f]['chance']:.0f}%" for f in fractions)],
                 [f"seed vs seed at {a.curves.epochs}",
                  *(_share(a.top[f]["seed_to_seed"]) for f in fractions)]],
                "r" * (1 + len(fractions))),
        "",
        "![Top-k agreement](top_agreement.png)",
        "",
    ]
    return lines


def _thesis(a: Analysis) -> list[str]:
    c, rows, bias = a.curves, a.fidelity["rows"], {r["epoch"]: r for r in a.bias["rows"]}
    thesis = a.thesis
    depths = [v[0] for v in THESIS_NETWORKS.values() if v[1]]
    lines = [
        "## 4. The thesis's numbers and this table",
        "",
        "**What the thesis found** (§4.2, tables 3–9; §5.2, §5.4). Two families of He et al.'s CIFAR ResNets "
        "(ResNet-56 at widths 8, 16, 32, 64; ResNet-14, 32, 56, 110, 602 at width 16), one training each, CIFAR-10 "
        f"test accuracy after {', '.join(map(str, THESIS_FIDELITIES))} epochs. Over the six networks inside its "
        "search space (table 9), 20 epochs correlate with 100 at ρ = 0.71 and 5 or 10 epochs negatively; in the "
        "depth family the shallow networks lead early and ResNet-110 leads only at 100 epochs (table 6; "
        "ρ(20, 100) = 0.2 over its four in-space networks, table 8). It concluded that 20 epochs \"correlate quite "
        "well with final performance\", but that \"short training gives a disadvantage to deeper networks that "
        "might prohibit us from finding even better architectures\" (§5.4).",
        "",
        f"The thesis's six in-space networks (depths {', '.join(map(str, sorted(depths)))}) through this page's "
        f"measures, next to the epoch of this table's schedule at the nearest fraction (the thesis's p-values "
        f"are scipy's t approximation, rough for six networks with tied depths):",
        "",
    ]
    body = []
    for row in thesis["rows"]:
        r = min(c.epochs - 1, max(1, round(row["fraction"] * c.epochs)))
        here = bias.get(r)
        mine = (f"{_f(here['depth']['rho'], sign=True)}, {_p(here['depth']['p'])}" if here else "n/a")
        body.append([f"{row['epochs']} of {THESIS_FIDELITIES[-1]} epochs ({100 * row['fraction']:.0f}%)",
                     _ci(row["rank_correlation"]),
                     f"{_f(row['shift_depth']['rho'], sign=True)}, {_p(row['shift_depth']['p'])}",
                     f"{r} ({100 * r / c.epochs:.0f}%)", _ci(rows[r - 1]["mean"]), mine])
    lines += _table(["thesis fidelity", "thesis: ρ with 100 epochs [95% CI], 6 networks",
                     "thesis: ρ(shift, depth), p", f"here: epoch (of {c.epochs})",
                     f"here: ρ with epoch {c.epochs} [95% CI], {c.n:,} networks", "here: ρ(shift, depth), p"],
                    body, "llllll")
    twenty = next(row for row in thesis["rows"] if row["epochs"] == 20)["rank_correlation"]
    near = min(c.epochs - 1, max(1, round(0.2 * c.epochs)))
    lines += [
        "",
        "**How the settings differ.**",
        "",
        f"- *Which networks.* The thesis: eight networks picked by hand along two axes (six inside its space), "
        f"depth 14 to 602. "
        f"Here: {c.n:,} networks, " + ("every network of the space" if c.complete else "a uniform random sample of "
                                       "the space") +
        f", depth {int(c.depth.min())} to {int(c.depth.max())}, {_count(c.params.min())} to "
        f"{_count(c.params.max())} parameters. With six networks a ρ of 0.71 has a 95% interval of "
        f"{_f(twenty['low'])} to {_f(twenty['high'])}; in the depth family the thesis's evidence is where one "
        "network, ResNet-110, ranks (third of its four in-space depths at 20 epochs, first at 100).",
        f"- *What a fidelity is.* The thesis does not say whether its 5..50-epoch cells were separate trainings "
        f"or points of the 100-epoch runs. Here every cell is a point of one {c.epochs}-epoch schedule" +
        (f" and cells before epoch {c.lr_drops[0]} precede its learning-rate drop, so they are likely noisier than "
         f"a short training annealed to its own end would be (`era rankcorr` measures that)" if c.lr_drops else "")
        + ".",
        f"- *Data and noise.* The thesis: CIFAR-10 (50,000 training images), test accuracy, one training per cell. "
        f"Here: {c.setting['dataset']}, validation error, the mean of {len(c.seeds)} seeds, with the seed-to-seed "
        f"ceiling measured ({_f(a.fidelity['ceiling']['mean'])}).",
        f"- *The end.* The thesis's end is 100 epochs; here epoch {c.epochs}. Whether the thesis's own 20-epoch "
        f"measurement underrates deep networks against a longer training is a question about training beyond "
        f"the schedule, which this table cannot answer; it answers the same question one level down, inside its "
        f"schedule, on the whole space.",
        "",
        f"**What this table says.** At epoch {near} ({100 * near / c.epochs:.0f}% of its schedule, the thesis's "
        f"20 of 100 epochs) the ranking correlates with the end at ρ = {_ci(rows[near - 1]['mean'])} over "
        f"{c.n:,} networks, against the thesis's {_ci(twenty)} over six. Depth: {_verdict(a, 'depth')}",
        "",
    ]
    return lines


def _share(value) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def _count(n: float) -> str:
    return f"{n / 1e6:.1f} M" if n >= 1e6 else f"{n / 1e3:.1f} k" if n >= 1e3 else f"{int(n)}"


def _files() -> list[str]:
    return [
        "## Files",
        "",
        "`analysis.md` (this page), `analysis.json` (every number on it, to six significant digits), "
        "and as PNG and SVG: "
        "`rank_correlation`, `epoch_matrix`, `shift_depth`, `shift_params`, `depth_bias`, `top_agreement`. "
        "docs/bench_analysis.md explains each.",
    ]
