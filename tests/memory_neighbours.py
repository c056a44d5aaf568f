"""Objectives that run out of memory because of their neighbours, simulated on a CPU: evaluations that
run at once leave marker files in the folder ERA_TEST_MARKERS names, and an evaluation "runs out of
memory" (MemoryError: status oom) when it starts while another one's marker is there. Used by
tests/test_executors.py with local worker processes, which all share the device `cpu`."""
from __future__ import annotations

import os
import time
from pathlib import Path

from searchkit import running

from era_deap.training.objectives import landscape

HOLDER, VICTIM, ALWAYS_OOM = 0, 1, 2   # the roles of `scripted` by evaluation seed; any other: plain


def _folder() -> Path:
    return Path(os.environ["ERA_TEST_MARKERS"])


def _others_running() -> list[str]:
    """Markers of other evaluations still running (a SIGKILLed worker's marker stays: skipped)."""
    others = []
    for marker in _folder().glob("running-*"):
        pid = int(marker.name.split("-")[1])
        if pid != os.getpid() and running(pid):
            others.append(marker.name)
    return others


def _log(line: str) -> None:
    with open(_folder() / "log", "a") as f:
        f.write(line + "\n")


def crowded_oom(arch: dict, seed: int) -> float:
    """Out of memory when another evaluation runs as it starts; else the landscape's error after
    ERA_TEST_HOLD seconds (default 0.5) of holding its memory."""
    marker = _folder() / f"running-{os.getpid()}-{seed}"
    marker.touch()
    try:
        others = _others_running()
        _log(f"{seed} {'beside ' + ','.join(sorted(others)) if others else 'alone'}")
        if others:
            raise MemoryError(f"simulated: out of memory beside {len(others)} other evaluation(s)")
        time.sleep(float(os.environ.get("ERA_TEST_HOLD", "0.5")))
        return landscape(arch, seed)
    finally:
        marker.unlink()


def scripted(arch: dict, seed: int) -> float:
    """Roles by seed. HOLDER runs until the file `release` exists. VICTIM runs out of memory when
    another evaluation runs. ALWAYS_OOM always runs out of memory. Every start is logged as
    "<seed> alone" or "<seed> beside ..."."""
    marker = _folder() / f"running-{os.getpid()}-{seed}"
    marker.touch()
    try:
        others = _others_running()
        _log(f"{seed} {'beside' if others else 'alone'}")
        if seed == HOLDER:
            deadline = time.monotonic() + 60
            while not (_folder() / "release").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        elif seed == ALWAYS_OOM or (seed == VICTIM and others):
            raise MemoryError("simulated: out of memory")
        return 10.0 + seed
    finally:
        marker.unlink()
