"""report.md: the one page that shows everything `era report` wrote, with what the reader must know
first (configs merged under one name, unequal budgets) and a caption that says how to read each
figure."""
from __future__ import annotations

import os
from pathlib import Path

from . import pareto_section, plots, tables
from .comparison import unequal_budget_notes
from .curves import logbook_mismatches
from .figure5 import window_equals_all
from .searches import config_conflicts

MAX_MISMATCHES_SHOWN = 3


def report_markdown(collection, out: Path, built) -> str:
    searches = collection.searches
    parts = ["# ERA search report\n",
             f"{len(searches)} search(es), {len(collection.runs)} run(s), "
             f"{len(collection.finals)} final training(s). Regenerate with `era report`; every number "
             "is recomputed from `evaluations.csv` and `final.json`.\n"]
    parts += [f"> **Warning.** {line}\n" for line in config_conflicts(searches) + unequal_budget_notes(searches)]
    if collection.runs:
        parts += ["## Runs\n", _runs_table(collection, out), *_run_notes(collection, out)]
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
        parts += pareto_section.markdown(built.pareto)
    parts.append("## Rank-sum tests between searches\n")
    parts.append(built.rank_table.section() if built.rank_table is not None else built.rank_reason + "\n")
    return "\n".join(parts)


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
            f"kind.{seeds}{_clock_note(runs)}\n",
            _image("Figure 4", built.figures["fig4"][0]),
            "## Figure 5: search progress\n",
            f"(a) best error so far, (b) mean error of all successful evaluations so far, (c) mean error of the "
            f"last {window} successful evaluations (`--window`, default 50 as in the thesis); failed and cached "
            "evaluations (a cached one repeats a network already counted) are left out of all three."
            f"{window_note} A search with several seeds is shown as the mean over its seeds with a 95% "
            "t-interval band (where two or more seeds contribute; cut at 0). Against models evaluated a seed "
            "counts up to its last evaluation; against time a finished seed keeps its final value after it "
            "ended, an unfinished one stops.\n",
            _image("Figure 5 against models evaluated", built.figures["fig5_evaluations"][0]),
            _image("Figure 5 against time", built.figures["fig5_time"][0])]


def _clock_note(runs) -> str:
    clocks = {r.clock for r in runs}
    if "simulated" not in clocks:
        return ""
    which = "These runs" if clocks == {"simulated"} else "Runs on a benchmark table"
    return (f" {which} looked their networks up in a benchmark table: their time is simulated, the "
            "training seconds the table recorded for each network looked up, summed (divided among the "
            "workers), not the wall time of the look-ups.")


def _benchmark(searches, built) -> list:
    parts = ["## Benchmark: regret and top-1% networks\n"]
    on_table = [s for s in searches if any(r.table for r in s.runs)]
    if not built.benches:
        reason = ("the runs were not made on a benchmark table (`evaluator: {objective: table}`), so the "
                  "optimum is not known" if not on_table else "; ".join(built.bench_reasons))
        return parts + [f"Left out: {reason}.\n"]
    for bench in built.benches:
        data = bench.data
        stems = list(bench.figures)
        parts += [f"### Table `{data.name}`\n",
                  f"Optimum: {data.optimum_key}, mean error {data.optimum:.2f}% over the table's training seeds. "
                  "Regret: the table's mean error (over its seeds) of the network a search has found best so far "
                  "minus the optimum's, in percentage points; the mean over seeds keeps it at 0 or above, and "
                  "measures the network, not the luck of the one seed the search saw. Mean over the seeds that "
                  "reached each count, with a 95% t-interval band, log scale; regret 0 is drawn at the dotted "
                  "floor.\n",
                  _image(f"Regret on {data.name}", bench.figures[stems[0]][0]),
                  f"Share of each search's seeds that have successfully evaluated a top-1% network: one of the "
                  f"{data.top_count} networks whose mean error is at most {data.top_threshold:.2f}% (the 1st "
                  "percentile of the table's mean errors, as `era bench info` gives it). Where searches "
                  "coincide (evolutions and local search may start with the same random sample for a seed) "
                  "the one listed last is drawn on top.\n",
                  _image(f"Top-1% networks found on {data.name}", bench.figures[stems[1]][0]),
                  bench.table.section(),
                  bench.rank_table.section() if bench.rank_table is not None else bench.rank_reason + "\n"]
        if len(stems) > 2:
            parts += ["Multi-fidelity searches trained some networks for the first epochs of the schedule only "
                      "(rungs; docs/multifidelity.md). At equal training, the regret against the training epochs "
                      "spent so far (a rung costs its epochs, a cache hit nothing); the regret counts full "
                      "trainings only. Mean over the seeds that had trained that much, 95% band.\n",
                      _image(f"Regret against training epochs on {data.name}", bench.figures[stems[2]][0]),
                      *_at_equal_epochs(bench)]
    left_out = [s.label for s in searches if not any(r.table for r in s.runs)]
    if left_out:
        parts.append(f"Not on a benchmark table, so left out here: {', '.join(left_out)}.\n")
    parts += [f"Left out: {reason}.\n" for reason in built.bench_reasons]
    return parts


def _at_equal_epochs(bench) -> list:
    """The table and the regret tests at equal training epochs: every search, multi-fidelity included."""
    if bench.epochs_table is None:
        return ["No table at equal training epochs: some run on the table spent no training epochs.\n"]
    tests = bench.epochs_rank_table
    return [bench.epochs_table.section(), tests.section() if tests is not None else bench.epochs_rank_reason + "\n"]


def _image(alt: str, path: Path) -> str:
    return f"![{alt}]({Path(path).name})\n"


def _runs_table(collection, out: Path) -> str:
    rows = []
    for s in collection.searches:
        for r in s.runs:
            failed = ", ".join(f"{n} {status}" for status, n in sorted(r.failed.items())) or "0"
            elapsed = max((e.elapsed for e in r.evaluations), default=0.0)
            clock = " (simulated)" if r.clock == "simulated" else ""
            rows.append([s.label, "—" if r.seed is None else r.seed, f"`{_relative(r.path, out)}`",
                         len(r.evaluations), failed, r.cached, _duration(elapsed) + clock, _status(r)])
    return tables.markdown(["Search", "Seed", "Run directory", "Evaluated", "Failed", "Cached", "Time",
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
            more = f" (and {len(mismatches) - MAX_MISMATCHES_SHOWN} more)" if len(mismatches) > MAX_MISMATCHES_SHOWN else ""
            notes.append(f"logbook.json disagrees with evaluations.csv, which the report uses: {shown}{more}")
        lines += [f"- `{_relative(r.path, out)}`: {n}" for n in notes]
    return ["Notes:\n", "\n".join(lines) + "\n"] if lines else []


def _relative(path: Path, out: Path) -> str:
    return os.path.relpath(Path(path).resolve(), Path(out).resolve())


def _duration(seconds: float) -> str:
    per_unit, unit = plots.time_unit(seconds)
    return f"{seconds / per_unit:.1f} {unit}"
