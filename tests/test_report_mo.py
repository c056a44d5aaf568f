"""The report's multi-objective part: fronts against brute force, the hypervolume per evaluation against a
recomputation (and the driver's logbook), the gap to a benchmark table's true front (>= 0, 0 for the true
front), and the report's sections for multi-objective and mixed runs (and none for single-objective ones)."""
import random

import pytest
import yaml
from conftest import CONFIGS
from scipy import stats
from searchkit import summary, write_config
from test_bench import built
from test_report import read_csv, write_run

from era_deap.bench.table import Table
from era_deap.cli import main
from era_deap.report import runs
from era_deap.report.pareto import ERROR_PARAMS, FrontGap, dominates, nondominated, run_front, search_fronts
from era_deap.report.runs import SEARCH_NAMES
from era_deap.report.statistics import Benchmark
from era_deap.search.fitness import hypervolume
from era_deap.search.run import run_search
from era_deap.settings import load_search_config

SEEDS = (0, 1, 2)
BUDGET = 30
PARETO_FILES = ("pareto.png", "pareto.svg", "hypervolume.png", "hypervolume.svg", "pareto_summary.csv",
                "pareto_front.csv")


def brute_front(points):
    return sorted({p for p in points if not any(dominates(q, p) for q in points)}, key=lambda p: (p[1], p[0]))


def brute_hypervolume(points):
    """Every counted point, dominated or not, straight into fitness.hypervolume: dominated points add nothing."""
    return hypervolume([ERROR_PARAMS.normalised(p) for p in points])


def counted_points(rows):
    return [(float(r["error"]), int(r["params"])) for r in rows if r["status"] == "ok" and not int(r["cached"])]


# --- fronts and hypervolume ------------------------------------------------------------------------

def test_front_equals_brute_force_with_ties_and_duplicates():
    rng = random.Random(0)
    for _ in range(300):
        # few distinct values: ties in one coordinate and duplicate points are common
        points = [(rng.choice([5.0, 6.0, 7.5, 9.0, rng.uniform(5, 10)]),
                   rng.choice([100, 200, 300, rng.randrange(50, 400)])) for _ in range(rng.randrange(0, 25))]
        front = nondominated(points, point=lambda p: p)
        assert sorted(set(front), key=lambda p: (p[1], p[0])) == brute_front(points)
        assert [p[1] for p in front] == sorted(p[1] for p in front)   # by params


def test_hypervolume_series_equals_a_recomputation_at_every_evaluation(tmp_path):
    rows = write_run(tmp_path / "run", "random_search", 0, 60, failures={3: "oom", 17: "diverged"}, cached_at={20, 41})
    front = run_front(runs.read_run(tmp_path / "run"))
    assert len(front.series) == 60
    for n in range(1, 61):
        assert front.series[n - 1] == pytest.approx(brute_hypervolume(counted_points(rows[:n])), abs=1e-12)
        assert front.hypervolume_at(n) == front.series[n - 1]
    assert front.series == sorted(front.series)    # a front only grows
    assert [n.point for n in front.front] == brute_front(counted_points(rows))


def test_a_multi_objective_run_has_its_logbook_and_summary_hypervolume(tmp_path):
    config = write_config(tmp_path, "nsga2", budget=30, objectives=["error", "params"])
    result = run_search(load_search_config(config), tmp_path / "run")
    front = run_front(runs.read_run(tmp_path / "run"))
    assert front.hypervolume == pytest.approx(result["hypervolume"], abs=1e-12)
    assert sorted((n.error, n.params) for n in front.front) == sorted(
        (f["objectives"]["error"], f["objectives"]["params"]) for f in result["front"])


# --- a benchmark table: the true front and the gap -------------------------------------------------

@pytest.fixture(scope="module")
def mo_runs(tmp_path_factory):
    """A mixed study on a tiny table, as configs/bench_mo: nsga2 and random search minimise error and
    params, regularized evolution the error only; 3 seeds each; then `era report`."""
    root = tmp_path_factory.mktemp("mo")
    table_file = built(root)
    searches = {"nsga2": ["error", "params"], "random_search": ["error", "params"], "regularized_evolution": ["error"]}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for kind, objectives in searches.items():
            for seed in SEEDS:
                config = write_config(root, kind, objective="table", space=root / "space.yaml", seed=seed,
                                      budget=BUDGET, evaluator={"table": "build"}, objectives=objectives)
                run_search(load_search_config(config), root / "runs" / kind / f"seed-{seed}")
        assert main(["report", str(root / "runs"), "--out", str(root / "report")]) == 0
    return root, Table.load(str(table_file))


def true_front_brute_force(table):
    means = table.mean_errors()
    return brute_front([(m, table.networks[k]["params"]) for k, m in means.items()])


def test_true_front_is_the_non_dominated_mean_errors_and_its_own_gap_is_zero(mo_runs):
    root, table = mo_runs
    searches = runs.load([root / "runs"]).searches
    gap = FrontGap(Benchmark(table, searches), [search_fronts(s) for s in searches])
    assert [n.point for n in gap.true_front] == true_front_brute_force(table)   # by params
    assert gap.gap(gap.true_front) == 0.0
    assert gap.gap(list(gap.points.values())) == 0.0           # every network found: nothing missing
    worst = max(gap.points.values(), key=lambda n: n.error)
    assert gap.gap([worst]) > 0


def test_gap_is_never_negative_and_measures_the_found_front_with_the_tables_means(mo_runs):
    """(Not monotone: a lucky seed's network may push a better one off the found front.)"""
    root, table = mo_runs
    searches = runs.load([root / "runs"]).searches
    fronts = [search_fronts(s) for s in searches]
    gap = FrontGap(Benchmark(table, searches), fronts)
    means = table.mean_errors()
    true_hv = brute_hypervolume(true_front_brute_force(table))
    assert gap.true_hypervolume == pytest.approx(true_hv)
    for f in fronts:
        for r in f.runs:
            gaps = gap.gaps(r)
            assert len(gaps) == len(r.run.evaluations) and min(gaps) >= 0
            found = [(means[n.key], table.networks[n.key]["params"]) for n in r.front]
            assert gaps[-1] == pytest.approx(max(0.0, true_hv - brute_hypervolume(found)), abs=1e-12)


# --- the report ------------------------------------------------------------------------------------

def test_report_has_the_pareto_part_for_mixed_runs(mo_runs):
    root, table = mo_runs
    out = root / "report"
    for name in (*PARETO_FILES, "true_front.csv", "pareto_gap.csv", "hypervolume_rank_sum.csv"):
        assert (out / name).stat().st_size > 0, name
    page = (out / "report.md").read_text()
    assert "## Multi-objective: Pareto fronts and hypervolume" in page
    assert "](pareto.png)" in page and "](hypervolume.png)" in page
    assert "Regularized Evolution: error;" in page and f"{SEARCH_NAMES['nsga2']}: error, params" in page
    assert "Pairwise rank-sum tests on the hypervolume" in page and "true Pareto front of table" in page
    assert "logbook.json's hypervolume disagrees" not in page
    assert "Pareto fronts" in (out / "tables.md").read_text()
    gaps = read_csv(out / "pareto_gap.csv")
    assert {r["name"] for r in gaps} == {"nsga2", "random_search", "regularized_evolution"}
    assert all(float(r["gap_mean"]) >= 0 and r["evaluations"] == str(BUDGET) for r in gaps)
    assert len(read_csv(out / "true_front.csv")) == len(true_front_brute_force(table))


def test_front_table_is_the_median_seeds_front(mo_runs):
    root, _ = mo_runs
    rows = read_csv(root / "report" / "pareto_front.csv")
    summary_rows = {r["name"]: r for r in read_csv(root / "report" / "pareto_summary.csv")}
    for name in ("nsga2", "random_search", "regularized_evolution"):
        volumes = {}
        for seed in SEEDS:
            points = counted_points(read_csv(root / "runs" / name / f"seed-{seed}" / "evaluations.csv"))
            volumes[seed] = (brute_hypervolume(points), brute_front(points))
        ranked = sorted(SEEDS, key=lambda s: volumes[s][0])
        median = ranked[(len(ranked) - 1) // 2]
        table = [(float(r["error"]), int(r["params"])) for r in rows if r["name"] == name]
        assert {r["seed"] for r in rows if r["name"] == name} == {str(median)}
        assert sorted(set(table), key=lambda p: (p[1], p[0])) == volumes[median][1]
        assert summary_rows[name]["median_seed"] == str(median)
        assert float(summary_rows[name]["hypervolume_median"]) == pytest.approx(volumes[median][0])


def test_hypervolume_rank_sum_equals_scipy(mo_runs):
    root, _ = mo_runs
    volumes = {}
    for name in ("nsga2", "random_search", "regularized_evolution"):
        volumes[name] = [brute_hypervolume(counted_points(read_csv(root / "runs" / name / f"seed-{s}" /
                                                                    "evaluations.csv"))) for s in SEEDS]
    labels = {name: SEARCH_NAMES[name] for name in volumes}
    rows = read_csv(root / "report" / "hypervolume_rank_sum.csv")
    assert len(rows) == 3
    for row in rows:
        a, b = (next(k for k, v in labels.items() if v == row[side]) for side in ("search_a", "search_b"))
        test = stats.mannwhitneyu(volumes[a], volumes[b], alternative="two-sided")
        assert float(row["u_statistic"]) == pytest.approx(test.statistic)
        assert float(row["p_value"]) == pytest.approx(test.pvalue)
        assert float(row["vargha_delaney_a"]) == pytest.approx(test.statistic / 9)   # P(A's hypervolume higher)
        assert float(row["p_holm"]) >= float(row["p_value"])


def test_rerun_is_byte_identical_and_a_single_objective_report_has_no_pareto_part(mo_runs, tmp_path):
    root, _ = mo_runs
    out = root / "report"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert main(["report", str(root / "runs"), "--out", str(out)]) == 0
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        # the single-objective search alone, into the same folder: the Pareto files go
        assert main(["report", str(root / "runs" / "regularized_evolution"), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert not names & {*PARETO_FILES, "true_front.csv", "pareto_gap.csv", "hypervolume_rank_sum.csv"}
    assert "Multi-objective" not in (out / "report.md").read_text()


def test_a_multi_objective_report_without_a_table_or_seeds(tmp_path):
    """One nsga2 run, not on a table: fronts and hypervolume, no gap, the rank-sum tests skipped."""
    config = write_config(tmp_path, "nsga2", budget=20, objectives=["error", "params"])
    run_search(load_search_config(config), tmp_path / "runs" / "nsga2")
    write_run(tmp_path / "runs" / "evolution", "evolution", 0, 20)   # a thesis-era run: no objectives key
    assert main(["report", str(tmp_path / "runs")]) == 0
    out = tmp_path / "runs" / "report"
    page = (out / "report.md").read_text()
    assert all((out / name).exists() for name in PARETO_FILES)
    assert not (out / "pareto_gap.csv").exists() and "Rank-sum tests on the hypervolume skipped" in page
    assert "Evolution: error;" in page
    assert summary(tmp_path / "runs" / "nsga2")["hypervolume"] == pytest.approx(
        float(next(r for r in read_csv(out / "pareto_summary.csv") if r["name"] == "nsga2")["hypervolume_mean"]))


# --- the profile ----------------------------------------------------------------------------------

def test_bench_mo_profile():
    folder = CONFIGS / "bench_mo"
    configs = {p.stem: load_search_config(p) for p in folder.glob("*.yaml") if p.stem != "base"}
    assert sorted(configs) == ["bayesian_optimization", "nsga2", "random_search", "regularized_evolution"]
    for name, config in configs.items():
        assert config.name == name == config.strategy.kind and config.budget == 200
        assert config.evaluator.objective == "table" and config.evaluator.table == "digits-quick"
        assert config.objectives == (["error"] if name == "regularized_evolution" else ["error", "params"])
    assert configs["nsga2"].strategy.population_size == 50
    assert configs["bayesian_optimization"].strategy.initial_points == 9
    assert configs["regularized_evolution"].strategy.population_size == 50
    assert (folder / "run_all.args").read_text().split() == ["--repeats", "20", "--jobs", "2"]
    assert yaml.safe_load((folder / "base.yaml").read_text())["objectives"] == ["error", "params"]
