"""report.md: the one page that shows everything `era report` wrote (report.py), with what the reader
must know first (configs merged under one name, unequal budgets), then its answer (the summary: the
question, the verdicts with their measures, seeds, p and resolution, the thesis claim each answers), and a
caption that says how to read each figure; the per-run table comes last. Text only: the figures and tables
are made and written before, and found here by name.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..bench.summary import resolution_text
from ..search.failures import cluster_warning, failure_clusters
from ..search.outputs import markdown_table
from .figures import figure4_log_scale, time_unit
from .pareto import logbook_disagreements
from .statistics import MEASURES, ZOOM_SKIP, logbook_mismatches, window_equals_all

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Protocol

    from .runs import Collection, SearchRuns
    from .tables import ReportTable

    class Built(Protocol):
        """report.py's Built, as read here (imported, it would close an import circle: report.py imports this
        module)."""
        window: int
        figures: dict
        tables: list
        rank_table: ReportTable | None
        rank_reason: str
        benches: list
        bench_reasons: list
        pareto: object   # report.py's ParetoPart, or None

MAX_MISMATCHES_SHOWN = 3
MAX_DISAGREEMENTS_SHOWN = 3
MAX_KEYS_SHOWN = 5

def report_markdown(collection: Collection, out: Path, built: Built) -> str:
    searches = collection.searches
    parts = ["# ERA search report\n",
             f"{len(searches)} search(es), {len(collection.runs)} run(s), "
             f"{len(collection.finals)} final training(s). Regenerate with `era report`; every number "
             "is recomputed from `evaluations.csv` and `final.json`.\n"]
    warnings = (config_conflicts(searches) + failure_cluster_notes(searches) + unequal_budget_notes(searches)
                + collection.skipped)
    parts += [f"> **Warning.** {line}\n" for line in warnings]
    parts += epoch_budget_note(searches)
    if searches:
        parts += summary(searches, built)
    if built.figures:
        parts += _figures(searches, built)
    if built.tables:
        parts += ["## Tables\n", "Also in `tables.md`, and one CSV per table (exact numbers).\n"]
        parts += [t.section() for t in built.tables]
        if not any(t.stem == "table1" for t in built.tables):
            parts.append("Table 1 (final training) is left out: no `final.json` was found.\n")
    if searches:
        parts += _benchmark(searches, built)
    if built.pareto is not None:
        parts += _pareto(built.pareto)
    parts.append("## Rank-sum tests between searches\n")
    parts.append(built.rank_table.section() if built.rank_table is not None else built.rank_reason + "\n")
    if collection.runs:
        parts += ["## Runs\n", _runs_table(collection, out), *_run_notes(collection, out)]
    return "\n".join(parts)


# --- the summary: the answer first ----------------------------------------------------------------

# The thesis's claims a pair of strategy kinds answers: (kind A, kind B, the claim, counts it is read at).
# A is the one the thesis finds worse; None: the largest count compared.
THESIS_CLAIMS = (
    ("random_search", "regularized_evolution", "evolution beats random search (§5.1; §5.4, question 2)", None),
    ("random_search", "evolution", "evolution beats random search (§5.1; §5.4, question 2)", None),
    ("evolution", "regularized_evolution", "regularized evolution: less greedy than plain evolution, stronger in "
                                           "the end (§5.1, figure 5c)", None),
    ("regularized_evolution", "bayesian_optimization", "BO is more sample efficient (§5.1; §5.4, question 2)", 50),
    ("regularized_evolution", "bayesian_optimization", "BO is more sample efficient; the others catch up later "
                                                       "(§5.1, figure 5c)", None),
    ("evolution", "local_search", "local search and evolution alike on average (§5.1, figures 5b, 5c)", None),
)


def summary(searches: Sequence[SearchRuns], built: Built) -> list:
    """The report's answer: per benchmark table the question, the verdicts on the thesis's claims with their
    measures, seeds, p and resolution; off a table, the rank-sum tests on the best error."""
    parts = ["## Summary\n"]
    benches = [b for b in built.benches if b.measure_tests]
    for bench in benches:
        parts += _bench_summary(bench)
    if not benches:
        parts += _plain_summary(searches, built)
    return parts


def _bench_summary(bench) -> list:
    data, found = bench.data, bench.measure_tests
    last = max(t.count for t in found)
    searches = [s for s in data.single_fidelity if len(s.runs) >= 2]
    seeds = sorted({len(s.runs) for s in searches})
    observe = sorted({str((r.search_config or {}).get("evaluator.observe", "seed")) for s in searches
                      for r in s.runs})
    seen = {"mean": "each look-up reads the network's mean over the table's seeds",
            "seed": "each look-up reads one training seed, as a live search trains once"}
    lines = [f"**Question.** On benchmark table `{data.name}` (its optimum known: {data.optimum:.2f}%), which of "
             f"the {len(searches)} searches returns the better network, and how do they search? Each search over "
             f"{' or '.join(map(str, seeds))} seeds, compared at {last} evaluations (observe: "
             + "; ".join(f"{o}, {seen.get(o, o)}" for o in observe) + ").\n"]
    by_kind = {}
    for s in searches:
        by_kind.setdefault(s.kind, s.label)
    rows = []
    for kind_a, kind_b, claim, count in THESIS_CLAIMS:
        if kind_a in by_kind and kind_b in by_kind:
            at = count if count in {t.count for t in found} else last
            if count is not None and at == last:
                continue    # the claim at an early count that was not compared
            rows.append((by_kind[kind_a], by_kind[kind_b], claim, at))
    claimed = {frozenset((a, b)) for a, b, _, _ in rows}
    if not rows:
        rows = [(t.test.a, t.test.b, "—", last) for t in found if t.count == last and t.measure.key == "regret"]
    table = [[claim, f"{a} vs {b}", at, *[_verdict_cell(t, a, b) for t in found
                                          if t.count == at and {t.test.a, t.test.b} == {a, b}]]
             for a, b, claim, at in rows]
    lines.append(markdown_table(["Thesis claim", "A vs B", "Evaluations", *[m.title for m in MEASURES]], table))
    family = found[0].test.family
    lines.append(f"Each cell: the means of A and B over their seeds, and who is better at p (Holm) < 0.05 "
                 f"(two-sided Mann–Whitney U on the seeds; Holm over the {family} pairs of one measure at one "
                 "count), or *not detected* with the smallest difference in means this many seeds detects with 80% "
                 "power (≥ X). The measures answer different questions: "
                 + "; ".join(f"{m.title.split(' (')[0].lower()}: {m.measures}" for m in MEASURES) + ".\n")
    others = [t for t in found if t.count == last and t.measure.key == "regret"
              and frozenset((t.test.a, t.test.b)) not in claimed]
    if others and claimed:
        differ = [f"{t.better} over {t.test.b if t.better == t.test.a else t.test.a} (p {t.test.p_holm:.2g})"
                  for t in others if t.better]
        lines.append(f"The other {len(others)} pairs on the regret at {last}: "
                     + (f"better: {'; '.join(differ)}" if differ else "no difference detected") + " (all pairs "
                     "and measures: the tests on the thesis's measures in the benchmark part).\n")
    if bench.resolution:
        lines.append(f"What the table can resolve: {resolution_text(bench.resolution)}. The regret of two searches "
                     "that return different networks among those can differ by luck alone.\n")
    return lines


def _verdict_cell(test, a: str, b: str) -> str:
    """A MeasureTest as a cell of the pair (a, b) in that order."""
    digits = test.measure.digits
    mean_a, mean_b = (test.mean_a, test.mean_b) if test.test.a == a else (test.mean_b, test.mean_a)
    values = f"{mean_a:.{digits}f} vs {mean_b:.{digits}f}"
    if test.better is not None:
        return f"{values}: **{'A' if test.better == a else 'B'} better**, p {test.test.p_holm:.2g}"
    detectable = test.test.detectable
    return f"{values}: not detected" + ("" if detectable is None else f" (≥ {detectable:.2g})")


def _plain_summary(searches, built) -> list:
    """Off a benchmark table: the rank-sum tests on the best error, or why there are none."""
    table = built.rank_table
    if table is None:
        return ["No comparison between searches: " + (built.rank_reason or "nothing to compare.") + " One run "
                "of a search is an anecdote (docs/bench.md).\n"]
    n = table.rows[0]["evaluations"]
    lines = [f"**Question.** Which search finds the lower best error within {n} evaluations? Two-sided "
             f"Mann–Whitney U on each seed's best error; p (Holm) over the {len(table.rows)} pairs.\n"]
    for row in table.rows:
        a, b = row["search_a"], row["search_b"]
        detectable = row.get("detectable_80")
        if row["p_holm"] < 0.05:
            said = f"{a if row['vargha_delaney_a'] > 0.5 else b} lower, p (Holm) {row['p_holm']:.2g}"
        else:
            said = "no difference detected" + ("" if detectable in ("", None) else
                                               f"; this comparison could detect ≥ {detectable:.2g} points")
        lines.append(f"- {a} vs {b} (seeds {row['n_a']} and {row['n_b']}; medians {row['median_a']:.2f}% and "
                     f"{row['median_b']:.2f}%): {said}.")
    return ["\n".join(lines) + "\n"]


def config_conflicts(searches: Sequence[SearchRuns]) -> list:
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


def failure_cluster_notes(searches: Iterable[SearchRuns]) -> list:
    """One line per search whose failures, pooled over its seeds, cluster at a gene value
    (search/failures.py's rule)."""
    lines = []
    for s in searches:
        warning = cluster_warning(failure_clusters(e for r in s.runs for e in r.evaluations))
        if warning:
            lines.append(f"In {s.label} {warning}.")
    return lines


def unequal_budget_notes(searches: Iterable[SearchRuns]) -> list:
    """One warning per search whose seeds reached different evaluation counts, and none for searches with an
    epoch budget (`budget_epochs`), whose seeds are expected to differ (multi_fidelity_count_note)."""
    lines = []
    for s in searches:
        counts = {r.seed: len(r.evaluations) for r in s.runs}
        if len(set(counts.values())) > 1 and not _epoch_budget(s):
            shown = ", ".join(f"seed {seed}: {n}" for seed, n in counts.items())
            lines.append(f"The seeds of {s.label} reached different evaluation counts ({shown}); figures count "
                         "each seed up to its last evaluation, comparisons cut every seed at the same count.")
    return lines


def epoch_budget_note(searches: Iterable[SearchRuns]) -> list:
    """One plain note (not a warning) for the searches with an epoch budget whose seeds reached different
    evaluation counts: expected, since the epochs, not the evaluations, are what each seed spends."""
    differ = [s for s in searches if _epoch_budget(s) and len({len(r.evaluations) for r in s.runs}) > 1]
    if not differ:
        return []
    ranges = "; ".join(f"{s.label} {min(len(r.evaluations) for r in s.runs)}–{max(len(r.evaluations) for r in s.runs)}"
                       for s in differ)
    return [f"The seeds of searches with an epoch budget (`budget_epochs`) reached different evaluation counts, as "
            f"expected: each seed spends the same training epochs on different numbers of networks ({ranges} "
            "evaluations). Figures count each seed up to its last evaluation, curves stopping where fewer than half "
            "of the seeds contribute; past the first seed's end a curve is the mean of the seeds still going, so "
            "a best-so-far curve can step up there (a lucky seed ended). These searches are compared at equal "
            "training epochs.\n"]


def _epoch_budget(search) -> bool:
    return any((r.search_config or {}).get("budget_epochs") for r in search.runs)


# --- runs -----------------------------------------------------------------------------------------

def _runs_table(collection, out: Path) -> str:
    rows = []
    for s in collection.searches:
        for r in s.runs:
            failed = ", ".join(f"{n} {status}" for status, n in sorted(r.failed.items())) or "0"
            elapsed = max((e.elapsed for e in r.evaluations), default=0.0)
            clock = " (simulated)" if r.clock == "simulated" else ""
            rows.append([s.label, "—" if r.seed is None else r.seed, f"`{_relative(r.path, out)}`",
                         len(r.evaluations), failed, r.cached, _duration(elapsed) + clock, _status(r)])
    return markdown_table(["Search", "Seed", "Run directory", "Evaluated", "Failed", "Cached", "Time",
                           "Status"], rows)


def _status(run) -> str:
    status = "finished" if run.finished else "**unfinished**"
    return status + (f" ({run.stop_reason})" if run.stop_reason else "")


def _run_notes(collection, out: Path) -> list:
    lines = []
    for r in collection.runs:
        notes = list(r.notes)
        mismatches = logbook_mismatches(r)
        if mismatches:
            shown = "; ".join(mismatches[:MAX_MISMATCHES_SHOWN])
            hidden = len(mismatches) - MAX_MISMATCHES_SHOWN
            more = f" (and {hidden} more)" if hidden > 0 else ""
            notes.append(f"logbook.json disagrees with evaluations.csv, which the report uses: {shown}{more}")
        lines += [f"- `{_relative(r.path, out)}`: {n}" for n in notes]
    return ["Notes:\n", "\n".join(lines) + "\n"] if lines else []


def _relative(path: Path, out: Path) -> str:
    return os.path.relpath(Path(path).resolve(), Path(out).resolve())


def _duration(seconds: float) -> str:
    per_unit, unit = time_unit(seconds)
    return f"{seconds / per_unit:.1f} {unit}"


# --- figures 4 and 5 ------------------------------------------------------------------------------

def _figures(searches, built) -> list:
    runs = [r for s in searches for r in s.runs]
    several = any(len(s.runs) > 1 for s in searches)
    seeds = (" With several seeds, every seed's evaluations are faint points and the median seed (by best "
             "error; the lower of the middle two with an even count) is drawn in full colour, with its best "
             "error so far as a dark line; the panel title names it.") if several else (
             " The dark line is the best error so far.")
    window = built.window
    if window_equals_all(searches, window):
        window_note = (f" Here (c) equals (b): no run has more than {window} counted evaluations; "
                       "`era report --window N` with a smaller N shows a shorter window.")
    else:
        window_note = f" (c) equals (b) until a run's {window}th counted evaluation."
    return ["## Figure 4: every evaluation\n",
            "Validation error (%) of every evaluated network against time since the search started, one panel "
            "per search. Hollow markers are cached evaluations (a network the search had already evaluated: "
            "same error, no budget). Failed evaluations have no error; the box in each panel counts them by "
            f"kind.{seeds}{_clock_note(runs)}{_figure4_scale_note(runs)}\n",
            _image("Figure 4", built.figures["fig4"][0]),
            "## Figure 5: search progress\n",
            f"(a) best error so far, (b) mean error of all successful evaluations so far, (c) mean error of the "
            f"last {window} successful evaluations (`--window`, default 50 as in the thesis); failed and cached "
            "evaluations (a cached one repeats a network already counted) are left out of all three."
            f"{window_note} A search with several seeds is shown as the mean over its seeds with a 95% "
            "t-interval band (where two or more seeds contribute; cut at 0); a curve stops where fewer than half "
            "of its seeds contribute. Against models evaluated a seed counts up to its last evaluation; against "
            "time a finished seed keeps its final value after it ended, an unfinished one stops. Each y axis "
            f"shows the curves after the first {ZOOM_SKIP:.0%} of the x axis, where they differ: the first "
            "evaluations' errors (tens of percent) start above the top.\n",
            _image("Figure 5 against models evaluated", built.figures["fig5_evaluations"][0]),
            _image("Figure 5 against time", built.figures["fig5_time"][0])]


def _figure4_scale_note(runs) -> str:
    errors = [e.error for r in runs for e in r.evaluations if e.ok]
    return (" The error axis is logarithmic (the errors span a factor of 10 or more), so the best so far stands "
            "clear of the axis." if figure4_log_scale(errors) else "")


def _clock_note(runs) -> str:
    clocks = {r.clock for r in runs}
    if "simulated" not in clocks:
        return ""
    which = "These runs" if clocks == {"simulated"} else "Runs on a benchmark table"
    return (f" {which} looked their networks up in a benchmark table: their time is simulated, the "
            "training seconds the table recorded for each network looked up, summed (divided among the "
            "workers), not the wall time of the look-ups.")


def _image(alt: str, path: Path) -> str:
    return f"![{alt}]({Path(path).name})\n"


# --- benchmark tables -----------------------------------------------------------------------------

def _benchmark(searches, built) -> list:
    parts = ["## Benchmark: regret and top-1% networks\n"]
    on_table = [s for s in searches if any(r.table for r in s.runs)]
    if not built.benches:
        reason = ("the runs were not made on a benchmark table (`evaluator: {objective: table}`), so the "
                  "optimum is not known" if not on_table else "; ".join(built.bench_reasons))
        return parts + [f"Left out: {reason}.\n"]
    for bench in built.benches:
        data, figures = bench.data, bench.figures
        parts += [f"### Table `{data.name}`\n",
                  f"Optimum: {data.optimum_key}, mean error {data.optimum:.2f}% over the table's training seeds. "
                  "Regret: the table's mean error (over its seeds) of the network a search has found best so far "
                  "minus the optimum's, in percentage points; the mean over seeds keeps it at 0 or above, and "
                  "measures the network, not the luck of the one seed the search saw. Mean over the seeds that "
                  "reached each count, with a 95% t-interval band, log scale, zoomed to the curves after the first "
                  f"{ZOOM_SKIP:.0%} of the evaluations; a curve stops where fewer than half of its seeds "
                  "contribute, and a regret of 0 (every seed found the optimum), where one occurs, is drawn at the "
                  f"dotted floor. {_regret_rise_note(bench)}\n",
                  _image(f"Regret on {data.name}", figures["regret"][0]),
                  f"Share of each search's seeds that have successfully evaluated a top-1% network: one of the "
                  f"{data.top_count} networks whose mean error is at most {data.top_threshold:.2f}% (the 1st "
                  "percentile of the table's mean errors, as `era bench info` gives it). Where searches "
                  "coincide (evolutions and local search may start with the same random sample for a seed) "
                  "the one listed last is drawn on top.\n",
                  _image(f"Top-1% networks found on {data.name}", figures["top1"][0]),
                  bench.table.section() if bench.table is not None else
                  "No single-fidelity search on this table, so no comparison at evaluation counts: the "
                  "multi-fidelity searches are compared at equal training epochs below.\n",
                  bench.rank_table.section() if bench.rank_table is not None else bench.rank_reason + "\n"]
        if bench.resolution:
            parts.append(f"The table's resolution: {resolution_text(bench.resolution)}.\n")
        if bench.measures_table is not None:
            parts.append(bench.measures_table.section())
            parts.append(bench.measure_tests_table.section() if bench.measure_tests_table is not None
                         else bench.measure_tests_reason + "\n")
        if "regret_epochs" in figures:
            parts += ["Multi-fidelity searches trained some networks for the first epochs of the schedule only "
                      "(rungs; docs/multifidelity.md). At equal training, the regret against the training epochs "
                      "spent so far (a rung costs its epochs, a cache hit nothing); the regret counts full "
                      "trainings only. Mean over the seeds that had trained that much, 95% band.\n",
                      _image(f"Regret against training epochs on {data.name}", figures["regret_epochs"][0]),
                      *_at_equal_epochs(bench)]
    left_out = [s.label for s in searches if not any(r.table for r in s.runs)]
    if left_out:
        parts.append(f"Not on a benchmark table, so left out here: {', '.join(left_out)}.\n")
    parts += [f"Left out: {reason}.\n" for reason in built.bench_reasons]
    return parts


def _regret_rise_note(bench) -> str:
    """Why a regret curve can rise, or why here it cannot: the network credited is the one with the best
    *observed* error, and the regret is its table mean."""
    observe = {str((r.search_config or {}).get("evaluator.observe", "seed")) for s in bench.data.searches
               for r in s.runs}
    if observe == {"mean"}:
        return ("These searches observe each network's table mean (`observe: mean`), so the network with the best "
                "observed error is the one with the best mean, and a seed's regret never rises.")
    return ("A seed's regret can rise: the network credited is the one with the best *observed* error (one "
            "training seed's), and a later network observed lower may have a worse table mean. With "
            "`observe: mean` it cannot.")


def _at_equal_epochs(bench) -> list:
    """The table and the regret tests at equal training epochs: every search, multi-fidelity included."""
    if bench.epochs_table is None:
        return ["No table at equal training epochs: some run on the table spent no training epochs.\n"]
    tests = bench.epochs_rank_table
    return [bench.epochs_table.section(), tests.section() if tests is not None else bench.epochs_rank_reason + "\n"]


# --- multi-objective ------------------------------------------------------------------------------

def _pareto(part) -> list:
    """The multi-objective section (report.py's ParetoPart), as a list of paragraphs."""
    parts = ["## Multi-objective: Pareto fronts and hypervolume\n", _pareto_intro(part.fronts),
             _image("Pareto fronts", part.figures["pareto"][0]), _pareto_caption(part),
             _image("Hypervolume against models evaluated", part.figures["hypervolume"][0]),
             _hypervolume_caption(part)]
    parts += [t.section() for t in part.tables]
    parts.append(part.rank_table.section() if part.rank_table is not None else part.rank_reason + "\n")
    for tables in part.table_tables:
        parts += [t.section() for t in tables]
    if part.gaps:
        on_table = {f.search.key for gap in part.gaps for f in gap.fronts}
        left = [f.search.label for f in part.fronts if f.search.key not in on_table]
        if left:
            parts.append(f"Not on a benchmark table, so without a gap: {', '.join(left)}.\n")
    notes = _disagreements(part.fronts, part.out)
    if notes:
        parts += ["Notes:\n", "\n".join(f"- {n}" for n in notes) + "\n"]
    return parts


def _pareto_intro(fronts) -> str:
    searched = "; ".join(f"{f.search.label}: {', '.join(f.objectives)}" for f in fronts)
    text = ("Every search on one plane: validation error against trainable parameters, both minimised. A search "
            "that minimised the error only gets a front too, that of the networks it evaluated, so it is measured "
            f"the same way. Minimised (the saved `config.yaml`'s `objectives`): {searched}.")
    other = [f.search.label for f in fronts if f.objectives not in (["error"], ["error", "params"])]
    if other:
        text += (f" {', '.join(other)} minimised other costs as well or instead; here it is measured on error x "
                 "params like the others (its own front over all its objectives is `front` in each run's "
                 "`summary.json`).")
    return text + "\n"


def _pareto_caption(part) -> str:
    several = any(len(f.runs) > 1 for f in part.fronts)
    text = ("Faint points: every successfully evaluated network (cached repeats left out) of every seed, in its "
            "search's colour. Bold: " + ("each search's median seed's front (the seed with the median final "
                                         "hypervolume, the lower of the middle two; named in the legend), "
                                         "not the union or the attainment surface of the seeds. " if several
                                         else "each search's front. ")
            + "A front is drawn as the staircase it attains: each network holds its error to the right until one "
            "with more parameters and a lower error takes over. Errors are the ones the search observed (one "
            "training seed per network).")
    if part.gaps:
        text += (" Dashed black: the true front of the benchmark table, every network at its mean error over the "
                 "table's training seeds; a search's observed front may dip below it by a lucky seed.")
    return text + "\n"


def _hypervolume_caption(part) -> str:
    text = ("(a) the hypervolume of the front found so far, mean over seeds with a 95% t-interval band (drawn "
            "where two or more seeds contribute), against models evaluated; failed and cached evaluations carry "
            "it forward. Where searches coincide (random search and the evolutions start from the same random "
            "networks for a seed) the one listed last is drawn on top. "
            "The hypervolume is `search/fitness.py`'s, the same for every run and every strategy: "
            "error / 100 and log10(params) scaled from [1, 9] to [0, 1], reference point (1.1, 1.1), computed by "
            "moocore (DEAP's own indicator); for a run that minimised [error, params] it equals the `hypervolume` "
            "of its logbook.")
    if part.gaps:
        text += (" Further panels, one per benchmark table: the gap, the true front's hypervolume minus that of "
                 "the found front with its networks measured at the table's mean errors (as the regret measures "
                 "the best network): it is >= 0, and 0 only when the networks found dominate all the true front "
                 "does (drawn at the dotted floor of the log axis).")
    return text + "\n"


def _disagreements(fronts, out: Path) -> list:
    lines = []
    for f in fronts:
        for r in f.runs:
            found = logbook_disagreements(r)
            if found:
                shown = "; ".join(found[:MAX_DISAGREEMENTS_SHOWN])
                hidden = len(found) - MAX_DISAGREEMENTS_SHOWN
                more = f" (and {hidden} more)" if hidden > 0 else ""
                where = os.path.relpath(Path(r.run.path).resolve(), out.resolve())
                lines.append(f"`{where}`: logbook.json's hypervolume disagrees with the one recomputed from "
                             f"evaluations.csv: {shown}{more}")
    return lines
