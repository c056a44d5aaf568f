"""`compare(...)`: what `era compare` prints, as data. Paired seeds of two (or more) configs, every run
resumed or reused, measured at the same count and tested (report/compare.py does the work).

    verdict = compare("configs/bench/regularized_evolution.yaml", "examples/step_mutation.yaml",
                      seeds=range(20), out="runs/compare/step")
    print(verdict)                          # the Markdown era compare prints (also out/compare.md)
    for c in verdict.comparisons: c.metric, c.variant, c.p_holm, c.verdict
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Union

from ..config import ConfigError
from ..report import compare as _compare
from ..report.compare import ComparisonTest as Comparison  # noqa: F401  (public: a row of the verdict)
from ..search.run import preflight
from .configs import ConfigLike, load_config


@dataclass(frozen=True)
class Verdict:
    names: list                 # the variants, baseline first
    seeds: list
    n: int                      # every run compared at its first n budget-consuming evaluations (or epochs)
    unit: str                   # "evaluations" or "epochs"
    measured: dict              # variant -> {metric: [value per seed], "operators": {...}}
    comparisons: list           # [Comparison]
    run_dirs: dict              # variant -> [run directory per seed]
    text: str                   # the Markdown `era compare` prints
    path: Path                  # compare.md

    def __str__(self) -> str:
        return self.text


def compare(config_a: ConfigLike, config_b: ConfigLike, seeds: Union[Iterable[int], str],
            out: Union[str, os.PathLike, None] = None, *, variants: Iterable[ConfigLike] = (),
            budget: Optional[int] = None, jobs: int = 1, unit: str = "evaluations", fresh: bool = False,
            log: Optional[Callable[[str], None]] = print) -> Verdict:
    """Run `config_a` (the baseline), `config_b` and any further `variants` with the same `seeds` (a list,
    a range or text such as "0-19") into `out` (default runs/compare/A-vs-B), `jobs` runs at a time, and
    compare them at an equal count of `unit`. Finished runs are reused, partial ones resumed; a run whose
    user code (operators, objective) changed since it ran is refused, or with `fresh` run anew."""
    if unit not in ("evaluations", "epochs"):
        raise ConfigError(f"unit: expected 'evaluations' or 'epochs', got {unit!r}")
    configs = [load_config(c, budget=budget) for c in (config_a, config_b, *variants)]
    names = _compare.variant_names(configs)
    out = Path(out) if out is not None else Path("runs") / "compare" / "-vs-".join(names)
    seeds = _compare.parse_seeds(seeds if isinstance(seeds, str) else ",".join(str(int(s)) for s in seeds))
    for config in configs:
        preflight(config)          # every variant's mistakes before any of them runs
    dirs = _compare.run_all(configs, names, seeds, out, jobs=jobs, log=log or (lambda line: None), fresh=fresh)
    measured, n = _compare.measure(dirs, unit)
    text = f"# era compare: {' vs '.join(names)}\n\n" + _compare.verdict(measured, n, unit)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text(text)
    rows = _compare.tests(measured)
    return Verdict(names, seeds, n, unit, measured, rows, dirs, text, out / "compare.md")
