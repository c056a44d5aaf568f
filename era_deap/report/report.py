"""`era report RUN_DIR... [--out DIR]`: the thesis's figures and tables from run directories.

RUN_DIR may be a run, a search holding seed-k/ runs, a profile (runs/quick) or runs/ itself: every run
dir (evaluations.csv) and final-training dir (final.json) up to three levels below is used. The output
goes to --out, or by default to report/ inside the deepest directory common to the RUN_DIRs
(`era report runs/quick` -> runs/quick/report). Everything is recomputed from evaluations.csv and
final.json; rerunning gives the same files, and outputs no longer produced are removed.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import plots, runs_read, tables

FIGURES = ("fig4", "fig5_evaluations", "fig5_time")
TABLE_STEMS = ("table1", "table2", "table10", "table11", "rank_sum")
OUTPUTS = ({f"{f}.{ext}" for f in FIGURES for ext in ("png", "svg")} | {f"{t}.csv" for t in TABLE_STEMS}
           | {"tables.md", "rank_sum.md", "report.md"})
MAX_MISMATCHES_SHOWN = 3


def run_report(args) -> int:
    collection = runs_read.load(args.run_dirs)
    out = Path(args.out) if args.out else default_out_dir(args.run_dirs)
    for path in write_report(collection, out):
        print(path)
    return 0


def default_out_dir(paths) -> Path:
    """report/ in the deepest directory common to the RUN_DIRs."""
    try:
        common = os.path.commonpath([os.path.normpath(p) for p in paths])
    except ValueError:   # relative and absolute mixed
        common = os.path.commonpath([os.path.abspath(p) for p in paths])
    return Path(common or ".") / "report"


def write_report(collection, out: Path) -> list:
    """Write figures, tables and report.md into `out`; returns the paths written, in order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    searches = collection.searches
    written, figures = [], {}
    if searches:
        unit = plots.time_unit(max((e.elapsed for r in collection.runs for e in r.evaluations), default=0.0))
        palette = plots.colours([s.name for s in searches])
        built = {"fig4": plots.figure4(searches, palette, unit),
                 "fig5_evaluations": plots.figure5(searches, palette, "evaluations", unit),
                 "fig5_time": plots.figure5(searches, palette, "time", unit)}
        for stem, fig in built.items():
            figures[stem] = plots.save(fig, out, stem)
            written += figures[stem]
    table_list = [t for t in [tables.table1(collection)] if t is not None]
    if searches:
        table_list += [tables.table2(searches), *tables.gene_tables(searches)]
    rank_table, rank_reason = tables.rank_sum(searches)
    for table in table_list:
        written.append(table.write_csv(out))
    tables_md = "# Tables\n\n" + "\n".join(t.section() for t in table_list)
    written.append(_write(out / "tables.md", tables_md))
    if rank_table is not None:
        written.append(rank_table.write_csv(out))
        written.append(_write(out / "rank_sum.md", "# Rank-sum tests\n\n" + rank_table.section()))
    written.append(_write(out / "report.md", report_markdown(collection, out, figures, table_list,
                                                             rank_table, rank_reason)))
    _remove_stale(out, written)
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _remove_stale(out: Path, written) -> None:
    # Only our own file names: a report dir may hold the user's notes.
    names = {Path(p).name for p in written}
    for name in OUTPUTS - names:
        (out / name).unlink(missing_ok=True)


# --- report.md ------------------------------------------------------------------------------------

def report_markdown(collection, out: Path, figures: dict, table_list, rank_table, rank_reason: str) -> str:
    parts = ["# ERA search report\n",
             f"{len(collection.searches)} search(es), {len(collection.runs)} run(s), "
             f"{len(collection.finals)} final training(s). Regenerate with `era report`; every number "
             "is recomputed from `evaluations.csv` and `final.json`.\n"]
    if collection.runs:
        parts += ["## Runs\n", _runs_table(collection, out), *_run_notes(collection, out)]
    if figures:
        parts += ["## Figure 4: every evaluation\n",
                  "Validation error (%) of every evaluated network against elapsed time since the search "
                  "started, one panel per search. Hollow markers are cached evaluations (a network the "
                  "search had already evaluated: same error, no budget). Failed evaluations have no error; "
                  "they are drawn as grey crosses in the grey strip at the top of each panel, at the time "
                  "they failed, and counted in the panel title. With several seeds each seed has its own marker shape.\n",
                  _image("Figure 4", figures["fig4"][0]),
                  "## Figure 5: search progress\n",
                  "(a) best error so far, (b) mean error of all successful evaluations so far, (c) mean "
                  "error of the last 50 successful evaluations; failed and cached evaluations (a cached "
                  "one repeats a network already counted) are left out of all three. A search with several seeds is shown as the mean over its "
                  "seeds with a 95% t-interval band (where two or more seeds contribute; cut at 0). "
                  "Against models evaluated a seed counts up to its last evaluation; against time a "
                  "finished seed keeps its final value after it ended, an unfinished one stops.\n",
                  _image("Figure 5 against models evaluated", figures["fig5_evaluations"][0]),
                  _image("Figure 5 against elapsed time", figures["fig5_time"][0])]
    if table_list:
        parts += ["## Tables\n", "Also in `tables.md`, and one CSV per table (exact numbers).\n"]
        parts += [t.section() for t in table_list]
        if not any(t.stem == "table1" for t in table_list):
            parts.append("Table 1 (final training) is left out: no `final.json` was found.\n")
    parts.append("## Rank-sum tests between searches\n")
    parts.append(rank_table.section() if rank_table is not None else rank_reason + "\n")
    return "\n".join(parts)


def _image(alt: str, path: Path) -> str:
    return f"![{alt}]({Path(path).name})\n"


def _runs_table(collection, out: Path) -> str:
    rows = []
    for s in collection.searches:
        for r in s.runs:
            failed = ", ".join(f"{n} {status}" for status, n in sorted(r.failed.items())) or "0"
            elapsed = max((e.elapsed for e in r.evaluations), default=0.0)
            rows.append([s.label, "—" if r.seed is None else r.seed, f"`{_relative(r.path, out)}`",
                         len(r.evaluations), failed, r.cached, _duration(elapsed),
                         _status(r)])
    return tables.markdown(["Search", "Seed", "Run directory", "Evaluated", "Failed", "Cached", "Elapsed",
                            "Status"], rows)


def _status(run) -> str:
    status = "finished" if run.finished else "**unfinished**"
    return status + (f" ({run.stop_reason})" if run.stop_reason else "")


def _run_notes(collection, out: Path) -> list:
    lines = []
    for r in collection.runs:
        notes = list(r.notes)
        mismatches = runs_read.logbook_mismatches(r)
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
