"""Runs grouped into searches: the seeds of one search share a config `name` and what their saved
config.yaml says is searched. Runs that share a name but not a config (an operator edited, the name
kept) are separate searches, labelled with a short hash of their config ("land_stock [a1b2c3]"), and
`config_conflicts` names the keys that differ, for report.md.

What counts as the config: search/runconfig.py's `search_keys` (config.yaml flattened to dotted keys,
without the budget (a resumed run may have a larger one: compared at an equal count instead,
comparison.py), the command, and the keys that only say where and how fast a search ran: a run resumed
with more workers is the same search), and without the seed (it tells seeds apart); named by the same
`config_hash` as summary.json's. A run without config.yaml groups by name alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..search import rundir
from ..search.runconfig import config_hash, search_keys

# Thesis names and order (tables 1 and 2); any other config name follows these, verbatim.
SEARCH_NAMES = {
    "random_search": "Random Search",
    "local_search": "Local Search",
    "bayesian_optimization": "Bayesian Optimization",
    "evolution": "Evolution",
    "regularized_evolution": "Regularized Evolution",
    "crossover_evolution": "Crossover Evolution",
    "nsga2": "NSGA-II",
    "asha": "ASHA",
    "hyperband": "Hyperband",
    "asha_evolution": "ASHA + evolution",
}
EVOLUTIONARY_KINDS = ("evolution", "regularized_evolution", "crossover_evolution")  # thesis table 10
MAX_KEYS_SHOWN = 5


@dataclass
class Search:
    name: str               # config `name`
    kind: str               # config strategy.kind
    runs: list              # [Run], by seed
    config_id: str = ""     # short config hash, set only when another search shares the name
    key: str = ""           # unique in a report: the name, with the config id when it is set (colours)
    label: str = ""         # thesis name (or the config name), with the config id when it is set

    def __post_init__(self):
        suffix = f" [{self.config_id}]" if self.config_id else ""
        self.key = self.key or self.name + suffix
        self.label = self.label or SEARCH_NAMES.get(self.name, self.name) + suffix

    @property
    def evolutionary(self) -> bool:
        return self.kind in EVOLUTIONARY_KINDS or "evolution" in self.kind

    @property
    def finished(self) -> bool:
        return all(r.finished for r in self.runs)


@dataclass
class FinalResult:
    path: Path
    label: str
    data: dict              # final.json as written
    search: str | None = None   # key of the search it came from; None for a baseline
    seed: int | None = None


@dataclass
class Collection:
    searches: list          # [Search], thesis order
    baselines: list         # [FinalResult] from standalone final-training dirs

    @property
    def runs(self) -> list:
        return [r for s in self.searches for r in s.runs]

    @property
    def finals(self) -> list:
        """Table 1 rows: baselines first (as in the thesis), then each search's final training."""
        from_runs = [FinalResult(r.path / rundir.FINAL_DIR, s.label, r.final, s.key, r.seed)
                     for s in self.searches for r in s.runs if r.final is not None]
        return self.baselines + from_runs


# --- grouping -------------------------------------------------------------------------------------

def search_config(config: dict) -> dict:
    """The dotted keys of a saved config that define the search, its seed left out (see the module
    docstring)."""
    return {k: v for k, v in search_keys(config).items() if k != "seed"}


def config_id(config: dict | None) -> str:
    """Six hex digits naming a search config (search_config's keys); "" for a run without config.yaml."""
    return config_hash(config, digits=6) if config else ""


def group(runs) -> list:
    """Runs grouped into Searches by (name, config id): thesis order first, then other names by their
    strategy kind's thesis position and name; runs within a search by seed. A name with one config keeps
    its plain label; a name with several gets the config id in every label."""
    groups: dict = {}
    for run in runs:
        groups.setdefault((run.name, config_id(run.search_config)), []).append(run)
    names = [name for name, _ in groups]
    searches = [Search(name, rs[0].kind, sorted(rs, key=_seed_order),
                       config_id=ident if names.count(name) > 1 else "")
                for (name, ident), rs in groups.items()]
    return sorted(searches, key=lambda s: (*search_order(s.name, s.kind), s.config_id))


def _seed_order(run) -> tuple:
    return (run.seed is None, run.seed or 0, str(run.path))


def search_order(name: str, kind: str = "") -> tuple:
    order = list(SEARCH_NAMES)
    if name in SEARCH_NAMES:
        return (0, order.index(name), name)
    return (1, order.index(kind) if kind in SEARCH_NAMES else len(order), name)


def config_conflicts(searches) -> list:
    """One line per config name that several searches share: the searches and the keys that differ."""
    lines = []
    for name in dict.fromkeys(s.name for s in searches):
        same = [s for s in searches if s.name == name]
        if len(same) < 2:
            continue
        configs = [s.runs[0].search_config or {} for s in same]
        differ = sorted(k for k in set().union(*configs) if len({_shown(c, k) for c in configs}) > 1)
        shown = "; ".join(f"`{k}` (" + ", ".join(f"{s.config_id or 'no config.yaml'}: {_shown(c, k)}"
                                                  for s, c in zip(same, configs)) + ")"
                          for k in differ[:MAX_KEYS_SHOWN])
        more = f" and {len(differ) - MAX_KEYS_SHOWN} more" if len(differ) > MAX_KEYS_SHOWN else ""
        runs = ", ".join(f"{s.label} ({len(s.runs)} run{'s' if len(s.runs) > 1 else ''})" for s in same)
        lines.append(f"Runs named `{name}` were made with {len(same)} different configs, reported as separate "
                     f"searches: {runs}. The saved `config.yaml` files differ in {shown}{more}. Give each "
                     "config its own `name` to keep them apart.")
    return lines


def _shown(config: dict, key: str) -> str:
    text = repr(config[key]) if key in config else "(absent)"
    return text if len(text) <= 40 else text[:37] + "..."
