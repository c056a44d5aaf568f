"""Figures that must stay readable and say what they show: figure 4 with twenty seeds and overlapping
failures, figure 5's window (`era report --window`), and the time axis of runs on a simulated clock."""
import json

import numpy as np
import pytest
from test_report import write_run

from era_deap.cli import main
from era_deap.report import figures, runs
from era_deap.report.figures import figure4, figure5
from era_deap.report.statistics import anytime_curves, best_evaluation
from era_deap.search import rundir

SEEDS = 20


def test_figure4_with_twenty_seeds_highlights_the_median_seed_and_counts_failures(tmp_path):
    root = tmp_path / "runs"
    for seed in range(SEEDS):   # seed 0 has 14 failures in a row: they overlap in time
        failures = {i: "oom" for i in range(20, 34)} if seed == 0 else {}
        write_run(root / f"seed-{seed}", "evolution", seed, 60, failures=failures, low=2.0 + seed % 7)
    (search,) = runs.load([root]).searches
    palette = figures.colours([search.key])
    (ax,) = [a for a in figure4([search], palette, figures.time_unit(3600)).axes if a.get_visible()]
    bests = sorted((best_evaluation(r.evaluations).error, k) for k, r in enumerate(search.runs))
    median = search.runs[bests[(SEEDS - 1) // 2][1]]
    highlighted = [c for c in ax.collections if c.get_gid() == "median:evolution"]
    assert len(highlighted) == 1
    assert len(highlighted[0].get_offsets()) == len([e for e in median.evaluations if e.ok and not e.cached])
    faint = [c for c in ax.collections if c.get_gid() == "ok:evolution"]
    assert len(faint) == SEEDS - 1 and all(c.get_alpha() < 0.5 for c in faint)
    assert f"median seed (full colour): seed {median.seed}" in ax.get_title()
    # one marker shape for every seed (no seed can look like a failure), failures as a number in a box
    assert len({tuple(map(tuple, c.get_paths()[0].vertices)) for c in faint + highlighted}) == 1
    assert not any(line.get_marker() == "x" for line in ax.get_lines())
    (box,) = [t for t in ax.texts if t.get_gid() == "failed:evolution"]
    assert box.get_text() == "failed: 14 oom" and "14 failed" in ax.get_title()


def test_window_sets_figure5_c_and_the_caption_says_when_c_equals_b(tmp_path):
    run = tmp_path / "runs" / "evolution"
    write_run(run, "evolution", 0, 30)
    assert main(["report", str(run), "--out", str(tmp_path / "w50")]) == 0
    page = (tmp_path / "w50" / "report.md").read_text()
    assert "Here (c) equals (b): no run has more than 50 counted evaluations" in page
    assert main(["report", str(run), "--out", str(tmp_path / "w10"), "--window", "10"]) == 0
    page = (tmp_path / "w10" / "report.md").read_text()
    assert "last 10 successful evaluations" in page and "until a run's 10th counted evaluation" in page
    (search,) = runs.load([run]).searches
    fig = figure5([search], figures.colours([search.key]), "evaluations", figures.time_unit(60), window=10)
    panel_c = fig.axes[2]
    assert panel_c.get_title() == "(c) mean of the last 10 evaluated"
    errors = [e.error for e in search.runs[0].evaluations]
    last10 = [errors[max(0, i - 9):i + 1] for i in range(len(errors))]
    assert list(panel_c.get_lines()[0].get_ydata()) == pytest.approx([sum(w) / len(w) for w in last10])
    # the logbook holds the last 50 whatever --window says: it is still checked against that
    assert "disagrees" not in page
    assert anytime_curves(search.runs[0].evaluations)["mean_last50"][-1] == pytest.approx(sum(errors) / len(errors))


def test_window_must_be_positive(tmp_path, capsys):
    write_run(tmp_path / "evolution", "evolution", 0, 5)
    with pytest.raises(SystemExit) as exit_:
        main(["report", str(tmp_path / "evolution"), "--window", "0"])
    assert exit_.value.code == 2 and "--window" in capsys.readouterr().err


def test_time_axis_of_runs_on_a_table_says_simulated_training_time(tmp_path):
    root = tmp_path / "runs"
    write_run(root / "evolution", "evolution", 0, 10)
    write_run(root / "random_search", "random_search", 0, 10)
    for name in ("evolution", "random_search"):
        summary = root / name / rundir.SUMMARY
        summary.write_text(json.dumps({**json.loads(summary.read_text()), "clock": "simulated"}))
    searches = runs.load([root]).searches
    palette, unit = figures.colours([s.key for s in searches]), figures.time_unit(600)
    fig4 = figure4(searches, palette, unit)
    assert "simulated training time" in fig4.get_suptitle()
    assert all("simulated training time (min" in ax.get_xlabel() for ax in fig4.axes if ax.get_xlabel())
    fig5 = figure5(searches, palette, "time", unit)   # on two lines (#25.3: on one it ran off the canvas)
    assert fig5.axes[0].get_xlabel() == "simulated training time (min;\nrecorded training seconds summed)"
    # one run on wall time: the axis says both
    summary = root / "evolution" / rundir.SUMMARY
    summary.write_text(json.dumps({**json.loads(summary.read_text()), "clock": "wall"}))
    searches = runs.load([root]).searches
    label = figure5(searches, palette, "time", unit).axes[0].get_xlabel()
    assert label.startswith("elapsed time (min") and "simulated" in label


# --- #25.3: axes that show the differences, legends that list what is drawn, curves of most seeds ---

def test_figure4_lists_cached_only_when_drawn_and_uses_a_log_axis_when_errors_span_ten_times(tmp_path):
    write_run(tmp_path / "plain" / "evolution", "evolution", 0, 30, low=1.0)
    write_run(tmp_path / "cached" / "evolution", "evolution", 0, 30, cached_at=(5,), low=1.0)
    for folder, listed in (("plain", False), ("cached", True)):
        searches = runs.load([tmp_path / folder]).searches
        fig = figure4(searches, figures.colours([s.key for s in searches]), figures.time_unit(600))
        labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
        assert any("cached" in label for label in labels) == listed, labels
        (ax,) = [a for a in fig.axes if a.get_visible()]
        errors = [e.error for e in searches[0].runs[0].evaluations]
        assert ax.get_yscale() == "log" and ax.get_ylim()[0] < min(errors)   # 1-60 %: the best is off the axis
    write_run(tmp_path / "narrow" / "evolution", "evolution", 0, 30, low=30.0)   # 30-60 %: linear as before
    searches = runs.load([tmp_path / "narrow"]).searches
    fig = figure4(searches, figures.colours([s.key for s in searches]), figures.time_unit(600))
    assert [a for a in fig.axes if a.get_visible()][0].get_yscale() == "linear"


def test_figure5_zooms_past_the_first_evaluations_and_stops_where_most_seeds_have_stopped(tmp_path):
    root = tmp_path / "runs"
    for seed, n in enumerate((100, 100, 100, 40, 40)):
        write_run(root / f"seed-{seed}", "evolution", seed, n, low=1.0)
    searches = runs.load([root]).searches
    fig = figure5(searches, figures.colours([s.key for s in searches]), "evaluations", figures.time_unit(600))
    best = fig.axes[0]
    (line,) = best.get_lines()
    ys = line.get_ydata()
    assert ys[0] > best.get_ylim()[1]            # the first evaluation's mean starts above the top
    assert max(ys[5:][~np.isnan(ys[5:])]) <= best.get_ylim()[1]      # from 5% of the axis on, all shown
    # three of five seeds reach 100: drawn to the end; had two of five reached it, the curve would stop
    assert not np.isnan(ys[99])
    write_run(root / "seed-5", "evolution", 5, 40, low=1.0)
    searches = runs.load([root]).searches
    fig = figure5(searches, figures.colours([s.key for s in searches]), "evaluations", figures.time_unit(600))
    ys = fig.axes[0].get_lines()[0].get_ydata()
    assert not np.isnan(ys[39]) and not np.isnan(ys[40]) and len(ys) == 100   # 3 of 6: half still draws
    write_run(root / "seed-6", "evolution", 6, 40, low=1.0)
    searches = runs.load([root]).searches
    fig = figure5(searches, figures.colours([s.key for s in searches]), "evaluations", figures.time_unit(600))
    ys = fig.axes[0].get_lines()[0].get_ydata()
    assert not np.isnan(ys[39]) and np.isnan(ys[40:]).all()    # 3 of 7 seeds beyond 40: the curve stops
