"""The run directory: its files, the evaluation record, and `RunDirectory`, the one reader of a run.

    <run>/config.yaml        the resolved search config, plus the command that started the run
    <run>/journal.jsonl      append-only, fsynced after every record: asks and results in order
    <run>/evaluations.csv    one row per finished evaluation, in the order results arrived
    <run>/logbook.json|.pkl  DEAP Logbook, one record per finished evaluation (LOGBOOK_FIELDS + extras)
    <run>/hall_of_fame.json|.pkl   DEAP HallOfFame of the best successful genomes
    <run>/summary.json       format, best genome and error, counts, config hash, package versions, finished
    <run>/final/final.json   (optional) full training of the best genome: `era train --out <run>/final`

A final-training directory outside a search (a baseline such as ResNet-110) holds only final.json.
A benchmark build directory (`era bench build`) shares config.yaml, journal.jsonl and lock.

The driver writes (search/records.py, with `Evaluation.to_row`); everything else reads through
`RunDirectory`: the report, `era train --from`, `era compare`, run_all.sh (`era rundir`).

    run = RunDirectory("runs/quick/evolution")
    run.evaluations()            # [Evaluation] in arrival order
    run.is_finished(config)      # a finished run of this very config: resuming it would train nothing
    run.ranked_networks()        # one Evaluation per successfully trained network, best first
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..errors import RunDirError
from ..space.genome import GENES, to_arch
from ..training.result import INTERRUPTED, OK
from .runconfig import code_hashes, config_hash, load_run_config, read_saved_config

if TYPE_CHECKING:
    import os
    from typing import TextIO

    from ..settings import SearchConfig

CONFIG = "config.yaml"
JOURNAL = "journal.jsonl"
EVALUATIONS = "evaluations.csv"
LOGBOOK_JSON = "logbook.json"
LOGBOOK_PICKLE = "logbook.pkl"
HALL_OF_FAME_JSON = "hall_of_fame.json"
HALL_OF_FAME_PICKLE = "hall_of_fame.pkl"
SUMMARY = "summary.json"
FINAL_DIR = "final"
FINAL = "final.json"
LOCK = "lock"

# summary.json `format`: what this version writes and reads. A run without one was written before the
# marker existed (era-deap 0.1 and later versions up to this one) and is read as it is; a run with
# another marker was written by a version whose files this one may misread, so it is refused.
FORMAT = "era-deap-run/1"

# index: 1-based order in which results arrived (the x axis "models evaluated");
# elapsed: seconds since the search started when the result arrived (summed over resumed sessions);
# error: validation error in percent, empty unless status is ok; cached: 1 when the network had been
# evaluated before in this run (costs no budget); seconds: wall time of this evaluation.
EVALUATION_COLUMNS = ("index", "key", "block", "s1", "s2", "s3", "s4", "filters", "filter_update",
                      "group_size", "error", "status", "cached", "params", "depth", "seconds", "elapsed",
                      "worker", "seed", "message", "epochs")
# Columns a reader must not require: runs written before they existed lack them. epochs: empty for a
# full training, r for a multi-fidelity evaluation of the schedule's first r epochs.
OPTIONAL_COLUMNS = ("epochs",)
REQUIRED_COLUMNS = tuple(c for c in EVALUATION_COLUMNS if c not in OPTIONAL_COLUMNS)

# Logbook record per finished evaluation. best/mean_all/mean_last50 are over successful evaluations
# so far (thesis figures 5a, 5b, 5c); None until the first success.
LOGBOOK_FIELDS = ("index", "elapsed", "error", "status", "cached", "best", "mean_all", "mean_last50")
RECENT_WINDOW = 50


@dataclass(frozen=True)
class Evaluation:
    """One finished evaluation: a row of evaluations.csv, typed."""
    index: int
    key: str
    genes: tuple          # GENES order; read back: ints where the text is an integer
    error: float | None   # validation error (%); read back: None unless status is ok
    status: str
    cached: bool
    params: int | None
    depth: int | None
    seconds: float | None
    elapsed: float
    worker: str
    seed: int | None
    message: str
    epochs: int | None = None   # a multi-fidelity evaluation of the schedule's first epochs; None: all

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def arch(self) -> dict:
        return to_arch(self.genes)

    def to_row(self) -> dict:
        """EVALUATION_COLUMNS -> the CSV cell (None written as an empty cell)."""
        cells = {"index": self.index, "key": self.key, **dict(zip(GENES, self.genes)), "error": self.error,
                 "status": self.status, "cached": int(self.cached), "params": self.params,
                 "depth": self.depth, "seconds": self.seconds, "elapsed": self.elapsed, "worker": self.worker,
                 "seed": self.seed, "message": self.message, "epochs": self.epochs}
        return {c: "" if cells[c] is None else cells[c] for c in EVALUATION_COLUMNS}

    @classmethod
    def from_row(cls, row: dict) -> Evaluation:
        """A csv.DictReader row; ValueError naming the column when a cell is malformed. A run written
        before an OPTIONAL_COLUMNS column existed reads as its default (epochs: a full training)."""
        status = row["status"].strip()
        error = _float(row["error"], "error")
        if status == OK and (error is None or not math.isfinite(error)):
            raise ValueError(f"status ok needs a finite error, got {row['error']!r}")
        return cls(
            index=int(row["index"]), key=row["key"],
            genes=(row["block"], *(_int_or_text(row[gene]) for gene in GENES[1:])),
            error=error if status == OK else None, status=status,
            cached=row["cached"].strip() in ("1", "true", "True"),
            params=_int(row["params"], "params"), depth=_int(row["depth"], "depth"),
            seconds=_float(row["seconds"], "seconds"), elapsed=_float(row["elapsed"], "elapsed") or 0.0,
            worker=row["worker"], seed=_int(row["seed"], "seed"), message=row["message"],
            epochs=_int(row.get("epochs") or "", "epochs"))


def write_header(file: TextIO) -> None:
    """evaluations.csv's header line, to an open text file."""
    csv.writer(file).writerow(EVALUATION_COLUMNS)


def write_row(file: TextIO, evaluation: Evaluation) -> None:
    """One evaluation as a line of evaluations.csv, to an open text file."""
    row = evaluation.to_row()
    csv.writer(file).writerow([row[c] for c in EVALUATION_COLUMNS])


class RunDirectory:
    """A run directory, read on demand (each call reads its file again; a run being written moves on).
    Missing files read as empty (no summary: unfinished); a file that is there but unreadable is a
    RunDirError naming it."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r})"

    # --- files ------------------------------------------------------------------------------------

    def config(self) -> SearchConfig:
        """The SearchConfig the run saved (config.yaml, resolved: its paths are absolute)."""
        return load_run_config(self.path / CONFIG)

    def saved_budget(self) -> int | None:
        """The budget the run last ran with (it may have grown past its config file's), or None when the
        directory holds no run yet."""
        path = self.path / CONFIG
        if not path.is_file():
            return None
        budget = read_saved_config(path).get("budget")
        return budget if isinstance(budget, int) else None

    def saved_config(self) -> dict:
        """The saved config.yaml as plain data, with the command that started the run; {} without one."""
        path = self.path / CONFIG
        if not path.exists():
            return {}
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RunDirError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        return data if isinstance(data, dict) else {}

    def summary(self) -> dict:
        """summary.json; {} without one. A run whose `format` this version does not read is refused."""
        summary = _read_json(self.path / SUMMARY, default={})
        if not isinstance(summary, dict):
            raise RunDirError(f"{self.path / SUMMARY}: expected a JSON object (the run's summary), got "
                              f"{type(summary).__name__ if summary is not None else 'null'}")
        marker = summary.get("format")
        if marker is not None and marker != FORMAT:
            raise RunDirError(f"{self.path / SUMMARY}: format {marker!r}: written by another version of "
                              f"era-deap; this one reads {FORMAT} (and older runs, which have no format): "
                              "read it with the version that wrote it")
        return summary

    def logbook(self) -> list | None:
        """logbook.json's records, or None without it."""
        records = _read_json(self.path / LOGBOOK_JSON, default=None)
        return records if isinstance(records, list) else None

    def hall_of_fame(self) -> list | None:
        """hall_of_fame.json's networks (key, arch, error), or None without it."""
        networks = _read_json(self.path / HALL_OF_FAME_JSON, default=None)
        return networks if isinstance(networks, list) else None

    def final(self) -> dict | None:
        """final/final.json (`era train --out <run>/final`), or None before a final training."""
        return read_final(self.path / FINAL_DIR)

    def read_evaluations(self) -> tuple[list[Evaluation], list[str]]:
        """The evaluations and notes for a reader. A last row cut short (the run was killed while writing)
        is dropped with a note, and so are interrupted rows (never written by the driver; retrained on
        resume); any other malformed row is a RunDirError naming file and line. No file: no evaluations."""
        path = self.path / EVALUATIONS
        if not path.exists():
            return [], []
        try:
            with open(path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
                if missing:
                    raise RunDirError(f"{path}: missing column(s) {', '.join(missing)}; expected the header "
                                      f"{','.join(EVALUATION_COLUMNS)}")
                raw = list(reader)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise RunDirError(f"{path}: damaged, not a CSV file of text ({exc}); the journal beside it keeps "
                              "every result: delete the file and `era search --resume` writes it again") from None
        notes, evaluations, interrupted = [], [], 0
        for number, row in enumerate(raw, start=2):
            if any(row.get(c) is None for c in REQUIRED_COLUMNS):
                if number == len(raw) + 1:
                    notes.append(f"last row of {EVALUATIONS} incomplete (run stopped while writing): ignored")
                    continue
                raise RunDirError(f"{path}:{number}: row has fewer fields than the header")
            try:
                evaluation = Evaluation.from_row(row)
            except ValueError as exc:
                raise RunDirError(f"{path}:{number}: {exc}") from None
            if evaluation.status == INTERRUPTED:
                interrupted += 1
                continue
            evaluations.append(evaluation)
        if interrupted:
            notes.append(f"{interrupted} interrupted evaluation(s) ignored (retrained on resume)")
        return evaluations, notes

    def evaluations(self) -> list[Evaluation]:
        return self.read_evaluations()[0]

    # --- what a run is --------------------------------------------------------------------------------

    def is_finished(self, config: SearchConfig) -> bool:
        """True when this directory holds a finished run of `config` (a SearchConfig): the same config
        hash and its budget reached, so resuming it would train nothing. Anything unreadable: False
        (the search that runs next names the problem)."""
        try:
            summary = self.summary()
        except (OSError, RunDirError):
            return False
        return bool(summary.get("finished")) and summary.get("config_hash") == config_hash(config) \
            and summary.get("budget", 0) >= config.budget

    def changed_code(self, config: SearchConfig) -> list[str]:
        """The user modules `config` names (runconfig.code_hashes) whose source is not what this run
        ran: edited since, or not recorded (a run by an earlier era-deap). [] when there is no run here
        yet or nothing changed."""
        try:
            summary = self.summary()
        except (OSError, RunDirError):
            return []
        if not summary:
            return []
        ran = summary.get("code") if isinstance(summary.get("code"), dict) else {}
        return [f"{module} ({'edited since' if module in ran else 'not recorded'})"
                for module, digest in code_hashes(config).items() if ran.get(module) != digest]

    def ranked_networks(self) -> list[Evaluation]:
        """One evaluation per network that trained successfully (ok, not a cache hit), best first: by
        error, the earlier on ties, as the driver picks summary.json's best."""
        ranked, seen = [], set()
        trained = [e for e in self.evaluations() if e.ok and not e.cached]
        for e in sorted(trained, key=lambda e: (e.error, e.index)):
            if e.key not in seen:
                seen.add(e.key)
                ranked.append(e)
        return ranked

    def best_train_flags(self) -> list[str]:
        """`era train` flags for the best architecture of a finished run, and its space; [] before."""
        summary, space = self.summary(), self.saved_config().get("space")
        if not (summary.get("finished") and summary.get("best")):
            return []
        arch = summary["best"]["arch"]
        return ["--block", str(arch["block"]), "--sections", ",".join(map(str, arch["sections"])),
                "--filters", str(arch["filters"]), "--filter-update", str(arch["filter_update"]),
                "--group-size", str(arch["group_size"]), *(["--space", str(space)] if space else [])]


def is_run_config(path: str | os.PathLike) -> bool:
    """Whether `path` is the config.yaml a run directory saved (beside its journal), not a config file."""
    path = Path(path)
    return path.name == CONFIG and (path.parent / JOURNAL).exists()


def read_final(directory: str | os.PathLike) -> dict | None:
    """final.json of a final-training directory (a run's final/, or a baseline's own), or None."""
    return _read_json(Path(directory) / FINAL, default=None)


def _read_json(path: Path, default):
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None


def _float(text: str, column: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"column {column}: expected a number, got {text!r}") from None


def _int(text: str, column: str) -> int | None:
    value = _float(text, column)
    return None if value is None else int(value)


def _int_or_text(text: str):
    try:
        return int(text)
    except ValueError:
        return text   # an invalid genome may hold anything; it is shown, never computed with
