"""Failures that share a gene value are said (issue 25.4): in `era search`'s closing line and in report.md,
because a comparison with such a search is biased; failures spread over the space are not."""
from searchkit import write_config

from era_deap.cli import main
from era_deap.search.failures import failure_clusters
from era_deap.search.rundir import Evaluation


def _evaluation(index, filters, ok, cached=False):
    return Evaluation(index=index, key=f"k{index}", genes=("basic", 1, 1, 1, 1, filters, 2, 8),
                      error=10.0 if ok else None, status="ok" if ok else "error", cached=cached, params=None,
                      depth=None, seconds=None, elapsed=float(index), worker="0", seed=index, message="")


def test_the_rule_needs_five_evaluations_half_failed_and_more_than_the_rest_beyond_chance():
    rows = [_evaluation(i, 2, ok=i == 0) for i in range(6)]             # 5 of 6 with 2 filters failed
    rows += [_evaluation(10 + i, 8, ok=i != 0) for i in range(40)]      # 1 of 40 elsewhere
    (cluster,) = failure_clusters(rows)
    assert (cluster.gene, cluster.value, cluster.failed, cluster.evaluated) == ("filters", 2, 5, 6)
    assert (cluster.rest_failed, cluster.rest_evaluated) == (1, 40)
    assert cluster.p < 0.01     # Fisher's one-sided p ~ 1e-5, times the 9 gene values of these rows
    assert failure_clusters(rows[1:])[0].evaluated == 5                  # five are enough
    assert failure_clusters(rows[2:]) == []                             # 4 evaluations: too few to say
    assert failure_clusters(rows + [_evaluation(60 + i, 8, ok=False) for i in range(12)]) == []  # 13 of 52: spread
    assert failure_clusters(rows + [_evaluation(80 + i, 2, ok=False, cached=True) for i in range(9)])[0].evaluated == 6
    half = [_evaluation(i, 2, ok=i < 3) for i in range(6)] + rows[6:]   # 3 of 6 against 1 of 40: could be chance
    assert failure_clusters(half) == []


def _search(tmp_path, capsys, objective, name):
    config = write_config(tmp_path, "random_search", budget=60, objective=objective, name=name,
                          evaluator={"max_failure_fraction": 0.9})
    out = tmp_path / name
    assert main(["search", str(config), "--out", str(out), "--no-progress"]) == 0
    return out, capsys.readouterr().out


def test_failures_sharing_a_gene_value_are_said_by_the_search_and_the_report(tmp_path, capsys):
    out, line = _search(tmp_path, capsys, "era_deap.training.objectives:narrow_failing_landscape", "narrow")
    assert "warning: failures cluster at filters = 2 (" in line
    assert "0 of " in line.split("filters = 2")[1] and "comparisons with this search are biased" in line
    assert "group_size" not in line     # its failures are the 2-filter networks' (group sizes stored clamped)
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "report.md").read_text()
    assert "> **Warning.** In narrow failures cluster at filters = 2 (" in page


def test_failures_spread_over_the_space_are_not_a_cluster(tmp_path, capsys):
    out, line = _search(tmp_path, capsys, "era_deap.training.objectives:flaky_landscape", "flaky")
    assert " failed: " in line and "cluster" not in line
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    assert "cluster" not in (tmp_path / "report" / "report.md").read_text()
