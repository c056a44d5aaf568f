"""A benchmark table: every unique network of a space trained with S seeds by our own evaluator.

One gzip-compressed JSON file (`<name>.json.gz`):

    format        "era-deap-table/1"
    name          e.g. "digits-quick"
    complete      true once every unique network of the space has all its seeds
    space         the gene values (the table answers only for this space)
    seeds         the training seeds, in order: look-up seed index i is training seed seeds[i]
    split_seed    the seed of the train/validation split every network was trained and validated on
    epochs        length of every curve (the schedule's epochs)
    evaluator     the resolved evaluator config that trained it (dataset, schedule, device)
    provenance    build command, package versions, CPU, workers, wall time, CPU-hours, dates
    networks      one per network: key, arch, params, depth, macs, and `results`, one per seed:
                  {status, error, seconds, cpu_seconds, val_error: [per epoch], train_loss: [per epoch],
                  message}; seconds is the wall time of one seed (the group's time / S), cpu_seconds
                  its CPU time, which other load on the machine does not inflate

Reading needs neither torch nor the evaluator: searches on a table are bound by the strategies.
Shipped tables live in era_deap/bench/tables/ and are named without the suffix.
"""
from __future__ import annotations

import functools
import gzip
import io
import json
import statistics
from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from ..space.space import SearchSpace

FORMAT = "era-deap-table/1"
SUFFIX = ".json.gz"


def shipped() -> list[str]:
    """Names of the tables installed with the package."""
    folder = resources.files(__package__) / "tables"
    if not folder.is_dir():                      # git keeps no empty folder: a checkout without tables
        return []
    return sorted(p.name[:-len(SUFFIX)] for p in folder.iterdir() if p.name.endswith(SUFFIX))


def locate(spec: str) -> Path:
    """A shipped table's file by name, or the file `spec` names; ConfigError naming both otherwise."""
    folder = resources.files(__package__) / "tables"
    candidate = folder / f"{spec}{SUFFIX}"
    if candidate.is_file():
        return Path(str(candidate))
    path = Path(spec)
    if path.is_file():
        return path
    if (path / f"table{SUFFIX}").is_file():        # a build directory
        return path / f"table{SUFFIX}"
    raise ConfigError(f"evaluator.table: no table {spec!r}: expected one of the shipped tables "
                      f"({', '.join(shipped()) or 'none'}) or a table file (*{SUFFIX}, or a build directory); "
                      f"looked for {path.resolve()}")


class Table:
    def __init__(self, data: dict, source: str):
        if data.get("format") != FORMAT:
            raise ConfigError(f"{source}: expected a benchmark table (format {FORMAT}), got format "
                              f"{data.get('format')!r}")
        problem = _problem(data)
        if problem:
            raise ConfigError(f"{source}: {problem}")
        self.data, self.source = data, source
        self.name = data["name"]
        self.seeds = list(data["seeds"])
        self.space = SearchSpace(data["space"], source=f"table {self.name}")
        self.networks = {n["key"]: n for n in data["networks"]}
        self.complete = bool(data["complete"]) and len(self.networks) == self.space.n_unique

    @classmethod
    def load(cls, spec: str) -> "Table":
        return _load(str(locate(spec).resolve()))

    @property
    def provenance(self) -> dict:
        return self.data.get("provenance", {})

    @property
    def space_file(self) -> str | None:
        """The space file the table's build config named, where that config is at hand (a checkout of the
        repository): what a search on the table sets as `space:`. None otherwise."""
        import yaml
        built_from = self.provenance.get("config")
        for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
            config = root / built_from if built_from else None
            if config is not None and config.is_file():
                space = (yaml.safe_load(config.read_text()) or {}).get("space")
                if space:
                    path = (config.parent / space).resolve()
                    try:
                        return str(path.relative_to(Path.cwd().resolve()))
                    except ValueError:
                        return str(path)
        return None

    def key(self, arch: dict) -> str:
        from ..space.genome import from_arch
        return self.space.key(from_arch(arch))

    def result(self, key: str, seed: int) -> dict:
        """The recorded training of network `key` with look-up seed `seed` (any integer: seed mod S)."""
        results = self.networks[key]["results"]
        return results[seed % len(results)]

    def mean_result(self, key: str) -> dict:
        """Network `key` as one deterministic observation, the mean over its seeds that trained (as
        NAS-Bench-201's users query it): error and learning curve averaged over those seeds, the mean
        training seconds of all seeds (what one training costs); the first seed's failure if none trained.
        Its error is `mean_errors()[key]`, the number regret is measured in."""
        results = self.networks[key]["results"]
        trained = [r for r in results if r["status"] == "ok"]
        if not trained:
            return results[0]
        def mean(values):   # noqa: E306
            return statistics.fmean(values) if values else None
        seconds = {name: mean([r[name] for r in results if r.get(name) is not None])
                   for name in ("seconds", "cpu_seconds")}
        epochs = min(len(r["val_error"]) for r in trained)
        losses = min(len(r.get("train_loss", [])) for r in trained)
        failed = [str(i) for i, r in enumerate(results) if r["status"] != "ok"]
        return {"status": "ok", "error": mean([r["error"] for r in trained]), **seconds,
                "val_error": [mean([r["val_error"][e] for r in trained]) for e in range(epochs)],
                "train_loss": [mean([r["train_loss"][e] for r in trained]) for e in range(losses)],
                "message": f"mean of {len(trained)} of {len(results)} seeds (seed {', '.join(failed)} "
                           f"failed)" if failed else ""}

    def lookup(self, arch: dict, seed: int | None = None) -> dict:
        """The recorded training of a network (an arch dict, e.g. `to_arch(individual)`): of look-up seed
        `seed` (mod S), or with None the mean over its seeds (`mean_result`). KeyError for a network the
        table does not hold."""
        key = self.key(arch)
        return self.mean_result(key) if seed is None else self.result(key, seed)

    def info(self) -> dict:
        """What `era bench info` says of the landscape: best, median and worst error, seed-to-seed spread
        and rank correlation, the share of networks near the best (bench/summary.py)."""
        from .summary import landscape
        return landscape(self)

    def mean_errors(self) -> dict[str, float]:
        """Mean validation error over the seeds that trained, per network with at least one."""
        means = {}
        for key, network in self.networks.items():
            errors = [r["error"] for r in network["results"] if r["status"] == "ok"]
            if errors:
                means[key] = statistics.fmean(errors)
        return means

    def optimum(self) -> tuple[str, float]:
        """The network with the lowest mean error over seeds, and that error: the regret's zero."""
        means = self.mean_errors()
        key = min(means, key=lambda k: (means[k], k))
        return key, means[key]


def _problem(data: dict) -> str | None:
    """What makes `data` no usable table (the first thing found, as `key: expected ..., got ...`), or None."""
    for key, kind, expected in (("name", str, "a string"), ("complete", bool, "true or false"),
                                ("space", dict, "the gene values (a mapping)"),
                                ("seeds", list, "the training seeds (a non-empty list)"),
                                ("networks", list, "a list of networks")):
        if not isinstance(data.get(key), kind) or (key == "seeds" and not data[key]):
            return f"{key}: expected {expected}, got {data.get(key, '(absent)')!r}"
    for i, network in enumerate(data["networks"]):
        where = f"networks[{i}]"
        if not isinstance(network, dict) or not isinstance(network.get("key"), str) \
                or not isinstance(network.get("arch"), dict):
            return f"{where}: expected a network with a `key` and an `arch`"
        results = network.get("results")
        where = f"{where} ({network['key']}).results"
        if not isinstance(results, list) or not results:
            return f"{where}: expected one result per seed (a non-empty list), got {results!r}"
        for j, result in enumerate(results):
            if not isinstance(result, dict) or not isinstance(result.get("status"), str):
                return f"{where}[{j}]: expected a result with a `status`, got {result!r}"
            error = result.get("error")
            if result["status"] == "ok" and (isinstance(error, bool) or not isinstance(error, (int, float))
                                             or error != error):
                return f"{where}[{j}].error: expected a number for an ok result, got {error!r}"
    return None


@functools.lru_cache(maxsize=4)
def _load(path: str) -> Table:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, EOFError) as exc:
        raise ConfigError(f"{path}: not a readable benchmark table ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a benchmark table (a JSON object), got {type(data).__name__}")
    return Table(data, path)


def dumps(data: dict) -> bytes:
    """The table file's bytes: compact JSON, gzip without a timestamp (the same table, the same bytes)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as f:
        f.write(json.dumps(data, separators=(",", ":"), allow_nan=False).encode())
    return buffer.getvalue()
