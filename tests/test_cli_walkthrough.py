"""What a new user's walk through the CLI turned up: a grown budget that stuck, no way out of a failed
start, `era train --from RUN_DIR`, `era arch` on the search's input shape, help for every flag,
summary counts that tell trained from invalid, and a few wrong words."""
import argparse
import json
import os
import re

import pytest
import yaml
from conftest import CONFIGS, ROOT
from searchkit import rows, summary, write_config

from era_deap.cli import main
from era_deap.cli.main import build_parser
from era_deap.search.runlock import RunLock
from era_deap.space.space import SearchSpace, load_space
from era_deap.training import objectives

QUICK_SPACE = CONFIGS / "quick" / "space.yaml"


def era(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def search_config(tmp_path, budget=6, objective="era_deap.training.objectives:landscape", kind="random_search"):
    """A quick-space search on a cheap objective (no training), dataset digits as the quick profile."""
    return write_config(tmp_path, kind, budget=budget, objective=objective, space=QUICK_SPACE)


# --- 2. a grown budget does not stick -------------------------------------------------------------------

def test_plain_resume_keeps_the_budget_a_resume_grew(tmp_path, capsys):
    config, out = search_config(tmp_path, budget=4), tmp_path / "run"
    assert era(capsys, "search", config, "--out", out, "--no-progress")[0] == 0
    assert era(capsys, "search", config, "--out", out, "--resume", "--budget", "6", "--no-progress")[0] == 0
    code, printed, err = era(capsys, "search", config, "--out", out, "--resume", "--no-progress")
    assert code == 0, err
    assert summary(out)["budget"] == 6 and summary(out)["trained"] == 6 and len(rows(out)) == 6
    # An explicit smaller budget is still refused, naming the flag, the run's budget and the value.
    code, _, err = era(capsys, "search", config, "--out", out, "--resume", "--budget", "5", "--no-progress")
    assert code == 2 and err.count("\n") == 1
    assert "budget (--budget): expected at least the run's budget 6" in err and "got 5" in err
    # A budget raised in the config file still grows the run (run_all.sh's way of growing a profile).
    data = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({**data, "budget": 8}))
    assert era(capsys, "search", config, "--out", out, "--resume", "--no-progress")[0] == 0
    assert summary(out)["budget"] == 8 and len(rows(out)) == 8


# --- 3. a way out of a failed start -----------------------------------------------------------------------

def test_fresh_moves_a_run_that_cannot_resume_aside_and_starts_anew(tmp_path, capsys):
    out = tmp_path / "run"
    failing = search_config(tmp_path, budget=8, objective="era_deap.training.objectives:failing")
    assert era(capsys, "search", failing, "--out", out, "--no-progress")[0] == 1   # most evaluations failed
    fixed = search_config(tmp_path, budget=8)    # the same file, objective fixed
    assert era(capsys, "search", fixed, "--out", out, "--no-progress")[0] == 2
    code, _, err = era(capsys, "search", fixed, "--out", out, "--resume", "--no-progress")
    assert code == 2 and "evaluator.objective" in err and "--fresh" in err
    before = sorted(p.name for p in out.iterdir())

    code, printed, err = era(capsys, "search", fixed, "--out", out, "--fresh", "--no-progress")
    assert code == 0, err
    assert f"moved the earlier run in {out} to {out}.old-1" in err
    assert sorted(p.name for p in (tmp_path / "run.old-1").iterdir()) == before     # nothing lost
    assert summary(tmp_path / "run.old-1")["stop_reason"] == "failures"
    assert summary(out)["finished"] and summary(out)["ok"] == 8
    # Again: the next free name; --fresh without a run there just starts.
    assert era(capsys, "search", fixed, "--out", out, "--fresh", "--no-progress")[0] == 0
    assert (tmp_path / "run.old-2").is_dir() and (tmp_path / "run.old-1").is_dir()
    assert era(capsys, "search", fixed, "--out", tmp_path / "new", "--fresh", "--no-progress")[0] == 0
    assert not (tmp_path / "new.old-1").exists()


def test_fresh_refuses_resume_and_a_run_in_use(tmp_path, capsys):
    config, out = search_config(tmp_path, budget=3), tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["search", str(config), "--out", str(out), "--fresh", "--resume"])
    assert exc.value.code == 2
    assert "argument --resume: not allowed with argument --fresh" in capsys.readouterr().err
    assert era(capsys, "search", config, "--out", out, "--no-progress")[0] == 0
    with RunLock(out):
        code, _, err = era(capsys, "search", config, "--out", out, "--fresh", "--no-progress")
    assert code == 2 and f"{out} is in use by process {os.getpid()}" in err
    assert not (tmp_path / "run.old-1").exists() and summary(out)["finished"]


# --- 4. era train --from RUN_DIR --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def landscape_run(tmp_path_factory):
    """A finished 12-network search of the quick space on the noisy landscape (errors vary by seed)."""
    directory = tmp_path_factory.mktemp("landscape")
    config = write_config(directory, "random_search", budget=12, space=QUICK_SPACE,
                          objective="era_deap.training.objectives:noisy_landscape")
    assert main(["search", str(config), "--out", str(directory / "run"), "--no-progress"]) == 0
    return directory / "run"


def ranked(run_dir):
    ok = [r for r in rows(run_dir) if r["status"] == "ok" and r["cached"] == "0"]
    return sorted(ok, key=lambda r: (float(r["error"]), int(r["index"])))


@pytest.mark.usefixtures("one_torch_thread")
def test_train_from_a_run_takes_its_kth_best_network_its_config_and_space(landscape_run, tmp_path, capsys):
    code, printed, err = era(capsys, "train", "--from", landscape_run, "--epochs", "1", "--train-size", "64",
                             "--no-progress", "--out", tmp_path / "best")
    assert code == 0, err
    final = json.loads((tmp_path / "best" / "final.json").read_text())
    assert final["key"] == summary(landscape_run)["best"]["key"] == ranked(landscape_run)[0]["key"]
    assert final["rank"] == 1 and final["search_error"] == pytest.approx(summary(landscape_run)["best"]["error"])
    assert final["dataset"] == "digits" and final["training"]["lr_milestones"] == [0.5, 0.75]  # evaluator.final
    assert final["config"] == str(landscape_run / "config.yaml")
    assert f"from run:         {landscape_run}, rank 1 (search error" in printed
    code, printed, err = era(capsys, "train", "--from", landscape_run, "--rank", "3", "--epochs", "1",
                             "--train-size", "64", "--no-progress", "--json")
    assert code == 0 and json.loads(printed)["key"] == ranked(landscape_run)[2]["key"]


@pytest.mark.parametrize("flags, message", [
    (["--from", "{run}", "--rank", "99"], "--rank: expected at most 12 (the successful networks of"),
    (["--from", "{tmp}"], "expected a search run directory holding config.yaml, found none"),
    (["--from", "{run}", "--filters", "8"], "argument --from: takes the genome, config and space from"),
    (["--from", "{run}", "--config", "x.yaml"], "leave out --config"),
    (["--rank", "2", "--block", "basic"], "argument --rank: expected with --from RUN_DIR"),
    (["--block", "basic"], "required: --sections, --filters, --filter-update, --group-size (or --from RUN_DIR)"),
    (["--from", "{run}", "--repeats", "1"], "argument --repeats: expected an integer of at least 2, got '1'"),
])
def test_train_from_errors_are_one_line(landscape_run, tmp_path, capsys, flags, message):
    argv = ["train", *[f.format(run=landscape_run, tmp=tmp_path) for f in flags]]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_config_checks_the_genome_against_its_own_space(capsys):
    quick = CONFIGS / "quick" / "evolution.yaml"
    genome = ["--block", "basic", "--sections", "0,1,1,1", "--filters", "16", "--filter-update", "2",
              "--group-size", "1"]
    with pytest.raises(SystemExit) as exc:
        main(["train", *genome, "--config", str(quick)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and f"argument --filters: expected one of 2, 4, 8 ({quick}'s space), got 16" in err
    # --space names another space on purpose (e.g. ResNet-110 on the quick profile's settings).
    code, printed, _ = era(capsys, "arch", *genome, "--config", quick, "--space", CONFIGS / "space.yaml", "--json")
    assert code == 0 and json.loads(printed)["genome"]["filters"] == 16


def test_repeats_retrain_the_top_networks_on_several_seeds(landscape_run, tmp_path, capsys):
    code, printed, err = era(capsys, "train", "--from", landscape_run, "--rank", "2", "--repeats", "3",
                             "--seed", "5", "--json", "--out", tmp_path)
    assert code == 0, err
    result = json.loads(printed)
    assert [n["key"] for n in result["networks"]] == [r["key"] for r in ranked(landscape_run)[:2]]
    for network in result["networks"]:
        expected = [objectives.noisy_landscape(_arch(network["key"]), seed) for seed in (5, 6, 7)]
        assert network["errors"] == pytest.approx(expected) and network["seeds"] == [5, 6, 7]
        assert network["std"] > 0 and network["min"] <= network["mean"] <= network["max"]
    assert json.loads((tmp_path / "repeats.json").read_text())["networks"] == result["networks"]
    code, printed, _ = era(capsys, "train", "--from", landscape_run, "--repeats", "2")
    assert code == 0 and "mean ± std" in printed and "standard deviation over the seeds" in printed


def _arch(key: str) -> dict:
    """The arch of a canonical key such as bottleneck-0.2.2.1-f8-u2-g8."""
    block, sections, filters, update, group = key.split("-")
    return {"block": block, "sections": [int(s) for s in sections.split(".")], "filters": int(filters[1:]),
            "filter_update": int(update[1:]), "group_size": int(group[1:])}


# --- 5. era arch counts parameters on the search's input --------------------------------------------------

def test_arch_takes_the_input_shape_from_a_config_or_dataset_and_prints_it(landscape_run, capsys):
    best = ranked(landscape_run)[0]
    arch = _arch(best["key"])
    genome = ["--block", arch["block"], "--sections", ",".join(map(str, arch["sections"])),
              "--filters", arch["filters"], "--filter-update", arch["filter_update"],
              "--group-size", arch["group_size"]]
    code, printed, _ = era(capsys, "arch", *genome, "--config", landscape_run / "config.yaml", "--json")
    info = json.loads(printed)
    assert code == 0 and info["params"] == int(best["params"]) and info["input"] == [1, 8, 8]   # as the search
    code, printed, _ = era(capsys, "arch", *genome, "--dataset", "digits", "--json")
    assert json.loads(printed)["params"] == int(best["params"])
    code, printed, _ = era(capsys, "arch", *genome)
    assert "input:       3x32x32, 10 classes (cifar10 by default" in printed
    code, printed, _ = era(capsys, "arch", *genome, "--dataset", "digits")
    assert "input:       1x8x8, 10 classes (--dataset digits)" in printed
    assert int(re.search(r"params: +([\d,]+)", printed).group(1).replace(",", "")) == int(best["params"])


# --- 9. help ----------------------------------------------------------------------------------------------

def test_bare_era_lists_the_commands_and_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    for command in ("space", "arch", "train", "search", "bench", "report", "rankcorr"):
        assert re.search(rf"^  {command} +\S", err, re.M), err
    assert err.rstrip().splitlines()[-1].startswith("era: error: expected a command")
    with pytest.raises(SystemExit):
        main(["bench"])
    assert re.search(r"^  build +train every network", capsys.readouterr().err, re.M)


def test_every_flag_of_every_command_has_a_help_text():
    def parsers(parser, name="era"):
        yield name, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    yield from parsers(sub, f"{name} {sub_name}")

    missing = [f"{name}: {action.option_strings or action.dest}" for name, parser in parsers(build_parser())
               for action in parser._actions
               if not isinstance(action, argparse._SubParsersAction) and not action.help]
    assert not missing


# --- 10. small wrong words --------------------------------------------------------------------------------

def test_a_missing_base_file_names_the_config_and_line_that_points_to_it(tmp_path, capsys):
    config = tmp_path / "search.yaml"
    config.write_text("name: x\nbase: nowhere.yaml\nstrategy: {kind: random_search}\n")
    code, _, err = era(capsys, "search", config)
    assert code == 2 and err.count("\n") == 1
    assert f"{config}:2: base: file not found: {tmp_path / 'nowhere.yaml'}" in err


def test_the_landscape_optimum_reachable_in_the_quick_space_is_documented():
    error, arch = objectives.best_in_space(load_space(QUICK_SPACE))
    assert round(error, 2) == objectives.QUICK_SPACE_BEST_ERROR == 20.41
    assert arch == _arch("bottleneck-0.2.2.1-f8-u2-g8")
    assert objectives.landscape(objectives.OPTIMUM) == objectives.OPTIMUM_ERROR   # in the default space only
    assert not load_space(QUICK_SPACE).is_valid([objectives.OPTIMUM["block"], *objectives.OPTIMUM["sections"],
                                                 64, 2, 32])
    assert "**20.41** (`bottleneck-0.2.2.1-f8-u2-g8`)" in (ROOT / "docs" / "evaluator.md").read_text()


# --- 11. summary counts: trained, failed by status, invalid ------------------------------------------------

def test_summary_counts_invalid_genomes_apart_from_trainings(tmp_path, capsys, monkeypatch):
    # The driver asks the space whether a genome is buildable; here every 2-filter genome is not.
    is_valid = SearchSpace.is_valid
    monkeypatch.setattr(SearchSpace, "is_valid", lambda self, g: is_valid(self, g) and g[5] != 2)
    config = write_config(tmp_path, "random_search", budget=12, space=QUICK_SPACE,
                          objective="era_deap.training.objectives:flaky_landscape",
                          evaluator={"max_failure_fraction": 1.0})   # keep going: the counts are the point
    code, printed, err = era(capsys, "search", config, "--out", tmp_path / "run", "--no-progress")
    assert code == 0, err
    table = rows(tmp_path / "run")
    invalid = sum(r["status"] == "invalid" for r in table)
    failed = {}
    for r in table:
        if r["status"] not in ("ok", "invalid") and r["cached"] == "0":
            failed[r["status"]] = failed.get(r["status"], 0) + 1
    s = summary(tmp_path / "run")
    assert invalid and s["invalid"] == invalid and s["failed"] == dict(sorted(failed.items()))
    assert s["budget_used"] == 12 == s["trained"] + s["invalid"]
    assert s["trained"] == s["ok"] + sum(s["failed"].values())
    shown = ", ".join(f"{k} {v}" for k, v in s["failed"].items())
    failures = f"{sum(s['failed'].values())} failed: {shown}" if s["failed"] else "none failed"
    assert f"{s['trained']} trained ({failures}), {invalid} invalid (never trained), {s['cached']} cached; " \
           f"stopped: budget;" in printed
