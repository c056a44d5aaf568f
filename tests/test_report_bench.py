"""The report's benchmark part: searches run on a tiny table (test_bench's), their regret, top-1% share
and the benchmark table recomputed here from evaluations.csv and the table file; runs not on a table
leave the part out with a reason."""
import csv
import shutil

import numpy as np
import pytest
import yaml
from scipy import stats
from searchkit import write_config
from test_bench import built
from test_report import read_csv, write_run

from era_deap.bench.table import Table
from era_deap.cli import main
from era_deap.search.run import run_search
from era_deap.settings import load_search_config

SEEDS = (0, 1, 2)
BUDGET = 30


@pytest.fixture(scope="module")
def bench_runs(tmp_path_factory):
    """Two searches x 3 seeds on a tiny table named by a relative path, as run_all.sh does from the
    repository: the report, run from elsewhere, finds it above the run directories."""
    root = tmp_path_factory.mktemp("bench")
    table_file = built(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for kind in ("random_search", "regularized_evolution"):
            for seed in SEEDS:
                config = write_config(root, kind, objective="table", space=root / "space.yaml", seed=seed,
                                      budget=BUDGET, evaluator={"table": "build"})
                run_search(load_search_config(config), root / "runs" / kind / f"seed-{seed}")
    (root / "elsewhere").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root / "elsewhere")
        assert main(["report", str(root / "runs"), "--out", str(root / "report")]) == 0
    return root, Table.load(str(table_file))


def evaluations(run_dir):
    with open(run_dir / "evaluations.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_benchmark_table_equals_a_recomputation_from_the_runs_and_the_table(bench_runs):
    root, table = bench_runs
    means = table.mean_errors()
    optimum = min(means.values())
    top = np.percentile(sorted(means.values()), 1)
    rows = {r["name"]: r for r in read_csv(root / "report" / "benchmark.csv")}
    assert set(rows) == {"random_search", "regularized_evolution"}
    for name, row in rows.items():
        assert row["evaluations"] == str(BUDGET)   # below 50: the count every seed reached
        bests, regrets, found = [], [], 0
        for seed in SEEDS:
            counted = [r for r in evaluations(root / "runs" / name / f"seed-{seed}")
                       if r["status"] == "ok" and r["cached"] == "0"]
            best = min(counted, key=lambda r: (float(r["error"]), int(r["index"])))
            bests.append(float(best["error"]))
            regrets.append(means[best["key"]] - optimum)
            found += any(means[r["key"]] <= top for r in counted)
        assert float(row["best_mean"]) == pytest.approx(np.mean(bests))
        assert float(row["regret_mean"]) == pytest.approx(np.mean(regrets))
        low, high = stats.t.interval(0.95, len(regrets) - 1, loc=np.mean(regrets), scale=stats.sem(regrets))
        assert float(row["regret_ci"]) == pytest.approx((high - low) / 2)
        assert int(row["top1_found"]) == found and min(regrets) >= 0


def seed_regret(rows, means, optimum):
    """The table's mean error of the network a seed's rows observed best (earliest on ties), minus the optimum."""
    counted = [r for r in rows if r["status"] == "ok" and r["cached"] == "0"]
    best = min(counted, key=lambda r: (float(r["error"]), int(r["index"])))
    return means[best["key"]] - optimum


def assert_rank_sum_row_is_scipys(row: dict, a: list, b: list) -> None:
    """A rank-sum CSV row on a lower-is-better value equals scipy's two-sided Mann–Whitney U of a and b."""
    test = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert float(row["u_statistic"]) == pytest.approx(test.statistic)
    assert float(row["p_value"]) == pytest.approx(test.pvalue)
    assert float(row["p_holm"]) >= float(row["p_value"])
    # U counts the pairs where A's regret is higher (ties half); A is the share where it is lower
    assert float(row["vargha_delaney_a"]) == pytest.approx(1 - test.statistic / (len(a) * len(b)))


def test_regret_rank_sum_equals_scipy_on_the_regret_recomputed_from_the_runs_and_the_table(bench_runs):
    root, table = bench_runs
    means = table.mean_errors()
    optimum = min(means.values())
    runs = {name: [evaluations(root / "runs" / name / f"seed-{seed}") for seed in SEEDS]
            for name in ("random_search", "regularized_evolution")}
    n = min(len(rows) for seeds in runs.values() for rows in seeds)
    regrets = {name: [seed_regret(rows[:n], means, optimum) for rows in seeds] for name, seeds in runs.items()}
    (row,) = read_csv(root / "report" / "regret_rank_sum.csv")
    assert (row["search_a"], row["search_b"]) == ("Random Search", "Regularized Evolution")
    assert row["evaluations"] == str(n) and row["n_a"] == row["n_b"] == str(len(SEEDS))
    a, b = regrets["random_search"], regrets["regularized_evolution"]
    assert_rank_sum_row_is_scipys(row, a, b)
    assert float(row["median_a"]) == pytest.approx(np.median(a))
    page = (root / "report" / "report.md").read_text()
    assert "rank-sum tests on the regret" in page and "Lower regret is better" in page


def test_a_report_without_multifidelity_searches_has_no_table_at_equal_epochs(bench_runs):
    root, _ = bench_runs
    names = {p.name for p in (root / "report").iterdir()}
    assert "benchmark.csv" in names and not names & {"benchmark_epochs.csv", "regret_rank_sum_epochs.csv"}
    for text in ((root / "report" / "report.md").read_text(), (root / "report" / "tables.md").read_text()):
        assert "equal training epochs" not in text and "Multi-fidelity searches left out" not in text


def test_rerun_is_byte_identical_and_a_report_without_searches_to_compare_drops_the_regret_tests(bench_runs,
                                                                                                 tmp_path):
    root, _ = bench_runs
    before = {p.name: p.read_bytes() for p in (root / "report").iterdir()}
    assert "regret_rank_sum.csv" in before
    assert main(["report", str(root / "runs"), "--out", str(root / "report")]) == 0
    assert {p.name: p.read_bytes() for p in (root / "report").iterdir()} == before
    out = tmp_path / "report"
    shutil.copytree(root / "report", out)   # a previous report with the regret tests in it
    assert main(["report", str(root / "runs" / "random_search"), "--out", str(out)]) == 0
    assert not (out / "regret_rank_sum.csv").exists() and (out / "benchmark.csv").exists()
    assert "Rank-sum tests on the regret on table" in (out / "report.md").read_text()


def test_report_shows_regret_and_top1_figures_and_names_the_table(bench_runs):
    root, table = bench_runs
    out = root / "report"
    for name in ("regret.png", "regret.svg", "top1.png", "top1.svg", "benchmark.csv"):
        assert (out / name).stat().st_size > 0, name
    page = (out / "report.md").read_text()
    assert "](regret.png)" in page and "](top1.png)" in page
    assert f"Table `{table.name}`" in page and table.optimum()[0] in page
    assert "their time is simulated" in page and "(simulated)" in page   # the clock of runs on a table
    # why a regret curve can rise (the credited network is the best observed), or why it cannot (observe: mean)
    observed = {yaml.safe_load((p / "config.yaml").read_text())["evaluator"].get("observe", "seed")
                for p in (root / "runs").glob("*/seed-*")}
    assert observed and ("a seed's regret never rises" in page) == (observed == {"mean"})
    assert ("A seed's regret can rise" in page) == (observed != {"mean"})
    assert "Benchmark `" in (out / "tables.md").read_text()


def test_regret_figure_is_log_scaled_and_never_below_its_floor(bench_runs):
    root, _ = bench_runs
    from era_deap.report import figures, runs, statistics
    from era_deap.report.figures import regret_figure, top_share_figure
    searches = runs.load([root / "runs"]).searches
    (bench,), reasons = statistics.benchmarks(searches)
    assert reasons == []
    palette = figures.colours([s.key for s in searches])
    ax = regret_figure(bench, palette).axes[0]
    assert ax.get_yscale() == "log"
    floor = bench.smallest_gap / (2 * len(SEEDS))
    curves = [line.get_ydata() for line in ax.get_lines() if (line.get_gid() or "").startswith("regret:")]
    for ys in curves:
        assert min(ys) >= floor and len(ys) == BUDGET
    # the floor (regret 0) is drawn only where some mean reaches it; else the axis ends near the lowest curve
    # (#25.3: a floor line always drawn stretched the axis over decades the curves never visit)
    reaches = any(min(ys) <= floor for ys in curves)
    assert any("regret 0" in t.get_text() for t in ax.texts) == reaches
    if not reaches:
        assert ax.get_ylim()[0] > floor and ax.get_ylim()[0] >= min(min(ys) for ys in curves) / 1.5
    shares = [line.get_ydata() for line in top_share_figure(bench, palette).axes[0].get_lines()]
    assert all(0 <= y <= 100 for share in shares for y in share)
    assert all(list(share) == sorted(share) for share in shares)   # a seed that found one keeps it


def test_runs_not_on_a_table_leave_the_benchmark_part_out_with_a_reason(tmp_path):
    write_run(tmp_path / "runs" / "evolution", "evolution", 0, 10)
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "report.md").read_text()
    assert "Left out: the runs were not made on a benchmark table" in page
    assert not (tmp_path / "report" / "regret.png").exists()


def test_a_table_that_cannot_be_found_is_named(tmp_path):
    write_run(tmp_path / "runs" / "evolution", "evolution", 0, 10)
    config = tmp_path / "runs" / "evolution" / "config.yaml"
    config.write_text(config.read_text().replace("objective: train", "objective: table\n  table: no-such-table"))
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "report.md").read_text()
    assert "table no-such-table not found" in page


def test_thesis_measures_equal_a_recomputation_from_the_runs_and_the_table(bench_runs):
    """measures.csv: the mean error of all evaluated and of the last 50 (thesis figures 5b/5c), the best table
    mean among evaluated and the top-5% count, recomputed here by hand from evaluations.csv and the table."""
    root, table = bench_runs
    means = table.mean_errors()
    optimum = min(means.values())
    top5 = np.percentile(sorted(means.values()), 5)
    rows = {r["name"]: r for r in read_csv(root / "report" / "measures.csv")}
    for name, row in rows.items():
        values = {k: [] for k in ("mean_all", "mean_last", "best_visited", "top5", "regret")}
        for seed in SEEDS:
            counted = [r for r in evaluations(root / "runs" / name / f"seed-{seed}")
                       if r["status"] == "ok" and r["cached"] == "0"]
            errors = [float(r["error"]) for r in counted]
            values["mean_all"].append(sum(errors) / len(errors))
            values["mean_last"].append(sum(errors[-50:]) / len(errors[-50:]))
            values["best_visited"].append(min(means[r["key"]] for r in counted))
            values["top5"].append(sum(means[r["key"]] <= top5 for r in counted))
            values["regret"].append(seed_regret(counted, means, optimum))
        for key, seeds in values.items():
            assert float(row[f"{key}_mean"]) == pytest.approx(np.mean(seeds)), (name, key)
        low, high = stats.t.interval(0.95, len(SEEDS) - 1, loc=np.mean(values["mean_all"]),
                                     scale=stats.sem(values["mean_all"]))
        assert float(row["mean_all_ci"]) == pytest.approx((high - low) / 2)
    (test,) = [r for r in read_csv(root / "report" / "measure_tests.csv") if r["measure"] == "mean_all"]
    assert test["holm_over"] == "1" and float(test["p_holm"]) == pytest.approx(float(test["p_value"]))
    assert float(test["detectable_80"]) > 0


def test_report_leads_with_its_answer_and_ends_with_the_runs(bench_runs):
    root, table = bench_runs
    page = (root / "report" / "report.md").read_text()
    assert page.index("## Summary") < page.index("## Figure 4") < page.index("## Rank-sum tests between") \
        < page.index("## Runs")
    summary = page[page.index("## Summary"):page.index("## Figure 4")]
    assert f"On benchmark table `{table.name}`" in summary and f"compared at {BUDGET} evaluations" in summary
    row = next(line for line in summary.splitlines() if "Random Search vs Regularized Evolution" in line)
    assert "evolution beats random search (§5.1" in row
    # the regret cell is the regret test's: its means, and its verdict or its resolution
    (test,) = [r for r in read_csv(root / "report" / "measure_tests.csv") if r["measure"] == "regret"]
    cells = [c.strip() for c in row.strip("|").split("|")]
    regret = cells[3]
    assert regret.startswith(f"{float(test['mean_a']):.3f} vs {float(test['mean_b']):.3f}")
    if float(test["p_holm"]) >= 0.05:
        assert f"not detected (≥ {float(test['detectable_80']):.2g})" in regret
    assert "What the table can resolve" in summary and "cannot be told from the optimum" in summary


def test_table2_says_its_error_is_the_best_single_observation_and_shows_the_table_mean(bench_runs):
    root, table = bench_runs
    means = table.mean_errors()
    page = (root / "report" / "report.md").read_text()
    assert "Best single observation over the seeds (%) | Table mean (%)" in page
    for row in read_csv(root / "report" / "table2.csv"):
        assert float(row["table_mean_error"]) == pytest.approx(means[row["key"]])
