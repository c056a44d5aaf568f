"""Helpers for tests that run whole searches: write a config, run the CLI, read a run directory."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import yaml

from era_deap.search import rundir

# Small, fast settings per strategy for tests (the defaults are the thesis's 200-evaluation protocol).
SMALL = {
    "evolution": {"population_size": 8},
    "regularized_evolution": {"population_size": 8},
    "crossover_evolution": {"population_size": 8},
    "random_search": {},
    "local_search": {"random_samples": 8, "starts": 2},
    "bayesian_optimization": {"initial_points": 5, "random_candidates": 200},
    "nsga2": {"population_size": 8, "offspring_size": 4},
    "asha": {},
    "hyperband": {},
}
KINDS = tuple(k for k in SMALL if k not in ("nsga2", "asha", "hyperband"))   # the thesis's six
# Columns that depend on timing or on which process evaluated, not on what was searched.
TIMING = ("elapsed", "seconds", "worker")


def write_config(directory: Path, kind: str, *, objective="era_deap.training.objectives:landscape", budget=24, seed=0,
                 workers=0, space=None, strategy=None, evaluator=None, name=None, **top) -> Path:
    data = {"name": name or kind, "seed": seed, "budget": budget, **top,
            "strategy": {"kind": kind, **SMALL[kind], **(strategy or {})},
            "evaluator": {"objective": objective, "workers": workers, **(evaluator or {})}}
    if space is not None:
        data["space"] = str(space)
    path = Path(directory) / f"{name or kind}-{seed}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def era(*args, env=None, check=True, **kwargs) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    result = subprocess.run([sys.executable, "-m", "era_deap.cli", *map(str, args)], capture_output=True,
                            text=True, env=environment, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"era {' '.join(map(str, args))} exited {result.returncode}:\n{result.stderr}")
    return result


def start_era(*args, env=None) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "era_deap.cli", *map(str, args)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows(run_dir: Path, drop=TIMING) -> list[dict]:
    with open(Path(run_dir) / rundir.EVALUATIONS, newline="") as f:
        return [{k: v for k, v in row.items() if k not in drop} for row in csv.DictReader(f)]


def summary(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / rundir.SUMMARY).read_text())


def journal_results(run_dir: Path) -> int:
    path = Path(run_dir) / rundir.JOURNAL
    if not path.exists():
        return 0
    return path.read_bytes().count(b'"type":"result"')


def wait_for_results(run_dir: Path, count: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while journal_results(run_dir) < count:
        if process.poll() is not None:
            raise AssertionError(f"search ended before {count} results: {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"no {count} results within {timeout} s")
        time.sleep(0.01)


def running(pid: int) -> bool:
    """Running, not a zombie: a killed search's workers are reparented, and where nothing reaps them
    (PID 1 of a container) they stay zombies that os.kill(pid, 0) still finds."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
