"""`era bench verify`: retrain a sample of a table's networks live and compare with the table.

Two retrainings per sampled network, with the table's own evaluator config, split and seeds:
- grouped, as the build trained them (the S seeds as one grouped network): on CPU, training is
  deterministic, so this reproduces the table's numbers exactly unless the table or the machine
  changed (a check of the table's integrity);
- one seed at a time, as a live search trains a network (`train(arch, seed)`): the same networks and
  data streams, but float32 sums in another order, which training amplifies. How far these land from
  the table, next to how far two seeds land from each other, says how much a search on the table
  can trust it.
Both retrainings run here, on the same machine: their paired difference per (network, seed) says
whether the two ways of training give the same error distribution (is the table the landscape a live
search sees?), whatever this machine's arithmetic does to the bits.
"""
from __future__ import annotations

import random
import statistics
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from ..config import from_mapping
from ..settings import EvaluatorConfig

if TYPE_CHECKING:
    from collections.abc import Callable

    from .table import Table


def sample_keys(table: Table, k: int, seed: int = 0) -> list[str]:
    keys = sorted(table.networks)
    return random.Random(seed).sample(keys, min(k, len(keys)))


def verify(table: Table, k: int, seed: int = 0, device: str = "cpu", log: Callable[[str], object] = print) -> dict:
    """Retrain `k` networks of `table` grouped and one seed at a time; the errors side by side."""
    from ..training.evaluate import Evaluator
    config = from_mapping(EvaluatorConfig, dict(table.data["evaluator"], objective="train", workers=0),
                          prefix="evaluator.", where=table.source)
    evaluator = Evaluator(config, table.data.get("split_seed", 0), device)
    seeds = tuple(table.seeds)
    rows = []
    for key in sample_keys(table, k, seed):
        network = table.networks[key]
        recorded = [r["error"] for r in network["results"]]
        grouped = [_rounded(r.error) for r in evaluator(network["arch"], seeds)]
        single = [_rounded(evaluator(network["arch"], s).error) for s in seeds]
        rows.append({"key": key, "table": recorded, "grouped": grouped, "single": single})
        log(f"  {key:<30} table {_errors(recorded)}  grouped {_errors(grouped)}  one by one {_errors(single)}")
    return {"rows": rows, **compare(rows)}


def compare(rows: list[dict]) -> dict:
    """Agreement of the retrainings with the table, next to the table's own seed-to-seed spread."""
    def pairs(a, b):
        return [(x, y) for row in rows for x, y in zip(row[a], row[b]) if x is not None and y is not None]
    grouped = pairs("table", "grouped")
    single = pairs("table", "single")
    live = pairs("grouped", "single")    # both retrained here: the same machine, seeds and data streams
    table_means = [statistics.fmean(e for e in r["table"] if e is not None) for r in rows]
    single_means = [statistics.fmean(e for e in r["single"] if e is not None) for r in rows]
    spread = [statistics.stdev(e for e in r["table"] if e is not None) for r in rows
              if sum(e is not None for e in r["table"]) > 1]
    return {"grouped_max_abs_difference": max((abs(x - y) for x, y in grouped), default=None),
            "grouped_identical": all(x == y for x, y in grouped),
            "single_mean_abs_difference": float(np.mean([abs(x - y) for x, y in single])) if single else None,
            "single_median_abs_difference": float(np.median([abs(x - y) for x, y in single])) if single else None,
            "seed_std_median": float(np.median(spread)) if spread else None,
            "spearman_means": (float(stats.spearmanr(table_means, single_means).statistic)
                               if len(rows) > 2 else None),
            "grouped_vs_single": paired_difference([y - x for x, y in live])}


def paired_difference(differences: list) -> dict | None:
    """One-network minus grouped training of the same (network, seed): is one way systematically better?
    Mean difference with its 95% t interval, the Wilcoxon signed-rank p, and the spread of the pairs."""
    if len(differences) < 3:
        return None
    mean, sd = float(np.mean(differences)), float(np.std(differences, ddof=1))
    half = float(stats.t.ppf(0.975, len(differences) - 1) * sd / np.sqrt(len(differences)))
    nonzero = [d for d in differences if d != 0]
    p = float(stats.wilcoxon(nonzero).pvalue) if len(nonzero) >= 3 else None
    return {"pairs": len(differences), "mean": mean, "ci95": [mean - half, mean + half], "sd": sd,
            "mean_abs": float(np.mean(np.abs(differences))), "wilcoxon_p": p}


def _rounded(error):
    return None if error is None else round(error, 4)     # the table's precision


def _errors(values) -> str:
    return " ".join("  fail" if v is None else f"{v:6.2f}" for v in values)
