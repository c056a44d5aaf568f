"""Objectives for tests/test_problem.py: the landscape, counting every training in a file, optionally
slowly; and one that fails on bottleneck blocks.

ERA_TEST_TRAININGS=FILE appends "start KEY" before and "end KEY" after each training; ERA_TEST_SLEEP=S
sleeps S seconds in between (a training in progress, for a kill to land in)."""
import os
import time

from era_deap.training.objectives import landscape


def _key(arch: dict) -> str:
    return f"{arch['block']}-{'.'.join(map(str, arch['sections']))}-f{arch['filters']}-u{arch['filter_update']}" \
           f"-g{min(arch['group_size'], arch['filters'])}"


def _note(line: str) -> None:
    path = os.environ.get("ERA_TEST_TRAININGS")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())


def counted(arch: dict, seed: int) -> float:
    _note(f"start {_key(arch)}")
    time.sleep(float(os.environ.get("ERA_TEST_SLEEP", "0")))
    error = landscape(arch, seed)
    _note(f"end {_key(arch)}")
    return error


def fails_on_bottleneck(arch: dict, seed: int) -> float:
    if arch["block"] == "bottleneck":
        raise RuntimeError("this objective cannot train bottleneck blocks")
    return landscape(arch, seed)
