"""`era report`: fake run directories written exactly per era_deap.search.rundir's contract, the report built
from them, and its tables recomputed here independently from evaluations.csv."""
import csv
import json
import random
import shutil

import pytest
import yaml
from scipy import stats

from era_deap.cli import main
from era_deap.search import rundir
from era_deap.space.space import default_space

FIGURE_FILES = [f"{stem}.{ext}" for stem in ("fig4", "fig5_evaluations", "fig5_time") for ext in ("png", "svg")]
FAILURE_MESSAGE = "CUDA out of memory, tried to allocate 2.00 GiB\nTraceback (most recent call last):"


# --- fake run directories -------------------------------------------------------------------------

def _row(index, genome, space, status, error, cached, elapsed, message=""):
    key = space.key(genome)
    blocks = sum(genome[1:5])
    depth = 2 + (2 if genome[0] == "basic" else 3) * blocks
    return {"index": index, "key": key, "block": genome[0], "s1": genome[1], "s2": genome[2], "s3": genome[3],
            "s4": genome[4], "filters": genome[5], "filter_update": genome[6], "group_size": genome[7],
            "error": "" if status != "ok" else error, "status": status, "cached": int(cached),
            "params": 1000 * blocks * genome[5], "depth": depth, "seconds": 30.0, "elapsed": elapsed,
            "worker": "cpu:0", "seed": 1000 + index, "message": message}


def write_run(path, name, seed, n, *, finished=True, low=5.0, failures=(), cached_at=(), logbook=True,
              truncate_last=False, final=None):
    """A run dir as the driver writes it. failures: {index: status}; cached_at: indices repeating the
    network of the evaluation before them."""
    space, rng = default_space(), random.Random(f"{name}-{seed}")
    path.mkdir(parents=True)
    rows, elapsed = [], 0.0
    for i in range(1, n + 1):
        elapsed += rng.uniform(20, 40)
        if i in cached_at:
            prev = rows[-1]
            genome = [prev["block"], prev["s1"], prev["s2"], prev["s3"], prev["s4"], prev["filters"],
                      prev["filter_update"], prev["group_size"]]
            rows.append(_row(i, genome, space, "ok", prev["error"], True, elapsed))
            continue
        genome = space.canonical(space.sample(rng))
        status = dict(failures).get(i, "ok")
        rows.append(_row(i, genome, space, status, round(rng.uniform(low, 60.0), 4), False, elapsed,
                         FAILURE_MESSAGE if status != "ok" else ""))
    with open(path / rundir.EVALUATIONS, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=rundir.EVALUATION_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    if truncate_last:   # killed while writing the last row
        text = (path / rundir.EVALUATIONS).read_text()
        (path / rundir.EVALUATIONS).write_text(text[: text.rstrip("\n").rfind(",", 0, len(text) - 30)])
    kind = name
    (path / rundir.CONFIG).write_text(yaml.safe_dump({
        "name": name, "seed": seed, "budget": n, "strategy": {"kind": kind},
        "space": "configs/space.yaml", "evaluator": {"objective": "train"},
        "command": f"era search configs/quick/{name}.yaml --seed {seed}"}))
    ok = [r for r in rows if r["status"] == "ok"]
    best = min(ok, key=lambda r: r["error"])
    failed = {}
    for r in rows:
        if r["status"] != "ok":
            failed[r["status"]] = failed.get(r["status"], 0) + 1
    (path / rundir.SUMMARY).write_text(json.dumps({
        "name": name, "kind": kind, "seed": seed, "budget": n, "finished": finished,
        "trained": len(rows) - len(cached_at), "cached": len(cached_at), "failed": failed,
        "best": {"key": best["key"], "arch": {}, "error": best["error"], "params": best["params"],
                 "depth": best["depth"], "index": best["index"]},
        "elapsed": elapsed, "config_hash": "abc", "versions": {}}))
    if logbook:
        (path / rundir.LOGBOOK_JSON).write_text(json.dumps(_logbook(rows)))
    if final is not None:
        (path / rundir.FINAL_DIR).mkdir()
        (path / rundir.FINAL_DIR / rundir.FINAL).write_text(json.dumps(final))
    return rows


def _logbook(rows):
    records, errors = [], []
    for r in rows:   # as the driver's recorder: successes that cost budget (not cached) only
        if r["status"] == "ok" and not r["cached"]:
            errors.append(r["error"])
        records.append({"index": r["index"], "elapsed": r["elapsed"], "error": r["error"] or None,
                        "status": r["status"], "cached": bool(r["cached"]),
                        "best": min(errors) if errors else None,
                        "mean_all": sum(errors) / len(errors) if errors else None,
                        "mean_last50": sum(errors[-50:]) / len(errors[-50:]) if errors else None})
    return records


def write_final(path, name, depth, params, error, key="basic-0.18.18.18-f8-u2-g8"):
    path.mkdir(parents=True)
    data = {"name": name, "key": key, "arch": {}, "depth": depth, "params": params, "error": error,
            "error_kind": "test", "epochs": 164, "seconds": 3600.0}
    (path / rundir.FINAL).write_text(json.dumps(data))
    return data


SEARCH_FINAL = {"name": "regularized_evolution", "key": "bottleneck-7.9.9.1-f64-u2-g32", "arch": {}, "depth": 80,
                "params": 15_000_000, "error": 6.7, "error_kind": "test", "epochs": 164, "seconds": 7200.0}


def build_profile(root):
    """runs/quick as run_all.sh leaves it: two searches with 3 seeds, one with failures and a cached row,
    one unfinished with a truncated CSV, a search's final training and two baselines."""
    for seed in (1, 2, 3):
        write_run(root / "random_search" / f"seed-{seed}", "random_search", seed, 60)
        write_run(root / "regularized_evolution" / f"seed-{seed}", "regularized_evolution", seed, 60, low=3.0,
                  final=SEARCH_FINAL if seed == 2 else None)
    write_run(root / "local_search", "local_search", 0, 70,
              failures={3: "oom", 10: "diverged", 11: "error"}, cached_at={20})
    write_run(root / "bayesian_optimization", "bayesian_optimization", 0, 25, finished=False, truncate_last=True)
    write_run(root / "crossover_evolution", "crossover_evolution", 0, 40, logbook=False)
    write_final(root / "final-resnet110", "resnet110", 110, 1_729_490, 7.5)
    write_final(root / "final-resnet110-wide", "resnet110-wide", 110, 6_900_000, 7.1)


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs") / "quick"
    build_profile(root)
    assert main(["report", str(root)]) == 0
    return root


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --- independent recomputation from evaluations.csv -----------------------------------------------

def expected_bests(root):
    """Per config name: the lowest-error ok row over all seeds, moved to the first row of its key."""
    by_name = {}
    for csv_path in sorted(root.rglob(rundir.EVALUATIONS)):
        name = yaml.safe_load((csv_path.parent / rundir.CONFIG).read_text())["name"]
        with open(csv_path, newline="") as f:
            # a row cut short (message missing) was never a finished result
            rows = [r for r in csv.DictReader(f) if r["status"] == "ok" and r["message"] is not None]
        best = min(rows, key=lambda r: (float(r["error"]), int(r["index"])))
        first = min((r for r in rows if r["key"] == best["key"]), key=lambda r: int(r["index"]))
        current = by_name.get(name)
        if current is None or float(first["error"]) < float(current["error"]):
            by_name[name] = first
    return by_name


def per_seed_bests(root, name):
    bests = []
    for csv_path in sorted((root / name).glob(f"seed-*/{rundir.EVALUATIONS}")):
        with open(csv_path, newline="") as f:
            bests.append(min(float(r["error"]) for r in csv.DictReader(f) if r["status"] == "ok"))
    return bests


def test_report_writes_figures_tables_and_report_md(profile, capsys):
    out = profile / "report"   # default: report/ inside the common directory of the RUN_DIRs
    expected = FIGURE_FILES + ["table1.csv", "table2.csv", "table10.csv", "table11.csv", "tables.md",
                               "rank_sum.csv", "rank_sum.md", "report.md"]
    for name in expected:
        assert (out / name).stat().st_size > 0, name
    report = (out / "report.md").read_text()
    for name in ("fig4.png", "fig5_evaluations.png", "fig5_time.png"):
        assert f"]({name})" in report
    assert "**unfinished**" in report and "incomplete" in report   # the BO run and its cut-short last row
    assert "disagrees" not in report                                # logbooks match the CSV
    tables_md = (out / "tables.md").read_text()
    for title in ("Table 1:", "Table 2:", "Table 10:", "Table 11:"):
        assert title in tables_md and title in report


def test_tables_2_10_11_equal_a_recomputation_from_evaluations_csv(profile):
    expected = expected_bests(profile)
    table2 = {r["name"]: r for r in read_csv(profile / "report" / "table2.csv")}
    genes = {r["name"]: r for stem in ("table10", "table11") for r in read_csv(profile / "report" / f"{stem}.csv")}
    assert set(table2) == set(genes) == set(expected)
    evolutionary = {r["name"] for r in read_csv(profile / "report" / "table10.csv")}
    assert evolutionary == {"regularized_evolution", "crossover_evolution"}
    for name, row in expected.items():
        got = table2[name]
        assert float(got["error"]) == float(row["error"])
        assert (got["key"], got["index"], got["layers"], got["params"]) == \
               (row["key"], row["index"], row["depth"], row["params"])
        g = genes[name]
        for column in ("block", "s1", "s2", "s3", "s4", "filters", "filter_update", "group_size", "depth",
                       "params", "key"):
            assert g[column] == row[column], (name, column)
        filters, group = int(row["filters"]), int(row["group_size"])
        assert int(g["cardinality"]) == filters // min(group, filters)
        assert float(g["error"]) == float(row["error"])


def test_best_points_to_the_first_evaluation_of_a_cached_network(tmp_path):
    root = tmp_path / "runs"
    rows = write_run(root / "local_search", "local_search", 0, 12, cached_at={6})
    # make the cached network the best: its first evaluation (index 5) must be credited, not 6, even
    # when the repeat's error differs in the last digit
    for r in rows:
        r["error"] = {5: 1.0, 6: 0.999999}.get(r["index"], r["error"])
    with open(root / "local_search" / rundir.EVALUATIONS, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=rundir.EVALUATION_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    assert main(["report", str(root), "--out", str(tmp_path / "out")]) == 0
    (row,) = read_csv(tmp_path / "out" / "table2.csv")
    assert row["index"] == "5" and float(row["error"]) == 1.0


def test_rank_sum_p_values_equal_scipy(profile):
    rows = read_csv(profile / "report" / "rank_sum.csv")
    assert len(rows) == 1   # only random search and regularized evolution have several seeds
    (row,) = rows
    assert (row["search_a"], row["search_b"]) == ("Random Search", "Regularized Evolution")
    a, b = per_seed_bests(profile, "random_search"), per_seed_bests(profile, "regularized_evolution")
    test = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert float(row["p_value"]) == pytest.approx(test.pvalue, rel=1e-12)
    assert float(row["u_statistic"]) == test.statistic
    assert row["evaluations"] == "60"   # every seed ran 60: compared at all of them
    # Vargha-Delaney A: the share of (a, b) seed pairs where a's best is lower, ties counting half
    wins = sum((x < y) + 0.5 * (x == y) for x in a for y in b)
    assert float(row["vargha_delaney_a"]) == pytest.approx(wins / (len(a) * len(b)))
    assert "Mann–Whitney" in (profile / "report" / "rank_sum.md").read_text()


def test_table1_holds_baselines_then_search_final_training(profile):
    rows = read_csv(profile / "report" / "table1.csv")
    assert [r["model"] for r in rows] == ["ResNet-110 (baseline)", "ResNet-110 wide", "Regularized Evolution"]
    assert [float(r["error"]) for r in rows] == [7.5, 7.1, 6.7]
    assert rows[2]["seed"] == "2"


def test_single_seed_skips_rank_sum_and_says_so_and_removes_stale_outputs(profile, tmp_path, capsys):
    out = tmp_path / "report"
    shutil.copytree(profile / "report", out)   # a previous report with rank-sum files in it
    run = profile / "local_search"
    assert main(["report", str(run), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert str(out / "report.md") in printed and str(out / "fig4.png") in printed
    assert not (out / "rank_sum.csv").exists() and not (out / "rank_sum.md").exists()
    assert not (out / "table10.csv").exists() and not (out / "table1.csv").exists()
    page = (out / "report.md").read_text()
    assert "Rank-sum tests on the best error skipped" in page and "with several seeds" in page


def test_rerun_is_byte_identical(profile):
    out = profile / "report"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["report", str(profile)]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_directory_without_runs_is_a_one_line_error(tmp_path, capsys):
    empty = tmp_path / "nothing-here"
    (empty / "sub").mkdir(parents=True)
    assert main(["report", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(empty) in err
    assert "evaluations.csv" in err and "final.json" in err
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_logbook_disagreeing_with_csv_is_reported(tmp_path):
    run = tmp_path / "evolution"
    write_run(run, "evolution", 0, 10)
    logbook = json.loads((run / rundir.LOGBOOK_JSON).read_text())
    logbook[4]["best"] = 0.5
    (run / rundir.LOGBOOK_JSON).write_text(json.dumps(logbook))
    assert main(["report", str(run)]) == 0
    report = (run / "report" / "report.md").read_text()
    assert "logbook.json disagrees" in report and "index 5 best" in report



def test_a_run_without_evaluations_csv_is_named_as_skipped_not_silently_left_out(tmp_path, capsys):
    root = tmp_path / "evolution"
    for seed in (0, 1):
        write_run(root / f"seed-{seed}", "evolution", seed, 10)
    (root / "seed-1" / rundir.EVALUATIONS).unlink()
    assert main(["report", str(root), "--out", str(tmp_path / "report")]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "seed-1: skipped, no evaluations.csv" in err
    report = (tmp_path / "report" / "report.md").read_text()
    assert "1 run(s)" in report and "seed-1: skipped, no evaluations.csv" in report
    (root / "seed-0" / rundir.EVALUATIONS).unlink()    # nothing left to report: the error says why
    assert main(["report", str(root), "--out", str(tmp_path / "report")]) == 2
    assert "seed-0: skipped, no evaluations.csv" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["summary bytes", "summary []", "summary null", "csv bytes"])
def test_a_damaged_run_is_skipped_with_its_reason_in_one_line(tmp_path, capsys, damage):
    root = tmp_path / "evolution"
    for seed in (0, 1):
        write_run(root / f"seed-{seed}", "evolution", seed, 10)
    target, garbage = damage.split(" ")
    bytes_ = bytes(range(128, 256)) if garbage == "bytes" else garbage.encode()
    if target == "summary":
        (root / "seed-1" / rundir.SUMMARY).write_bytes(bytes_)
    else:
        with open(root / "seed-1" / rundir.EVALUATIONS, "ab") as f:
            f.write(bytes_)
    name = rundir.SUMMARY if target == "summary" else rundir.EVALUATIONS
    assert main(["report", str(root), "--out", str(tmp_path / "report")]) == 0
    assert f"seed-1: skipped, {root / 'seed-1' / name}:" in capsys.readouterr().err
    assert main(["report", str(root / "seed-1"), "--out", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(root / "seed-1" / name) in err


def test_a_table_run_killed_before_its_summary_keeps_the_simulated_clock(tmp_path):
    from conftest import CONFIGS

    from era_deap.search.run import run_search
    from era_deap.settings import search_config_from
    config = search_config_from({"name": "rs", "space": str(CONFIGS / "quick" / "space.yaml"), "budget": 6,
                                 "strategy": {"kind": "random_search"},
                                 "evaluator": {"objective": "table", "table": "digits-quick"}})
    run = tmp_path / "rs"
    run_search(config, run)
    (run / rundir.SUMMARY).unlink()          # as when killed before the first summary was written
    assert main(["report", str(run), "--out", str(tmp_path / "report")]) == 0
    runs_line = next(line for line in (tmp_path / "report" / "report.md").read_text().splitlines()
                     if line.startswith("| rs |"))
    assert "(simulated)" in runs_line

# --- colours --------------------------------------------------------------------------------------

def test_colours_fixed_per_strategy_and_deterministic_for_other_names():
    from era_deap.report.figures import STRATEGY_COLOURS, colours
    thesis = list(STRATEGY_COLOURS)
    assert colours(thesis) == colours(list(reversed(thesis))) == STRATEGY_COLOURS
    assert len(set(STRATEGY_COLOURS.values())) == len(STRATEGY_COLOURS) == 10   # the thesis's six and four more
    extra = colours(["evolution", "evolution_p20", "my_search"])
    assert extra == colours(["my_search", "evolution_p20", "evolution"])
    assert len(set(extra.values())) == 3 and extra["evolution"] == STRATEGY_COLOURS["evolution"]
    assert not set(STRATEGY_COLOURS.values()) & {extra["evolution_p20"], extra["my_search"]}


def test_each_search_has_its_colour_in_every_figure(profile):
    from matplotlib.colors import to_hex

    from era_deap.report import figures, runs
    from era_deap.report.figures import figure4, figure5
    searches = runs.load([profile]).searches
    palette = figures.colours([s.key for s in searches])
    unit = figures.time_unit(3600)
    fig4 = figure4(searches, palette, unit)
    seen = {}
    for ax in fig4.axes:
        for collection in ax.collections:
            gid = collection.get_gid() or ""
            if gid.split(":")[0] in ("ok", "median") and len(collection.get_offsets()):
                seen.setdefault(gid.split(":", 1)[1], set()).add(to_hex(collection.get_facecolor()[0]))
    assert seen == {s.key: {palette[s.key]} for s in searches}
    local = next(ax for ax in fig4.axes if ax.get_title().startswith("Local Search"))
    assert "3 failed, 1 cached" in local.get_title()
    labels = {s.label: s.key for s in searches}
    for against in ("evaluations", "time"):
        fig5 = figure5(searches, palette, against, unit)
        for ax in fig5.axes:
            lines = {line.get_label().split(" (")[0].split(" —")[0]: to_hex(line.get_color())
                     for line in ax.get_lines()}
            assert lines == {label: palette[key] for label, key in labels.items()}


def test_run_just_started_with_a_header_only_csv(tmp_path):
    run = tmp_path / "evolution"
    write_run(run, "evolution", 0, 5)
    with open(run / rundir.EVALUATIONS, "w", newline="") as f:
        csv.writer(f).writerow(rundir.EVALUATION_COLUMNS)
    summary = json.loads((run / rundir.SUMMARY).read_text())
    (run / rundir.SUMMARY).write_text(json.dumps({**summary, "finished": False, "best": None}))
    (run / rundir.LOGBOOK_JSON).write_text("[]")
    assert main(["report", str(run)]) == 0
    (row,) = read_csv(run / "report" / "table2.csv")
    assert row["error"] == "" and row["evaluated"] == "0" and row["finished"] == "0"
    assert "**unfinished**" in (run / "report" / "report.md").read_text()


def test_confidence_band_is_scipys_t_interval_over_the_seeds_present():
    from era_deap.report.statistics import mean_band, step_at
    from era_deap.search.outputs import mean_ci
    mean, half, n = mean_band([[1.0, 2.0], [3.0, None], [5.0, 6.0]])
    assert list(n) == [3, 2]
    for k, values in enumerate(([1.0, 3.0, 5.0], [2.0, 6.0])):
        low, high = stats.t.interval(0.95, len(values) - 1, loc=stats.tmean(values), scale=stats.sem(values))
        assert (mean[k] - half[k], mean[k] + half[k]) == pytest.approx((low, high))
        assert mean_ci(values) == pytest.approx(((low + high) / 2, (high - low) / 2))
    # a seed that stopped counts no further, unless it finished and holds its final value
    assert step_at([1, 3], [10.0, 8.0], [0, 1, 2, 3, 4]) == [None, 10.0, 10.0, 8.0, None]
    assert step_at([1, 3], [10.0, 8.0], [4], hold=True) == [8.0]


def test_report_reads_run_directories_written_by_era_deap_0_1(tmp_path):
    # Written before the package was grouped by stage (tests/fixtures/runs_v0_1): the report, the
    # pickled logbook and hall of fame still load.
    import pickle

    from conftest import ROOT
    runs = ROOT / "tests" / "fixtures" / "runs_v0_1"
    assert main(["report", str(runs), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "report.md").read_text()
    assert "random_search" in page.lower() and "regularized" in page.lower()
    for run in ("random_search", "regularized_evolution"):
        logbook = pickle.loads((runs / run / "logbook.pkl").read_bytes())
        assert len(logbook) == 12 and logbook[-1]["best"] is not None
        hall = pickle.loads((runs / run / "hall_of_fame.pkl").read_bytes())
        assert len(hall) == 10 and hall[0].fitness.values[0] == logbook[-1]["best"]


def test_report_help_and_docs_say_the_default_output_folder_in_one_wording(capsys):
    from conftest import ROOT

    from era_deap.cli.main import REPORT_DEFAULT_OUT
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    assert " ".join(REPORT_DEFAULT_OUT.split()) in " ".join(capsys.readouterr().out.split())
    assert f"by default {REPORT_DEFAULT_OUT}." in " ".join((ROOT / "docs" / "report.md").read_text().split())
