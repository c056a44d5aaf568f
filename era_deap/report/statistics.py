"""The report's numbers: data in, records out. Nothing here draws or formats; figures.py draws these
numbers, tables.py lays them out.

    curves       per run, from its evaluations (runs.Run records, in arrival order): what counts, the best
                 so far, figure 5's running statistics, the training epochs spent
    seeds        a search's seeds on one grid: the mean with its 95% t-interval band (search/outputs.py's
                 mean_ci), the median seed
    tests        scipy's rank tests between searches, Holm's correction, the Vargha–Delaney effect size,
                 and each test's resolution (detectable_difference); samples are plain numbers, lower is better
    comparisons  searches compared on their seeds at one evaluation count every compared seed reached
    benchmark    runs on a benchmark table (config `evaluator: {objective: table}`): the true optimum is known

Only successful evaluations that cost budget count: a failure has no error, and a cached row repeats a
network already counted, whose first evaluation is the one credited (as the driver does).

On a benchmark table:

    regret       the table's mean error (over its training seeds) of the search's best network so far
                 (the one with the lowest error the search observed) minus the optimum's mean error.
                 The mean over seeds, not the one seed the search saw, keeps it >= 0 and measures the
                 network the search would return, not that seed's luck.
    top 1%       a network whose mean error is within the best 1% of the table's networks (at most the
                 1st percentile of their mean errors, as `era bench info` says: bench/summary.py).
    measures     per seed at a count, the thesis's own measures and the exploration measures beside the
                 best error and the regret (MEASURES says what each one measures; Benchmark.measures).

The searches on a table are compared on the regret per seed beside the tests on the best error observed:
the best of many noisy observations flatters a search (winner's curse).
"""
from __future__ import annotations

import itertools
import math
import statistics
import warnings
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from ..bench import table as bench_table
from ..errors import ConfigError
from ..search import rundir
from ..search.outputs import mean_ci
from ..search.records import RUNNING_FIELDS, RunningErrors

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from .runs import Run, SearchRuns

# --- curves: one run's evaluations ----------------------------------------------------------------

def counted(evaluations: Iterable[rundir.Evaluation]) -> list:
    """The successful, non-cached evaluations of full trainings (a multi-fidelity evaluation of the
    schedule's first epochs does not compare with them)."""
    return [e for e in evaluations if e.ok and not e.cached and e.epochs is None]


def multi_fidelity(search: SearchRuns) -> bool:
    """Whether some run of the search trained networks for the schedule's first epochs only (rungs):
    it makes many cheap evaluations, so it compares with others at equal epochs, not evaluations."""
    return any(e.epochs is not None for r in search.runs for e in r.evaluations)


def training_epochs(evaluations: Iterable[rundir.Evaluation], full: int) -> list:
    """Per evaluation: the training epochs it cost. A rung costs its epochs, a full training the
    schedule's `full`, a cache hit nothing (the network was trained before); a failure counts as trained."""
    return [0 if e.cached else (e.epochs or full) for e in evaluations]


def best_evaluation(evaluations: Iterable[rundir.Evaluation]) -> rundir.Evaluation | None:
    """The counted evaluation with the lowest error, earliest on ties; None before the first."""
    ok = counted(evaluations)
    return min(ok, key=lambda e: (e.error, e.index)) if ok else None


def incumbents(evaluations: Iterable[rundir.Evaluation]) -> list:
    """Per evaluation (failed and cached ones included): best_evaluation of the evaluations up to it."""
    out, best = [], None
    for e in evaluations:
        if e.ok and not e.cached and e.epochs is None and (best is None or e.error < best.error):
            best = e
        out.append(best)
    return out


def anytime_curves(evaluations: Iterable[rundir.Evaluation], window: int = rundir.RECENT_WINDOW) -> dict:
    """Thesis figure 5 per evaluation (failed and cached ones included, carrying the values forward):
    index, elapsed (s), and the driver's logbook statistics (search/records.py's RunningErrors: best so
    far, mean of all successes, and under the logbook's name "mean_last50" the mean of the last
    `window`), None before the first success."""
    out = {k: [] for k in ("index", "elapsed", *RUNNING_FIELDS)}
    running = RunningErrors(window)
    for e in evaluations:
        running.add(e)
        out["index"].append(e.index)
        out["elapsed"].append(e.elapsed)
        for name, value in running.values().items():
            out[name].append(value)
    return out


def logbook_mismatches(run: Run, tolerance: float = 1e-6) -> list:
    """Where logbook.json disagrees with the curves recomputed from evaluations.csv (the logbook's own
    window of 50, whatever the report's --window)."""
    if run.logbook is None:
        return []
    curves = anytime_curves(run.evaluations)
    at = {i: n for n, i in enumerate(curves["index"])}
    problems = []
    for record in run.logbook:
        n = at.get(record.get("index"))
        if n is None:
            continue   # e.g. the CSV lost its last row
        for field_ in RUNNING_FIELDS:
            ours, theirs = curves[field_][n], record.get(field_)
            if (ours is None) != (theirs is None) or (ours is not None and abs(ours - theirs) > tolerance):
                problems.append(f"index {record['index']} {field_}: logbook {theirs}, evaluations.csv {ours}")
    return problems


def window_equals_all(searches: Iterable[SearchRuns], window: int) -> bool:
    """True when no run has more than `window` counted evaluations: then figure 5's (c) is (b) everywhere."""
    return all(len(counted(r.evaluations)) <= window for s in searches for r in s.runs)


# --- seeds: one search's runs on one grid ---------------------------------------------------------

def mean_band(columns: Sequence[Sequence[float | None]], confidence: float = 0.95,
              majority: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point: mean, t-interval half-width (mean_ci) and count over the values that are not
    None/nan. `columns` is seeds × points (a list per seed). Half-width is nan where fewer than two values.
    With `majority` (the figures' curves), mean and half-width are also nan where fewer than half of the
    seeds contribute: a mean over the one to three seeds that went furthest jumps with each seed that
    stops, and says little of the search."""
    data = np.array([[np.nan if v is None else v for v in row] for row in columns], dtype=float)
    mean, half = mean_ci(data.T, confidence)
    count = np.sum(~np.isnan(data), axis=0)
    if majority and len(data):
        few = 2 * count < len(data)
        mean, half = np.where(few, np.nan, mean), np.where(few, np.nan, half)
    return mean, half, count


# Figures zoom past the first evaluations, whose errors (tens of percent) would squash the differences
# that matter (a point or two) into the bottom of the axis: the first ZOOM_SKIP of the x range is left
# out of the y range (those curves start above the top and come down into view).
ZOOM_SKIP = 0.05


def zoomed_range(curves: Sequence[tuple[Sequence[float] | np.ndarray, Sequence[float] | np.ndarray]],
                 skip: float = ZOOM_SKIP, log: bool = False) -> tuple | None:
    """(low, high) y limits showing every curve (xs, ys) after the first `skip` of the largest x, with a
    margin (a factor on a log axis, whose values must be above 0); None without such points."""
    end = max((np.nanmax(np.asarray(xs, dtype=float)) for xs, _ in curves if len(xs)), default=None)
    if end is None:
        return None
    start = skip * end
    values = np.concatenate([np.asarray(ys, dtype=float)[np.asarray(xs, dtype=float) >= start]
                             for xs, ys in curves if len(xs)])
    values = values[np.isfinite(values) & ((values > 0) if log else True)]
    if not len(values):
        return None
    low, high = float(values.min()), float(values.max())
    if log:
        return low / 1.4, high * 1.4
    margin = 0.08 * (high - low) or 0.05 * abs(high) or 1.0
    return max(0.0, low - margin), high + margin


def per_evaluation(series: Sequence[Sequence[float | None]]) -> tuple[list, list]:
    """(grid 1..longest, columns) for mean_band from one list per seed with a value per evaluation: a
    seed counts up to its last evaluation."""
    longest = max((len(s) for s in series), default=0)
    return list(range(1, longest + 1)), [list(s) + [None] * (longest - len(s)) for s in series]


def step_at(xs: Sequence[float], ys: Sequence[float | None], grid: Iterable[float], hold: bool = False) -> list:
    """The step function through (xs, ys) — the value of the last point at or before x — at each grid
    point; None before the first point, and after the last unless `hold` (a finished search keeps its
    final state: on a time axis its best stays what it was when it ended)."""
    out, i = [], -1
    for x in grid:
        while i + 1 < len(xs) and xs[i + 1] <= x:
            i += 1
        out.append(None if i < 0 or (x > xs[-1] and not hold) else ys[i])   # i < 0 first: xs may be empty
    return out


def median_run(search: SearchRuns) -> Run | None:
    """The seed whose best error is the median of its search's (the lower one of the middle two with an
    even count, earliest seed on ties); None when no seed has a success."""
    ranked = sorted(((best_evaluation(r.evaluations), k, r) for k, r in enumerate(search.runs)),
                    key=lambda t: (t[0] is None, t[0].error if t[0] else 0.0, t[1]))
    ranked = [r for best, _, r in ranked if best is not None]
    return ranked[(len(ranked) - 1) // 2] if ranked else None


def search_best(search: SearchRuns) -> tuple[Run, rundir.Evaluation] | tuple[None, None]:
    """(run, evaluation) of the search's best successful evaluation over its seeds, or (None, None)."""
    candidates = [(run, best_evaluation(run.evaluations)) for run in search.runs]
    candidates = [(r, e) for r, e in candidates if e is not None]
    if not candidates:
        return None, None
    return min(candidates, key=lambda re: re[1].error)   # min keeps the first seed on ties


# --- tests between searches -----------------------------------------------------------------------

def holm(pvalues: Sequence[float]) -> list:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def vargha_delaney(a: Sequence[float], b: Sequence[float], u: float | None = None) -> float:
    """A = P(a < b) + 0.5 P(a = b) over all pairs of one value of `a` and one of `b`: the chance that `a`
    does better (lower). 0.5: no difference. From the Mann–Whitney U of `a` (pairs where a > b, ties
    counting half), which `u` may pass in when it is already computed."""
    if u is None:
        u = stats.mannwhitneyu(a, b, alternative="two-sided").statistic
    return 1.0 - float(u) / (len(a) * len(b))


ALPHA = 0.05                 # the tests' level
POWER = 0.8                  # the power a detectable difference is stated for
RANK_EFFICIENCY = 3 / math.pi   # asymptotic relative efficiency of the rank tests against the t-test (normal data)


def detectable_difference(a: Sequence[float], b: Sequence[float] | None = None, paired: bool = False,
                          alpha: float = ALPHA, power: float = POWER) -> float | None:
    """The smallest true difference in means that a two-sided rank test at `alpha` detects with probability
    `power` on samples like these: the normal approximation (z_{1-alpha/2} + z_power) * se / sqrt(3/pi), se the
    standard error of the difference in means (paired: sd of the differences a - b / sqrt(n); independent:
    sqrt(sd_a^2 / n_a + sd_b^2 / n_b); one sample `a` alone: sd_a / sqrt(n)), 3/pi the Wilcoxon and Mann–Whitney
    tests' efficiency relative to the t-test (`scipy.stats.norm` for the quantiles). None with fewer than two
    values (or pairs) on a side, or without spread (every value alike: the approximation says nothing)."""
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    a = np.asarray(a, dtype=float)
    if b is None or paired:
        d = a if b is None else a - np.asarray(b, dtype=float)
        if len(d) < 2:
            return None
        se = float(np.std(d, ddof=1) / np.sqrt(len(d)))
    else:
        b = np.asarray(b, dtype=float)
        if len(a) < 2 or len(b) < 2:
            return None
        se = float(np.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b)))
    return z * se / math.sqrt(RANK_EFFICIENCY) if se > 0 else None


@dataclass(frozen=True)
class PairTest:
    a: str
    b: str
    n_a: int
    n_b: int
    median_a: float
    median_b: float
    test: str            # "mann-whitney-u" or "wilcoxon"
    statistic: float     # U of a, or Wilcoxon's W
    p_value: float       # two-sided
    p_holm: float        # adjusted over all the pairs tested together
    effect: float        # Vargha–Delaney A of a against b
    detectable: float | None = None   # the smallest difference in means detected with 80% power (detectable_difference)
    family: int = 1      # how many tests p_holm adjusts over (the pairs tested together)


def pairwise(samples: dict, paired: bool = False) -> list:
    """Every pair of `samples` (label -> values, in the dict's order): a two-sided test, Holm's adjustment
    over all pairs, and A. Independent samples: `scipy.stats.mannwhitneyu`. Paired (value k of each sample
    from the same seed, equal lengths): `scipy.stats.wilcoxon` on the differences. Each test's resolution:
    detectable_difference of its samples (paired: of the differences)."""
    raw = []
    for (a, xa), (b, xb) in itertools.combinations(samples.items(), 2):
        u = stats.mannwhitneyu(xa, xb, alternative="two-sided")
        if paired:
            if len(xa) != len(xb):
                raise ValueError(f"paired samples need equal lengths: {a} has {len(xa)}, {b} {len(xb)}")
            with warnings.catch_warnings():   # all differences zero: scipy warns and answers p = 1
                warnings.simplefilter("ignore", RuntimeWarning)
                test = stats.wilcoxon(xa, xb, alternative="two-sided")
        else:
            test = u
        raw.append((a, b, xa, xb, float(test.statistic), float(test.pvalue), vargha_delaney(xa, xb, u.statistic)))
    adjusted = holm([r[5] for r in raw])
    return [PairTest(a, b, len(xa), len(xb), float(statistics.median(xa)), float(statistics.median(xb)),
                     "wilcoxon" if paired else "mann-whitney-u", statistic, p, p_holm, effect,
                     detectable_difference(xa, xb, paired), len(raw))
            for (a, b, xa, xb, statistic, p, effect), p_holm in zip(raw, adjusted)]


# --- comparisons at a common count ----------------------------------------------------------------

def common_count(searches: Iterable[SearchRuns]) -> int:
    """The smallest number of evaluations any run of `searches` reached."""
    return min((len(r.evaluations) for s in searches for r in s.runs), default=0)


def seed_bests(search: SearchRuns, n: int) -> list:
    """Best error of each seed over its first n evaluations, for the seeds with a success by then."""
    bests = [best_evaluation(r.evaluations[:n]) for r in search.runs]
    return [b.error for b in bests if b is not None]


def with_two_seeds(searches: Iterable[SearchRuns], samples: dict) -> list:
    """The searches with two or more per-seed values in `samples` (label -> values at the compared point)."""
    return [s for s in searches if len(samples[s.label]) >= 2]


# --- benchmark tables: regret and top-1% networks -------------------------------------------------

COUNTS = (50, 100, 200)      # evaluations at which the benchmark table reports (thesis budget: 200)


@dataclass
class Benchmark:
    """One benchmark table and the searches that ran on it: its optimum, its top 1%, and per run the
    regret and the top-1% networks found."""
    table: bench_table.Table
    searches: list = field(default_factory=list)

    def __post_init__(self):
        self.means = self.table.mean_errors()
        self.optimum_key, self.optimum = self.table.optimum()
        values = np.array(sorted(self.means.values()))
        self.top_threshold = float(np.percentile(values, 1))
        self.top_count = int(np.sum(values <= self.top_threshold))
        self.top5_threshold = float(np.percentile(values, 5))
        self.top5_count = int(np.sum(values <= self.top5_threshold))
        gaps = values[values > self.optimum] - self.optimum
        # the smallest regret above 0 a single seed can have: where a log axis can stop
        self.smallest_gap = float(gaps.min()) if len(gaps) else 1.0

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def full_epochs(self) -> int:
        """A full training's epochs: the table's schedule."""
        return int(self.table.data["epochs"])

    @property
    def multi_fidelity(self) -> list:
        return [s for s in self.searches if multi_fidelity(s)]

    @property
    def single_fidelity(self) -> list:
        return [s for s in self.searches if not multi_fidelity(s)]

    def epochs_spent(self, run: Run) -> list:
        """Per evaluation: the training epochs the run had spent up to and including it."""
        return list(itertools.accumulate(training_epochs(run.evaluations, self.full_epochs)))

    def regrets(self, run: Run) -> list:
        """Per evaluation: the regret of the run's best network so far (None before its first success)."""
        return [None if best is None else self.means[best.key] - self.optimum
                for best in incumbents(run.evaluations)]

    def found_top(self, run: Run) -> list:
        """Per evaluation: 1 once the run has evaluated a top-1% network successfully, else 0."""
        out, found = [], 0
        for e in run.evaluations:
            found = found or int(e.ok and not e.cached and self.means[e.key] <= self.top_threshold)
            out.append(found)
        return out

    def at(self, run: Run, n: int) -> tuple:
        """(best error observed, regret, found a top-1% network) after the run's first n evaluations;
        the first two are None before its first success."""
        best = best_evaluation(run.evaluations[:n])
        found = any(self.means[e.key] <= self.top_threshold for e in counted(run.evaluations[:n]))
        return (None, None, found) if best is None else (best.error, self.means[best.key] - self.optimum, found)

    def at_epochs(self, run: Run, epochs: int) -> tuple:
        """`at` after the run's evaluations whose cumulative training epochs stay within `epochs`."""
        return self.at(run, bisect_right(self.epochs_spent(run), epochs))

    def measures(self, run: Run, n: int, window: int = rundir.RECENT_WINDOW) -> dict:
        """MEASURES of the run after its first n evaluations: {key: value}, None where a measure needs a
        success and there is none yet. Errors are the ones the search observed, except the table means."""
        ok = counted(run.evaluations[:n])
        best, regret, found = self.at(run, n)
        errors = [e.error for e in ok]
        means = [self.means[e.key] for e in ok]
        return {"best": best, "regret": regret,
                "mean_all": statistics.fmean(errors) if errors else None,
                "mean_last": statistics.fmean(errors[-window:]) if errors else None,
                "best_visited": min(means) if means else None,
                "top5": float(sum(m <= self.top5_threshold for m in means)),
                "top1": float(found)}


@dataclass(frozen=True)
class MeasureSpec:
    """One measure of a search seed on a benchmark table: what it is called, what it measures."""
    key: str
    title: str               # with its unit
    lower_is_better: bool
    digits: int
    measures: str            # the question it answers
    thesis: str = ""         # where the thesis argues from it


MEASURES = (
    MeasureSpec("regret", "Regret (points)", True, 3,
                "what the search returns: the table's mean error of the network it observed best, minus the "
                "optimum's"),
    MeasureSpec("best", "Best error observed (%)", True, 2,
                "what the search saw: its best single observation (the luck of one training seed included when "
                "it observes one seed)", "table 2"),
    MeasureSpec("mean_all", "Mean error of all evaluated (%)", True, 2,
                "where the search spends its budget: the mean observed error of every network it evaluated",
                "figure 5b, §5.1"),
    MeasureSpec("mean_last", "Mean error of the last 50 evaluated (%)", True, 2,
                "where the search is now: the mean observed error of its last 50 evaluations", "figure 5c, §5.1"),
    MeasureSpec("best_visited", "Best table mean among evaluated (%)", True, 2,
                "exploration: the best network it evaluated, by the table's mean, whether or not it recognised it"),
    MeasureSpec("top5", "Top-5% networks evaluated", False, 1,
                "exploration: how many of the table's top 5% networks (by mean error) it evaluated"),
    MeasureSpec("top1", "Found a top-1% network (share of seeds)", False, 2,
                "exploration: whether it evaluated one of the table's top 1% networks"),
)


@dataclass(frozen=True)
class MeasureTest:
    """Two searches compared on one measure at one count: the rank-sum test (PairTest, on the values as they
    are; lower_is_better says which way is better), the means, and which search the test finds better."""
    measure: MeasureSpec
    count: int
    test: PairTest
    mean_a: float
    mean_b: float

    @property
    def a_better(self) -> float:
        """The chance that a seed of a does better than a seed of b on this measure (Vargha–Delaney)."""
        return self.test.effect if self.measure.lower_is_better else 1.0 - self.test.effect

    @property
    def significant(self) -> bool:
        return self.test.p_holm < ALPHA

    @property
    def better(self) -> str | None:
        """The label of the search the test finds better at p (Holm) < ALPHA, else None."""
        if not self.significant or self.a_better == 0.5:
            return None
        return self.test.a if self.a_better > 0.5 else self.test.b


def seed_measures(bench: Benchmark, search: SearchRuns, n: int) -> dict:
    """{measure key: [value per seed with a success by n evaluations]}."""
    values = [bench.measures(r, n) for r in search.runs]
    values = [v for v in values if v["best"] is not None]
    return {m.key: [v[m.key] for v in values] for m in MEASURES}


def measure_tests(bench: Benchmark, searches: Sequence[SearchRuns], n: int) -> list:
    """[MeasureTest] between every pair of `searches` (two or more seeds each) on every measure at n
    evaluations: two-sided Mann–Whitney U, Holm over the pairs of one measure (PairTest.family)."""
    samples = {s.label: seed_measures(bench, s, n) for s in searches}
    eligible = [s.label for s in searches if len(samples[s.label]["best"]) >= 2]
    out = []
    for m in MEASURES:
        for t in pairwise({label: samples[label][m.key] for label in eligible}):
            out.append(MeasureTest(m, n, t, statistics.fmean(samples[t.a][m.key]),
                                   statistics.fmean(samples[t.b][m.key])))
    return out


def benchmarks(searches: Iterable[SearchRuns]) -> tuple[list, list]:
    """([Benchmark] one per table with its searches, in order; [reason] for each table search left out)."""
    found: dict = {}
    reasons = []
    for search in searches:
        specs = {r.table for r in search.runs}
        if specs == {None}:
            continue
        if len(specs) > 1:   # one config, one table; several would be configs grouped apart
            reasons.append(f"{search.label}: its runs name different tables ({', '.join(map(str, specs))})")
            continue
        table, problem = locate_table(specs.pop(), search.runs[0].path)
        problem = problem or _mismatch(search, table)
        if problem:
            reasons.append(f"{search.label}: {problem}")
            continue
        found.setdefault(table.source, Benchmark(table)).searches.append(search)
    return list(found.values()), reasons


def locate_table(spec: str, run_path: Path) -> tuple[bench_table.Table, str] | tuple[None, str]:
    """The table a run's config names: a shipped name, a path from where `era report` runs, or a path
    relative to a folder above the run (where `era search` ran: run_all.sh runs from the repository)."""
    tries = [spec]
    if not Path(spec).is_absolute():
        tries += [str(parent / spec) for parent in Path(run_path).resolve().parents]
    for attempt in tries:
        try:
            table = bench_table.Table.load(attempt)
        except ConfigError:
            continue
        if not table.complete:
            return None, f"table {spec} ({table.source}) is partial: its optimum is not known"
        return table, ""
    return None, f"table {spec} not found (as a shipped name, or a path here or above {run_path})"


def _mismatch(search, table) -> str:
    means = table.mean_errors()
    missing = {e.key for r in search.runs for e in counted(r.evaluations)} - set(means)
    if missing:
        return (f"{len(missing)} of its evaluated networks have no mean error in table {table.name} "
                f"(e.g. {min(missing)}): was the table rebuilt since?")
    return ""


def report_counts(search: SearchRuns) -> list:
    """The COUNTS every seed of `search` reached; when it reached none, the count all its seeds reached."""
    reached = min(len(r.evaluations) for r in search.runs)
    return [n for n in COUNTS if n <= reached] or ([reached] if reached else [])


def common_epochs(bench: Benchmark) -> int:
    """The smallest total training epochs any run of the benchmark spent."""
    return min((bench.epochs_spent(r)[-1] if r.evaluations else 0 for s in bench.searches for r in s.runs),
               default=0)


def seed_regrets(search: SearchRuns, at: Callable[[Run, int], tuple], point: int) -> list:
    """Regret of each seed at `point` (at: Benchmark.at after n evaluations, or Benchmark.at_epochs after n
    epochs), for the seeds with a full training by then."""
    return [regret for _, regret, _ in (at(r, point) for r in search.runs) if regret is not None]
