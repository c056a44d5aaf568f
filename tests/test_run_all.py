"""./run_all.sh on tiny profiles written here (the cheap `landscape` objective instead of training):
six run dirs and a report; a second invocation trains nothing; a broken search does not stop the
others but fails the script by name; --repeats; Ctrl-C stops everything."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import yaml
from conftest import ROOT
from searchkit import SMALL, rows

KINDS = ("random_search", "local_search", "bayesian_optimization", "evolution", "regularized_evolution",
         "crossover_evolution")


def write_profile(folder, searches, objective="era_deap.training.objectives:landscape", budget=10):
    folder.mkdir()
    base = {"seed": 0, "budget": budget, "evaluator": {"objective": objective, "workers": 0}}
    (folder / "base.yaml").write_text(yaml.safe_dump(base))
    for name, strategy in searches.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump({"base": "base.yaml", "name": name, "strategy": strategy}))
    return folder


def six(folder, **kwargs):
    return write_profile(folder, {k: {"kind": k, **SMALL[k]} for k in KINDS}, **kwargs)


def environment(**extra):
    # The venv's `era` console script first on PATH, as after `pip install -e .` in an activated venv.
    return {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"], **extra}


def run_all(*args, cwd, env=None, **kwargs):
    return subprocess.run(["bash", str(ROOT / "run_all.sh"), *map(str, args)], cwd=cwd,
                          env=environment(**(env or {})), capture_output=True, text=True, **kwargs)


def start_run_all_until(profile, search, results, *, cwd, sleep):
    """Start run_all.sh in its own process group (as a terminal would) and return once `search` has
    `results` results in its journal."""
    process = subprocess.Popen(["bash", str(ROOT / "run_all.sh"), str(profile)], cwd=cwd,
                               env=environment(ERA_OBJECTIVE_SLEEP=str(sleep)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    journal = cwd / "runs" / profile.name / search / "journal.jsonl"
    deadline = time.monotonic() + 60
    while not (journal.exists() and journal.read_text().count('"result"') >= results) and time.monotonic() < deadline:
        time.sleep(0.05)
    return process


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_six_searches_then_report_and_a_second_run_trains_nothing(tmp_path):
    profile = six(tmp_path / "tiny")
    first = run_all(profile, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    runs = tmp_path / "runs" / "tiny"
    for kind in KINDS:
        summary = json.loads((runs / kind / "summary.json").read_text())
        assert summary["finished"] and summary["trained"] == 10 and summary["name"] == kind
    report = runs / "report"
    for name in ("report.md", "fig4.png", "fig4.svg", "fig5_evaluations.png", "table2.csv", "table10.csv",
                 "table11.csv", "tables.md"):
        assert (report / name).stat().st_size > 0, name
    files = sorted(runs.glob("*/journal.jsonl")) + sorted(runs.glob("*/evaluations.csv"))
    before = {p: digest(p) for p in files}

    second = run_all(profile, cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert {p: digest(p) for p in files} == before              # nothing trained, nothing appended
    assert second.stdout.count("(finished before)") == 6 and "era search" not in second.stdout
    assert "ok      report" in second.stdout


def test_a_broken_search_fails_the_script_by_name_and_the_others_still_run(tmp_path):
    # "a_broken" sorts first: the searches after it must still run. --repeats 2: seeds 0 and 1.
    profile = write_profile(tmp_path / "mixed", {"a_broken": {"kind": "evolution", "population_size": 1},
                                                  "random_search": {"kind": "random_search"}}, budget=4)
    result = run_all(profile, "--repeats", "2", cwd=tmp_path)
    assert result.returncode == 1
    for seed in (0, 1):
        run_dir = tmp_path / "runs" / "mixed" / "random_search" / f"seed-{seed}"
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["finished"] and summary["seed"] == seed
    assert "population_size: expected a value >= 2" in result.stderr
    failed = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("FAILED")]
    assert failed == ["FAILED  search a_broken seed 0 (exit 2)", "FAILED  search a_broken seed 1 (exit 2)"]
    assert "ok      report" in result.stdout and (tmp_path / "runs" / "mixed" / "report" / "report.md").exists()


def test_usage_errors_exit_2(tmp_path):
    for args in (["--repeats", "0"], ["--bogus"], [tmp_path / "missing"]):
        result = run_all(*args, cwd=tmp_path)
        assert result.returncode == 2 and "usage: ./run_all.sh" in result.stderr, result.stderr
    result = run_all("--repeats", "99999999999999999999", cwd=tmp_path, timeout=30)   # hung before
    assert result.returncode == 2 and "--repeats: expected a positive integer up to 1000" in result.stderr


def test_run_all_args_with_windows_line_ends_work_and_a_mistake_in_them_names_the_file(tmp_path):
    profile = write_profile(tmp_path / "crlf", {"random_search": {"kind": "random_search"}}, budget=4)
    (profile / "run_all.args").write_bytes(b"--repeats 2\r\n--jobs 1\r\n")
    result = run_all(profile, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "runs" / "crlf" / "random_search").iterdir()) == ["seed-0", "seed-1"]
    (profile / "run_all.args").write_text("--jobs x\n")
    result = run_all(profile, cwd=tmp_path)
    assert result.returncode == 2 and f"{profile}/run_all.args: --jobs: expected a positive integer" in result.stderr


def test_ctrl_c_stops_the_script_instead_of_moving_on(tmp_path):
    profile = write_profile(tmp_path / "slow", {k: {"kind": k} for k in ("random_search", "regularized_evolution")},
                            objective="era_deap.training.objectives:paced_landscape", budget=40)
    process = start_run_all_until(profile, "random_search", 2, cwd=tmp_path, sleep=0.2)
    os.killpg(process.pid, signal.SIGINT)        # what a terminal's Ctrl-C does: the whole foreground group
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "interrupted" in err
    assert not (tmp_path / "runs" / "slow" / "regularized_evolution").exists()
    assert not (tmp_path / "runs" / "slow" / "report").exists()


def test_final_trains_each_best_and_the_baselines_once(tmp_path):
    # Full-training path on a budget: one search in a tiny space, one epoch on 100 digits.
    profile = write_profile(tmp_path / "fin", {"random_search": {"kind": "random_search"}}, budget=3)
    (profile / "space.yaml").write_text(yaml.safe_dump({"genes": {
        "block": ["basic"], "s1": [0], "s2": [1], "s3": [1], "s4": [1, 2], "filters": [1, 2],
        "filter_update": [1, 2], "group_size": [1]}}))   # filters 1: outside the default space
    base = yaml.safe_load((profile / "base.yaml").read_text())
    base["space"] = "space.yaml"
    base["evaluator"].update(dataset={"name": "digits", "train_size": 100}, final={"epochs": 1})
    (profile / "base.yaml").write_text(yaml.safe_dump(base))
    # One torch thread: on 2 busy cores ResNet-110's epoch took 1.3 s this way, 19 s with two threads.
    result = run_all(profile, "--final", cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    runs = tmp_path / "runs" / "fin"
    finals = [runs / "random_search" / "final" / "final.json", runs / "final-resnet110" / "final.json",
              runs / "final-resnet110-wide" / "final.json"]
    best = json.loads((runs / "random_search" / "summary.json").read_text())["best"]
    assert json.loads(finals[0].read_text())["arch"] == best["arch"]
    assert [json.loads(p.read_text())["params"] for p in finals[1:]] == [1729346, 6899322]   # ResNet-110, wide
    table1 = (runs / "report" / "table1.csv").read_text().splitlines()
    assert len(table1) == 4 and table1[1].startswith("ResNet-110 (baseline)")
    before = {p: digest(p) for p in finals}
    again = run_all(profile, "--final", cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert again.returncode == 0 and again.stdout.count("(trained before)") == 3
    assert {p: digest(p) for p in finals} == before


def test_killed_mid_way_then_rerun_resumes_and_finishes_like_an_uninterrupted_run(tmp_path):
    searches = {k: {"kind": k, **SMALL[k]} for k in ("random_search", "regularized_evolution")}
    profile = write_profile(tmp_path / "killed", searches, objective="era_deap.training.objectives:paced_landscape",
                            budget=16)
    process = start_run_all_until(profile, "random_search", 5, cwd=tmp_path, sleep=0.15)
    os.killpg(process.pid, signal.SIGKILL)       # the machine went down: no chance to clean up
    process.communicate(timeout=60)
    assert not (tmp_path / "runs" / "killed" / "report").exists()

    rerun = run_all(profile, cwd=tmp_path, env={"ERA_OBJECTIVE_SLEEP": "0"})
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    reference_profile = write_profile(tmp_path / "reference", searches,
                                      objective="era_deap.training.objectives:landscape", budget=16)
    assert run_all(reference_profile, cwd=tmp_path).returncode == 0
    for kind in searches:
        killed, reference = (tmp_path / "runs" / p / kind for p in ("killed", "reference"))
        assert json.loads((killed / "summary.json").read_text())["finished"]
        assert rows(killed) == rows(reference)
    assert (tmp_path / "runs" / "killed" / "report" / "report.md").exists()


def test_a_profiles_run_all_args_are_its_defaults_and_jobs_run_searches_at_once(tmp_path):
    profile = write_profile(tmp_path / "twice", {"random_search": {"kind": "random_search"},
                                                 "regularized_evolution": {"kind": "regularized_evolution",
                                                                           **SMALL["regularized_evolution"]}})
    (profile / "run_all.args").write_text("# the profile's defaults\n--repeats 2 --jobs 2\n")
    result = run_all(profile, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    runs = tmp_path / "runs" / "twice"
    assert sorted(p.name for p in (runs / "random_search").iterdir()) == ["seed-0", "seed-1"]
    # Two searches at once give the runs one at a time gives: each run is its own process and seed.
    alone = run_all(profile, "--jobs", "1", "--repeats", "3", cwd=tmp_path / "runs")   # the command line wins
    assert alone.returncode == 0, alone.stderr
    again = tmp_path / "runs" / "runs" / "twice"
    assert sorted(p.name for p in (again / "random_search").iterdir()) == ["seed-0", "seed-1", "seed-2"]
    for search in ("random_search", "regularized_evolution"):
        for seed in (0, 1):
            assert rows(runs / search / f"seed-{seed}") == rows(again / search / f"seed-{seed}")


def test_report_with_writes_the_combined_report_or_prints_its_command(tmp_path):
    # configs/bench_mf's run_all.args names runs/bench: its searches are then reported beside the six (#25.5).
    other = write_profile(tmp_path / "other", {"random_search": {"kind": "random_search"}}, budget=4)
    profile = write_profile(tmp_path / "mine", {"evolution": {"kind": "evolution", **SMALL["evolution"]}}, budget=4)
    (profile / "run_all.args").write_text("--report-with runs/other\n")
    missing = run_all(profile, cwd=tmp_path)
    assert missing.returncode == 0, missing.stderr
    assert "runs/other not found, so no combined report; once it exists: era report runs/other runs/mine --out " \
           "runs/mine/report_all" in missing.stdout
    assert not (tmp_path / "runs" / "mine" / "report_all").exists()
    assert run_all(other, cwd=tmp_path).returncode == 0
    combined = run_all(profile, cwd=tmp_path)
    assert combined.returncode == 0, combined.stderr
    assert "ok      report with runs/other" in combined.stdout and "runs/mine/report_all/report.md" in combined.stdout
    page = (tmp_path / "runs" / "mine" / "report_all" / "report.md").read_text()
    assert "2 search(es)" in page
