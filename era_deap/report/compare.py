"""`era compare A.yaml B.yaml [...] --seeds 0-19`: is variant B better than A? Paired seeds, one verdict.

Every variant runs with the same seeds (seed k of A and seed k of B start from the same random
population and draw the same evaluation seeds), into `<out>/<variant>/seed-k/`; finished runs are
reused, partial ones resumed. On a benchmark table a search takes seconds, and the true optimum is
known; on any other objective the runs train. Then, per variant against the first (the baseline):

    best error       the lowest error observed within the first N budget-consuming evaluations
    AUC              the mean over those N evaluations of the best error so far (rewards finding good
                     networks early; 100 counts until the first success)
    regret           on a table: the table's mean error of the variant's best network minus the optimum's
    operators        per run, the mean number of children that were invalid, no-ops (the first variation
                     gave back the parent) or re-mutated (already evaluated), from summary.json

with mean ± 95% t-interval over seeds, the paired two-sided Wilcoxon signed-rank test on seed k of A
against seed k of B (`scipy.stats.wilcoxon`), Holm's adjustment over the variants compared on each metric
(not over the metrics: each answers its own question, QUESTIONS), Vargha–Delaney A (the chance that the
variant's seed beats the baseline's; 0.5: no difference), and the test's resolution: the smallest difference
in means it detects with 80% power at this many seeds, from the spread of the paired differences
(statistics.detectable_difference). N is the smallest budget every run reached, so every seed is compared
at the same count. `tests` gives the verdict's numbers as ComparisonTest records; `verdict` lays them out.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import signal
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, RunDirError
from ..search import rundir
from ..search.outputs import markdown_table, mean_ci_text
from ..search.rundir import RunDirectory
from ..training.result import WORST_ERROR
from .runs import read_run
from .statistics import ALPHA, POWER, Benchmark, holm, locate_table, pairwise, training_epochs

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..settings import SearchConfig

METRICS = ("best", "auc", "regret")
MAX_SEEDS = 1000        # more is a typo (0-999999 would start millions of runs), not a comparison
QUESTIONS = {"best": "which search saw the lower error (its best single observation, luck included)",
             "auc": "which search found good networks earlier",
             "regret": "which search returns the better network (the table's mean error of the one it observed "
                       "best)"}


def parse_seeds(text: str) -> list[int]:
    """"0-19" or "0,3,5" or "4" -> seeds."""
    seeds = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            first, last = int(first), int(last) if dash else int(first)
        except ValueError:
            raise ConfigError(f"--seeds: expected seeds such as 0-19 or 0,3,5, got {text!r}") from None
        if len(seeds) + last - first + 1 > MAX_SEEDS:
            raise ConfigError(f"--seeds: expected at most {MAX_SEEDS} seeds (runs per variant), got {text!r}")
        seeds += range(first, last + 1)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds: expected at least two distinct seeds for a paired comparison, got {text!r}")
    return seeds


def variant_names(configs: Sequence[SearchConfig]) -> list[str]:
    """Each variant's folder: its config name, or its file name where names repeat."""
    names = [c.name for c in configs]
    if len(set(names)) < len(names):
        names = [Path(c.source).stem for c in configs]
    if len(set(names)) < len(names):
        raise ConfigError(f"era compare: expected variants with distinct names or file names, got {names}")
    return names


def run_all(configs: Sequence[SearchConfig], names: Sequence[str], seeds: Sequence[int], out: Path, jobs: int = 1,
            log: Callable[[str], object] = print, fresh: bool = False) -> dict:
    """{variant: [run dir per seed]}: each (variant, seed) run resumed or started, `jobs` at once. A run
    whose user code (operators, objective, ...) changed since it ran is stale: refused, or with `fresh`
    moved aside and run anew."""
    tasks = []
    for config, name in zip(configs, names):
        for seed in seeds:
            tasks.append((dataclasses.replace(config, seed=seed), out / name / f"seed-{seed}", False))
    stale = {d: RunDirectory(d).changed_code(c) for c, d, _ in tasks}
    stale = {d: modules for d, modules in stale.items() if modules}
    if stale and not fresh:
        first, modules = next(iter(stale.items()))
        raise RunDirError(f"{first}: ran other code than asked now: {', '.join(modules)}"
                          f"{f' (and {len(stale) - 1} more runs)' if len(stale) > 1 else ''}; its results would "
                          "answer for the old code: rerun them with --fresh (moves them aside), or use another --out")
    tasks = [(c, d, d in stale) for c, d, _ in tasks]
    todo = [task for task in tasks if task[2] or not RunDirectory(task[1]).is_finished(task[0])]
    log(f"era compare: {len(configs)} variants x {len(seeds)} seeds; {len(tasks) - len(todo)} runs finished "
        f"before, {len(todo)} to run")
    # A count, not a path per run: forty paths before the verdict buried it. About every tenth run, and the last.
    every = max(1, -(-len(todo) // PROGRESS_LINES))
    if jobs > 1 and len(todo) > 1:
        # A multiprocessing Pool, not a ProcessPoolExecutor: leaving the `with` (an error, Ctrl-C, or SIGTERM
        # made an exception below) terminates its workers, whose searches then stop as on their own SIGTERM.
        previous = signal.getsignal(signal.SIGTERM)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _raise_interrupted)
        try:
            with multiprocessing.get_context("spawn").Pool(jobs) as pool:
                for done, _ in enumerate(pool.imap(_run_one, todo), 1):
                    _progress(log, done, len(todo), every, out)
        finally:
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, previous)
    else:
        for done, task in enumerate(todo, 1):
            _run_one(task)
            _progress(log, done, len(todo), every, out)
    return {name: [out / name / f"seed-{seed}" for seed in seeds] for name in names}


PROGRESS_LINES = 10


def _progress(log, done: int, total: int, every: int, out: Path) -> None:
    if done % every == 0 or done == total:
        log(f"era compare: {done} of {total} runs done" + (f" (in {out})" if done == total else ""))


def _raise_interrupted(signum, frame):
    from ..search.driver import Interrupted
    raise Interrupted(signum)


def _run_one(task) -> None:
    from ..search.run import run_search
    config, run_dir, fresh = task
    run_search(config, run_dir, fresh=fresh, resume=not fresh and (run_dir / rundir.JOURNAL).exists())


# --- the verdict ------------------------------------------------------------------------------------

def measure(run_dirs: dict, unit: str = "evaluations") -> tuple[dict, int]:
    """({variant: {metric: [per seed]}, operator counts}, N): every run measured at the same N budget-
    consuming evaluations, or (unit "epochs", for multi-fidelity searches) the same N training epochs."""
    runs = {name: [read_run(Path(d)) for d in dirs] for name, dirs in run_dirs.items()}
    steps = {id(run): _steps(run, unit) for rs in runs.values() for run in rs}
    n = min(sum(steps[id(run)]) for rs in runs.values() for run in rs)
    out = {}
    for name, rs in runs.items():
        bench = _benchmark(rs[0])
        rows = {m: [] for m in METRICS}
        for run in rs:
            used = _within(_budget_rows(run), steps[id(run)], n)
            curve = _best_so_far(used, steps[id(run)])
            rows["best"].append(curve[-1])
            rows["auc"].append(statistics.fmean(curve))
            if bench is not None:
                rows["regret"].append(bench.at(run, used[-1].index)[1] if used else None)
        rows["operators"] = _operators([Path(run.path) for run in rs])
        out[name] = rows
    return out, n


def _budget_rows(run) -> list:
    return [e for e in run.evaluations if not e.cached]


def _steps(run, unit: str) -> list[int]:
    """What each budget-consuming evaluation of `run` cost: 1, or its training epochs."""
    if unit == "evaluations":
        return [1] * len(_budget_rows(run))
    return training_epochs(_budget_rows(run), _schedule_epochs(run))


def _schedule_epochs(run) -> int:
    """A full training's epochs: the table's schedule, else the config's (dotted keys of config.yaml)."""
    bench = _benchmark(run)
    if bench is not None:
        return int(bench.table.data["epochs"])
    config = run.search_config or {}
    return int(config.get("strategy.max_epochs") or config.get("evaluator.training.epochs") or 20)


def _within(rows, steps, n) -> list:
    """The evaluations whose cumulative cost stays within n."""
    out, total = [], 0
    for row, step in zip(rows, steps):
        if total + step > n:
            break
        total += step
        out.append(row)
    return out


def _best_so_far(evaluations, steps) -> list:
    """The best full-training error so far, once per unit of cost (100 until the first success)."""
    best, curve = WORST_ERROR, []
    for e, step in zip(evaluations, steps):
        if e.ok and e.epochs is None:
            best = min(best, e.error)
        curve += [best] * step
    return curve


def _benchmark(run):
    """The run's table (None off a table); a table named but not found is an error, not a silent gap."""
    if not run.table:
        return None
    table, reason = locate_table(run.table, Path(run.path))
    if table is None:
        raise ConfigError(f"era compare: {reason}")
    return Benchmark(table)


def _operators(paths) -> dict:
    counts = [RunDirectory(p).summary().get("operators") for p in paths]
    counts = [c for c in counts if c]
    if not counts:
        return {}
    return {k: statistics.fmean(c[k] for c in counts) for k in ("children", "invalid", "noop", "remutated")}


@dataclass(frozen=True)
class ComparisonTest:
    """One variant against the baseline on one metric: the paired test and its resolution. Lower is better."""
    metric: str                  # METRICS
    variant: str
    baseline: str
    seeds: int                   # paired seeds
    median_variant: float
    median_baseline: float
    mean_difference: float       # variant minus baseline, mean over the seeds
    p_value: float               # two-sided Wilcoxon signed-rank
    p_holm: float                # Holm over the `holm_over` variants compared on this metric
    holm_over: int
    variant_better: float        # Vargha–Delaney A: the chance that the variant's seed beats the baseline's
    detectable: float | None     # the smallest difference in means detected with 80% power (paired differences)

    @property
    def outcome(self) -> str:
        """"variant better", "baseline better" or "no difference detected"."""
        if self.p_holm >= ALPHA:
            return "no difference detected"
        return "variant better" if self.variant_better > 0.5 else "baseline better"

    @property
    def verdict(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        """The verdict as the table prints it, with the resolution where nothing was detected."""
        if self.outcome != "no difference detected" or self.detectable is None:
            return self.outcome
        return f"no difference detected; this comparison could detect ≥ {self.detectable:.3g} {_unit(self.metric)}"


def compared_metrics(measured: dict) -> list:
    """The metrics every variant has a value of for every seed (regret only on a table)."""
    return [m for m in METRICS if all(measured[v][m] and None not in measured[v][m] for v in measured)]


def tests(measured: dict) -> list:
    """[ComparisonTest] of every variant against the first (the baseline) on every metric all of them have."""
    names = list(measured)
    metrics = compared_metrics(measured)
    raw = []
    for m in metrics:
        for name in names[1:]:
            test = pairwise({names[0]: measured[names[0]][m], name: measured[name][m]}, paired=True)[0]
            raw.append((m, name, test))
    out = []
    for (m, name, t), p in zip(raw, _holm_by_metric(raw)):
        difference = statistics.fmean(measured[name][m]) - statistics.fmean(measured[names[0]][m])
        out.append(ComparisonTest(m, name, names[0], t.n_a, t.median_b, t.median_a, difference, t.p_value, p,
                                  len(names) - 1, 1 - t.effect, t.detectable))
    return out


def verdict(measured: dict, n: int, unit: str = "evaluations") -> str:
    """The markdown verdict: per variant mean ± CI, and against the baseline the paired tests."""
    names = list(measured)
    metrics = compared_metrics(measured)
    lines = [f"Compared at N = {n} {unit} (the smallest budget every run reached), "
             f"{len(measured[names[0]]['best'])} paired seeds; baseline: {names[0]}.\n"]
    header = ["Variant", *[f"{_title(m)} (mean ± 95% CI)" for m in metrics],
              "Children / run", "Invalid", "No-op", "Re-mutated"]
    body = []
    for name in names:
        ops = measured[name]["operators"]
        body.append([name, *[mean_ci_text(measured[name][m], 3) for m in metrics],
                     *([f"{ops['children']:.1f}", f"{ops['invalid']:.1f}", f"{ops['noop']:.1f}",
                        f"{ops['remutated']:.1f}"] if ops else ["—"] * 4)])
    lines.append(markdown_table(header, body))
    found = tests(measured)
    over = len(names) - 1
    lines.append(markdown_table(["Metric", "Variant vs baseline", "Median variant", "Median baseline",
                                 "Wilcoxon p", f"p (Holm over {over} variant{'s' if over > 1 else ''})",
                                 f"Detectable ({round(100 * POWER)}% power)", "A (variant better)", "Verdict"],
                                [[_title(t.metric), f"{t.variant} vs {t.baseline}", f"{t.median_variant:.3f}",
                                  f"{t.median_baseline:.3f}", f"{t.p_value:.3g}", f"{t.p_holm:.3g}",
                                  "—" if t.detectable is None else f"{t.detectable:.3g}",
                                  f"{t.variant_better:.2f}", t.text] for t in found]))
    lines.append("Lower is better for every metric. A: the chance that the variant's seed beats the "
                 "baseline's (Vargha–Delaney; 0.5 no difference, 0.56 / 0.64 / 0.71 small / medium / large). "
                 f"Verdict at p (Holm) < {ALPHA}; p (Holm) adjusts over the {over} variant"
                 f"{'s' if over > 1 else ''} compared on each metric"
                 f"{' (with one variant it equals p)' if over == 1 else ''}, not over the metrics: each "
                 "answers its own question. Detectable: the smallest difference in means (variant minus baseline, "
                 f"in the metric's unit) that this test detects with {round(100 * POWER)}% power at this many seeds, "
                 "(z(0.975) + z(0.8)) · sd(paired differences) / √seeds / √(3/π) (normal approximation; 3/π: the "
                 "Wilcoxon test's efficiency against the t-test).\n")
    lines += _disagreements(found)
    return "\n".join(lines)


def _disagreements(found) -> list:
    """Where the metrics of one variant give different verdicts: which question each one answers."""
    lines = []
    for name in dict.fromkeys(t.variant for t in found):
        own = [t for t in found if t.variant == name]
        if len({t.outcome for t in own}) < 2:
            continue
        said = "; ".join(f"{_title(t.metric)}: {t.text} (p {t.p_value:.3g})" for t in own)
        asks = "; ".join(f"{_title(t.metric)} answers {QUESTIONS[t.metric]}" for t in own)
        lines.append(f"**The metrics disagree for {name}**: {said}. They answer different questions: {asks}. "
                     "Read the one that answers the question you asked.\n")
    return lines


def _unit(metric: str) -> str:
    return "points"     # every metric is an error in %: its differences are percentage points


def _holm_by_metric(tests) -> list:
    adjusted = [None] * len(tests)
    for metric in dict.fromkeys(m for m, _, _ in tests):
        index = [i for i, (m, _, _) in enumerate(tests) if m == metric]
        for i, p in zip(index, holm([tests[i][2].p_value for i in index])):
            adjusted[i] = p
    return adjusted


def _title(metric: str) -> str:
    return {"best": "Best error (%)", "auc": "AUC of best so far (%)", "regret": "Regret (points)"}[metric]

