"""Series derived from one run's evaluations (runs_read.Evaluation rows, in arrival order).

Only successful evaluations that cost budget count: a failure has no error, and a cached row repeats
a network already counted, whose first evaluation is the one credited (as the driver does).
"""
from __future__ import annotations

from ..search import rundir
from ..search.records import RUNNING_FIELDS, RunningErrors


def counted(evaluations) -> list:
    """The successful, non-cached evaluations of full trainings (a multi-fidelity evaluation of the
    schedule's first epochs does not compare with them)."""
    return [e for e in evaluations if e.ok and not e.cached and e.epochs is None]


def multi_fidelity(search) -> bool:
    """Whether some run of the search trained networks for the schedule's first epochs only (rungs):
    it makes many cheap evaluations, so it compares with others at equal epochs, not evaluations."""
    return any(e.epochs is not None for r in search.runs for e in r.evaluations)


def training_epochs(evaluations, full: int) -> list:
    """Per evaluation: the training epochs it cost. A rung costs its epochs, a full training the
    schedule's `full`, a cache hit nothing (the network was trained before); a failure counts as trained."""
    return [0 if e.cached else (e.epochs or full) for e in evaluations]


def best_evaluation(evaluations):
    """The counted evaluation with the lowest error, earliest on ties; None before the first."""
    ok = counted(evaluations)
    return min(ok, key=lambda e: (e.error, e.index)) if ok else None


def incumbents(evaluations) -> list:
    """Per evaluation (failed and cached ones included): best_evaluation of the evaluations up to it."""
    out, best = [], None
    for e in evaluations:
        if e.ok and not e.cached and e.epochs is None and (best is None or e.error < best.error):
            best = e
        out.append(best)
    return out


def anytime_curves(evaluations, window: int = rundir.RECENT_WINDOW) -> dict:
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


def logbook_mismatches(run, tolerance: float = 1e-6) -> list:
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
