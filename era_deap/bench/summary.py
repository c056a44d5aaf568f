"""What a table says about its landscape: provenance, best / median / worst error, how much retraining
with another seed moves a network, how well seeds agree on the ranking, how many networks are near
the best, and the table's resolution at its top (`resolution`). `era bench info` prints it."""
from __future__ import annotations

import itertools
import statistics
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

if TYPE_CHECKING:
    from typing import Protocol

    from ..space.space import SearchSpace

    class Table(Protocol):
        """table.py's Table, as read here (imported, it would close an import circle: Table.info imports this
        module)."""
        name: str
        source: str
        data: dict
        seeds: list
        space: SearchSpace
        networks: dict
        complete: bool

        @property
        def provenance(self) -> dict: ...

        def mean_errors(self) -> dict[str, float]: ...

        def optimum(self) -> tuple[str, float]: ...


def landscape(table: Table) -> dict:
    """Numbers over the networks' mean errors (over seeds) and over their seeds."""
    means = table.mean_errors()
    values = sorted(means.values())
    best_key, best = table.optimum()
    seeds = len(table.seeds)
    per_seed = np.full((len(table.networks), seeds), np.nan)
    statuses = {}
    for i, network in enumerate(table.networks.values()):
        for j, result in enumerate(network["results"]):
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
            if result["status"] == "ok":
                per_seed[i, j] = result["error"]
    whole = ~np.isnan(per_seed).any(axis=1)
    spread = np.std(per_seed[whole], axis=1, ddof=1) if seeds > 1 else np.zeros(0)
    rhos = [stats.spearmanr(per_seed[whole, a], per_seed[whole, b]).statistic
            for a, b in itertools.combinations(range(seeds), 2)]
    return {"networks": len(table.networks), "seeds": seeds, "statuses": dict(sorted(statuses.items())),
            "best": {"key": best_key, "mean_error": best}, "median": statistics.median(values),
            "worst": values[-1], "quartiles": [float(np.percentile(values, 25)), float(np.percentile(values, 75))],
            "seed_std_median": float(np.median(spread)) if len(spread) else None,
            "seed_std_mean": float(np.mean(spread)) if len(spread) else None,
            "seed_rank_correlation": float(np.mean(rhos)) if rhos else None,
            "within_1_point_of_best": sum(v <= best + 1.0 for v in values) / len(values),
            "top_1_percent_error": float(np.percentile(values, 1))}


TOP_SHARES = (1, 5, 10)      # the top percentages whose seed-to-seed ranking `resolution` measures
ALPHA = 0.05


def resolution(table: Table) -> dict:
    """How finely the table tells its best networks apart:
    top_spearman   {p: Spearman between two training seeds' errors over the top p% of the networks, the top
                   chosen by a third seed (choosing by the two seeds compared would bias them against each
                   other); the mean over the choices of the third seed; None with fewer than three seeds}.
                   Near 0: the order within the top p% is noise;
    tied_with_optimum  how many networks (the optimum included) a two-sided t-test at p < 0.05 cannot tell
                   from the optimum: their mean errors' difference against its standard error, with the
                   within-network variance pooled over the top 10% of the networks (`scipy.stats.t`);
    pooled_sd, df  that pooled seed-to-seed standard deviation (points) and its degrees of freedom."""
    means = table.mean_errors()
    keys = sorted(means, key=lambda k: (means[k], k))
    seeds = len(table.seeds)
    errors = np.array([[r["error"] if r["status"] == "ok" else np.nan for r in table.networks[k]["results"]]
                       for k in keys], dtype=float)
    whole = errors[~np.isnan(errors).any(axis=1)]
    out = {"top_spearman": {}, "tied_with_optimum": None, "pooled_sd": None, "df": None}
    for share in TOP_SHARES:
        rhos = []
        for third in range(seeds if seeds >= 3 else 0):
            a, b = [s for s in range(seeds) if s != third][:2]
            top = whole[np.argsort(whole[:, third], kind="stable")[:max(3, round(len(whole) * share / 100))]]
            rhos.append(stats.spearmanr(top[:, a], top[:, b]).statistic)
        out["top_spearman"][share] = float(np.mean(rhos)) if rhos else None
    top = errors[:max(2, round(len(keys) * 0.1))]
    counts = np.sum(~np.isnan(top), axis=1)
    top = top[counts >= 2]
    if len(top) and seeds > 1:
        df = int(np.sum(np.sum(~np.isnan(top), axis=1) - 1))
        pooled = float(np.sqrt(np.nansum((top - np.nanmean(top, axis=1, keepdims=True)) ** 2) / df))
        n = {k: int(np.sum(~np.isnan(row))) for k, row in zip(keys, errors)}
        best = keys[0]
        tied = 0
        for k in keys:
            se = pooled * np.sqrt(1 / n[k] + 1 / n[best]) if n[k] else np.inf
            p = 2 * stats.t.sf(abs(means[k] - means[best]) / se, df) if se > 0 else float(means[k] == means[best])
            tied += bool(p >= ALPHA)
        out.update(tied_with_optimum=tied, pooled_sd=pooled, df=df)
    return out


def resolution_text(info: dict) -> str:
    """resolution's numbers in one sentence."""
    rhos = ", ".join(f"top {share}% {'n/a' if rho is None else f'{rho:.2f}'}"
                     for share, rho in info["top_spearman"].items())
    text = f"Spearman between two seeds within the {rhos} (the top chosen by a third seed)"
    if info["tied_with_optimum"] is not None:
        text += (f"; {info['tied_with_optimum']:,} networks cannot be told from the optimum (two-sided t-test on "
                 f"the mean errors at p >= {ALPHA}, seed sd {info['pooled_sd']:.2f} points pooled over the top 10%)")
    return text


def describe_table(table: Table) -> str:
    p, info = table.provenance, landscape(table)
    state = "complete" if table.complete else f"PARTIAL: {len(table.networks):,} of {table.space.n_unique:,} networks"
    training = table.data["evaluator"]["training"]
    dataset = table.data["evaluator"]["dataset"]["name"]
    versions = p.get("versions", {})
    lines = [
        f"table {table.name} ({state}): {table.source}",
        "  space:       " + ", ".join(f"{g} {v[0]}..{v[-1]}" if len(v) > 4 else f"{g} {v}"
                                      for g, v in table.space.describe().items()),
        f"  networks:    {info['networks']:,} x {info['seeds']} seeds {table.seeds}; statuses {info['statuses']}",
        f"  training:    {dataset}, {training['epochs']} epochs, batch {training['batch_size']}, lr {training['lr']} "
        f"(x{training['lr_gamma']} at {training['lr_milestones']} of the epochs)",
        f"  built:       {p.get('build_command', '?')}; {p.get('cpu_hours', '?')} CPU-hours, "
        f"{p.get('wall_hours', '?')} h wall over {p.get('sessions', '?')} session(s), {p.get('started', '?')} to "
        f"{p.get('finished', '?')}",
        f"  machine:     {p.get('cpu', '?')}, {p.get('cores', '?')} cores, workers {p.get('workers', '?')} x "
        f"{p.get('threads_per_worker', '?')} thread(s); torch {versions.get('torch', '?')}, era-deap "
        f"{versions.get('era-deap', '?')}",
        f"  error (mean over seeds): best {info['best']['mean_error']:.2f}% ({info['best']['key']}), "
        f"median {info['median']:.2f}%, worst {info['worst']:.2f}%, quartiles {info['quartiles'][0]:.2f}% / "
        f"{info['quartiles'][1]:.2f}%",
        f"  top 1% of networks: error <= {info['top_1_percent_error']:.2f}%; within 1 point of the best: "
        f"{100 * info['within_1_point_of_best']:.1f}% of networks",
    ]
    if info["seed_std_median"] is not None:
        lines.append(f"  seed to seed: std of a network's error median {info['seed_std_median']:.2f} points "
                     f"(mean {info['seed_std_mean']:.2f}); Spearman between seeds {info['seed_rank_correlation']:.3f}")
        lines.append(f"  resolution:  {resolution_text(resolution(table))}")
    return "\n".join(lines)
