"""`era rankcorr CONFIG [--out DIR] [--no-progress]`: the fidelity rank-correlation study (thesis §4.2)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..rankcorr.run import run_study
from ..rankcorr.study import load_rankcorr_config
from ..search.runlock import RunLock
from ..search.safe_write import write_atomic

if TYPE_CHECKING:
    import argparse
    import os


def default_out(config_path: str | os.PathLike) -> Path:
    """runs/<profile>/rankcorr for configs/<profile>/rankcorr.yaml."""
    return Path("runs") / Path(config_path).resolve().parent.name / "rankcorr"


def run_rankcorr(args: argparse.Namespace) -> int:
    config = load_rankcorr_config(args.config)
    out = Path(args.out) if args.out else default_out(args.config)
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out, command="era rankcorr"):
        write_atomic(out / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False).encode())
        run_study(config, out, log=lambda line: print(line, file=sys.stderr, flush=True),
                  progress=not args.no_progress)
    print(out / "rankcorr.md")
    return 0
