"""Which runs the report treats as seeds of one search: a shared `name` with different configs is two
searches (labelled apart, with a warning naming the keys that differ); seeds with unequal budgets are
compared at the count they all reached."""
import pytest
import yaml
from scipy import stats
from test_report import read_csv, write_run

from era_deap.cli import main
from era_deap.search import rundir


def edit_config(run_dir, **strategy):
    path = run_dir / rundir.CONFIG
    config = yaml.safe_load(path.read_text())
    config["strategy"].update(strategy)
    path.write_text(yaml.safe_dump(config))


def test_configs_sharing_a_name_are_separate_searches_and_the_page_names_the_keys_that_differ(tmp_path):
    root = tmp_path / "runs"
    for seed in (0, 1, 2):
        write_run(root / "land_stock" / f"seed-{seed}", "land_stock", seed, 30)
    write_run(root / "land_edited" / "seed-0", "land_stock", 0, 40)
    edit_config(root / "land_edited" / "seed-0", mutate={"name": "my_mutation"})
    assert main(["report", str(root), "--out", str(tmp_path / "report")]) == 0
    rows = read_csv(tmp_path / "report" / "table2.csv")
    assert sorted((r["seeds"], r["evaluated"]) for r in rows) == [("1", "40"), ("3", "90")]
    labels = [r["search"] for r in rows]
    assert len(set(labels)) == 2 and all(label.startswith("land_stock [") for label in labels)
    page = (tmp_path / "report" / "report.md").read_text()
    warning = next(line for line in page.splitlines() if line.startswith("> **Warning.**"))
    assert "`land_stock`" in warning and "`strategy.mutate.name`" in warning and "'my_mutation'" in warning
    assert all(label in warning for label in labels)
    assert "400 (0 failed)" not in page and "120 (0 failed)" not in page


def test_seeds_differing_only_in_seed_and_budget_are_one_search(tmp_path):
    root = tmp_path / "runs"
    write_run(root / "evolution" / "seed-0", "evolution", 0, 30)
    write_run(root / "evolution" / "seed-1", "evolution", 1, 50)   # resumed with a larger --budget
    assert main(["report", str(root), "--out", str(tmp_path / "report")]) == 0
    (row,) = read_csv(tmp_path / "report" / "table2.csv")
    assert (row["search"], row["seeds"], row["evaluated"]) == ("Evolution", "2", "80")


def test_unequal_budgets_are_compared_at_the_count_every_seed_reached(tmp_path):
    root = tmp_path / "runs"
    counts = {"random_search": (40, 40, 40, 70), "evolution": (50, 50, 50)}
    for name, per_seed in counts.items():
        for seed, n in enumerate(per_seed):
            write_run(root / name / f"seed-{seed}", name, seed, n, low={0: 2.0, 3: 1.0}.get(seed, 5.0))
    assert main(["report", str(root), "--out", str(tmp_path / "report")]) == 0
    (row,) = read_csv(tmp_path / "report" / "rank_sum.csv")
    assert row["evaluations"] == "40"

    def bests(name):   # each seed's best over its first 40 rows, from the CSV
        out = []
        for seed in range(len(counts[name])):
            first = read_csv(root / name / f"seed-{seed}" / rundir.EVALUATIONS)[:40]
            out.append(min(float(r["error"]) for r in first if r["status"] == "ok"))
        return out
    expected = stats.mannwhitneyu(bests("random_search"), bests("evolution"), alternative="two-sided")
    assert float(row["p_value"]) == pytest.approx(expected.pvalue)
    page = (tmp_path / "report" / "report.md").read_text()
    assert "compared at **40 evaluations**" in page
    assert "seed 3: 70" in page and "reached different evaluation counts" in page
