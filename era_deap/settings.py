"""The configuration of a search, one dataclass per concern (nanoGPT style), loaded strictly.

A search file looks like

    name: regularized_evolution
    space: ../space.yaml             # relative to this file; omitted: the built-in default space
    seed: 0
    budget: 200                      # unique trained architectures
    strategy: {kind: regularized_evolution, population_size: 50, tournament_size: 2}
    evaluator: {objective: train, workers: 1, dataset: {name: digits}, training: {epochs: 20}}

Relative paths inside a file (`space`, `evaluator.dataset.data_dir`) are relative to that file.
The defaults are the thesis protocol (§3.5, §3.6, A.3).
"""
from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional

from .config import ConfigError, Located, bounded, from_mapping, read_with_base, resolve_callable, to_mapping

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from typing import Protocol

    from .config import _KeyWhere

    class SpaceConfigFile(Protocol):
        """A config file that names a space file: a SearchConfig, bench's BuildConfig, rankcorr's RankcorrConfig."""
        space: Optional[str]
        source: str

# --- the evaluator ----------------------------------------------------------------------------------

@dataclass
class DatasetConfig:
    name: Literal["cifar10", "digits", "synthetic"] = "digits"
    data_dir: str = "data"                  # cifar10: torchvision's layout (cifar-10-batches-py/) here
    download: bool = False                  # cifar10: let torchvision download when the machine can
    train_size: Optional[int] = bounded(None, min=1)       # subsample the training part (None: all)
    validation_size: Optional[int] = bounded(None, min=1)  # None: 5000 (cifar10), 20% (others)
    shape: list[int] = bounded([3, 32, 32], min=1)         # synthetic only: channels, height, width
    num_classes: int = bounded(10, min=2)                  # synthetic only
    # random-crop padding; None: 4 (cifar10, synthetic), 1 (digits)
    crop_padding: Optional[int] = bounded(None, min=0)
    flip: Optional[bool] = None                            # horizontal flip; None: yes except digits

    def check(self, at: _KeyWhere) -> None:
        if len(self.shape) != 3:
            at.fail("shape", "three integers [channels, height, width]", self.shape)


@dataclass
class TrainingConfig:
    """One training schedule. `evaluator.training` is the search fidelity, `evaluator.final` the full one."""
    epochs: int = bounded(20, min=1)
    batch_size: int = bounded(128, min=1)
    lr: float = bounded(0.1, above=0)
    momentum: float = bounded(0.9, min=0, below=1)
    weight_decay: float = bounded(1e-4, min=0)
    nesterov: bool = False
    lr_milestones: list[float] = bounded([0.85], above=0, below=1)  # fractions of `epochs`: lr *= lr_gamma
    lr_gamma: float = bounded(0.1, above=0)
    precision: Literal["auto", "bf16", "fp32"] = "auto"     # auto: bf16 autocast on a bf16-native GPU, else fp32
    channels_last: bool = True
    cuda_graph: bool = True                 # CUDA: replay the training step as a CUDA graph (same arithmetic)
    eval_batch_size: Optional[int] = bounded(None, min=1)  # None: 1024 on CUDA, 256 on CPU (cache-sized: faster there)
    use_validation_data: bool = False       # train on train + validation (full training: all 50k)

    def check(self, at: _KeyWhere) -> None:
        if list(self.lr_milestones) != sorted(self.lr_milestones):
            at.fail("lr_milestones", "increasing fractions of the epochs", self.lr_milestones)

    def milestone_epochs(self) -> list[int]:
        """Epochs (0-based) at whose start the learning rate is multiplied by `lr_gamma`."""
        return [round(m * self.epochs) for m in self.lr_milestones]


def full_training_defaults() -> TrainingConfig:
    # Thesis A.3: 164 epochs on all training data, lr / 10 after 50% and 75%.
    return TrainingConfig(epochs=164, lr_milestones=[0.5, 0.75], use_validation_data=True)


@dataclass(frozen=True)
class ObjectiveKind:
    """What an evaluator objective is, known from its name alone, without importing it or torch: code at
    every stage (the report's too) asks these questions of the objective and never compares its name
    (docs/design.md §4). `train` trains; `table` looks networks up in a benchmark table; any other name
    is a plug-in "package.module:function"."""
    trains: bool = False            # trains networks here: torch, a training device, the dataset, threads
    simulated_clock: bool = False   # answers with trainings recorded beforehand: the run's clock is their
                                    # seconds summed; a failure it reports is the record's, not this machine's
    reads_table: bool = False       # looks networks up in `evaluator.table`
    loader: Optional[str] = None    # "package.module:callable" that makes it (a plug-in: itself); None: it
                                    # trains

    def takes_epochs(self, objective: Callable[..., Any]) -> bool:
        """Whether it can answer a multi-fidelity rung (the schedule's first r epochs): training can, and a
        loaded `objective` whose callable has an `epochs` parameter (a table's look-up, a learning curve)."""
        return self.trains or "epochs" in inspect.signature(objective).parameters

    def fidelity(self, objective: Callable[..., Any], training: TrainingConfig) -> Optional[int]:
        """The epochs of the one schedule it scores in full, which a multi-fidelity search's top rung must
        be: training's search schedule, or the loaded `objective`'s own `epochs` (a table's recorded
        schedule); None when it has none (a plug-in answers any rung it is asked)."""
        return training.epochs if self.trains else getattr(objective, "epochs", None)


OBJECTIVE_KINDS = {
    "train": ObjectiveKind(trains=True),
    # The look-up lives in bench/, two stages above the evaluator: loaded by name, as a plug-in (§8).
    "table": ObjectiveKind(simulated_clock=True, reads_table=True,
                           loader="era_deap.bench.lookup:TableObjective"),
}


def objective_kind(name: str) -> ObjectiveKind:
    """What the objective named `name` is: a built-in one, else a plug-in "package.module:function"."""
    return OBJECTIVE_KINDS.get(name) or ObjectiveKind(loader=name)


@dataclass
class EvaluatorConfig:
    objective: str = "train"                # "table" or "package.module:function", (arch, seed) -> error %
    table: Optional[str] = None             # objective: table: a shipped table's name or a table file
    observe: str = "seed"                   # objective: table: "seed" (seed s reads training seed s mod S) or
                                            # "mean" (the mean over the table's seeds, one value per network)
    workers: int = bounded(1, min=0)        # evaluations in parallel (processes); 0: in the driver process
    executor: str = "local"                 # "local" or a Dask scheduler address tcp://HOST:PORT
    device: str = "auto"                    # auto | cpu | cuda | cuda:0,1 (workers round-robin)
    gpu_share: float = bounded(1.0, above=0, max=1)  # Dask: the GPU resource each evaluation asks for
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    final: TrainingConfig = field(default_factory=full_training_defaults)
    # stop when more fail (after min_evaluations_before_stop)
    max_failure_fraction: float = bounded(0.5, above=0, max=1)
    min_evaluations_before_stop: int = bounded(5, min=1)

    @property
    def objective_kind(self) -> ObjectiveKind:
        return objective_kind(self.objective)

    def check(self, at: _KeyWhere) -> None:
        if self.executor != "local" and not self.executor.startswith(("tcp://", "tls://", "inproc://")):
            at.fail("executor", "'local' or a Dask scheduler address such as tcp://HOST:PORT", self.executor)
        if self.objective not in OBJECTIVE_KINDS and ":" not in self.objective:
            at.fail("objective", "'train', 'table' or 'package.module:function'", self.objective)
        if self.observe not in ("seed", "mean"):
            at.fail("observe", "'seed' or 'mean' (how a table objective observes a network)", self.observe)
        if self.observe == "mean" and not self.objective_kind.reads_table:
            at.fail("observe", "'seed' unless objective is table (only a table has seeds to average)",
                    self.observe)
        if self.objective_kind.reads_table and not self.table:
            at.fail("table", "a benchmark table's name (`era bench info` lists them) or path with objective: table",
                    self.table)


# --- strategies -------------------------------------------------------------------------------------

@dataclass
class StrategyConfig:
    """What every strategy has. `sampling` is the distribution of every random draw (the evolutions'
    initial population, random search, local search's random phase, BO's initial points):
    `configurations`, each gene uniform as the thesis and HyperMapper sample (a network whose group
    size is clamped stands for several configurations and is drawn more often), or `networks`, uniform
    over the unique networks. Each strategy's own settings subclass this beside its class."""
    kind: str
    sampling: Literal["configurations", "networks"] = "configurations"


# The strategies, kind -> "module:Class" (docs/design.md §5): the one registry. Each class carries its
# settings dataclass as `Config`, in its own module. Both are loaded by name when a config names the
# kind, as plug-ins: the baselines stand above the search stage, and only the kind used is imported.
STRATEGIES = {
    "evolution": "era_deap.search.evolution:Evolution",
    "regularized_evolution": "era_deap.search.evolution:RegularizedEvolution",
    "crossover_evolution": "era_deap.search.evolution:CrossoverEvolution",
    "nsga2": "era_deap.search.nsga2:NSGA2",
    "asha": "era_deap.search.asha:SuccessiveHalving",
    "hyperband": "era_deap.search.asha:Hyperband",
    "random_search": "era_deap.baselines.random_search:RandomSearch",
    "local_search": "era_deap.baselines.local_search:LocalSearch",
    "bayesian_optimization": "era_deap.baselines.bayesian:BayesianOptimization",
    "deap": "era_deap.search.script:ScriptStrategy",   # a user's DEAP script asks (era_deap.Problem)
}


def strategy_class(kind: str) -> type:
    """The strategy class of a registered `kind` (its module imported now)."""
    return resolve_callable(STRATEGIES[kind], "strategy.kind")


def strategy_config(kind: str) -> type:
    """The settings dataclass of a registered `kind`, beside its class."""
    return strategy_class(kind).Config


# --- the search -------------------------------------------------------------------------------------

class ConfigFile:
    """What every loaded config file shares: `to_dict` is the config as saved beside its results."""

    def to_dict(self) -> dict:
        data = to_mapping(self)
        data.pop("source", None)
        return data


OBJECTIVES = ("error", "params", "macs", "seconds")


@dataclass
class SearchConfig(ConfigFile):
    name: str
    strategy: Any
    space: Optional[str] = None             # path (resolved absolute on load); None: the default space
    seed: int = 0
    budget: int = bounded(200, min=1)
    # Training epochs in all (each evaluation costs the epochs it trained: a multi-fidelity search's rungs
    # cost less than full trainings); the search stops at whichever budget it reaches first. None: no limit.
    budget_epochs: Optional[int] = bounded(None, min=1)
    # 0: asynchronous (a free worker gets the next ask at once). N: deterministic batches of N asks told
    # in ask order, so a seed gives the same run with any number of workers (workers idle meanwhile).
    ask_batch: int = bounded(0, min=0)
    # What is minimised: [error] (the thesis), or error and costs (search/fitness.py): params, macs,
    # seconds, or "package.module:function" (arch, result) -> float. Several: a multi-objective search.
    objectives: list[str] = field(default_factory=lambda: ["error"])
    # Logbook statistics of the evolutions' population, the DEAP way: name -> "package.module:function"
    # of a list of errors (registered on a deap.tools.Statistics beside population_best/_mean).
    statistics: dict = field(default_factory=dict)
    evaluator: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    source: str = field(default="<config>", compare=False)

    def check(self, at: _KeyWhere) -> None:
        # The name is the default run directory under runs/: one plain folder name, never runs/ itself.
        if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", str(self.name)):
            at.fail("name", "a folder name: letters, digits, '_', '-' and '.' (not first)", self.name)
        names = self.objectives
        unknown = [n for n in names if n not in OBJECTIVES and ":" not in n]
        if not names or names[0] != "error" or len(set(names)) != len(names) or unknown:
            at.fail("objectives", f"distinct objectives starting with error, among {', '.join(OBJECTIVES)} or "
                                  f"'package.module:function', e.g. [error, params]", names)


def _strategy_from(data, where: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: strategy: expected a mapping with `kind`, got {data!r}")
    kind = data.get("kind")
    if kind not in STRATEGIES:
        close = difflib.get_close_matches(str(kind), list(STRATEGIES), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]}?)" if close else ""
        loc = getattr(data, "where", {}).get("kind", where)
        raise ConfigError(f"{loc}: strategy.kind: expected one of {', '.join(STRATEGIES)}, got {kind!r}{hint}")
    return from_mapping(strategy_config(kind), data, prefix="strategy.", where=where)


def search_config_from(data: dict, source: str = "<config>", base_dir: Path | None = None) -> SearchConfig:
    """Build a SearchConfig from a mapping; relative paths resolve against `base_dir`."""
    data = Located(data, where=getattr(data, "where", {}), origin=getattr(data, "origin", source))
    strategy_data = data.pop("strategy", None)
    if strategy_data is None:
        raise ConfigError(f"{source}: missing key strategy (a mapping with `kind`)")
    data["strategy"] = None  # placeholder: validated below by kind
    config = from_mapping(SearchConfig, data, where=source)
    config.strategy = _strategy_from(strategy_data, data.where.get("strategy", source))
    config.source = source
    evaluator_data = data.get("evaluator") or {}
    resolve_files(config, data, config.evaluator.dataset, evaluator_data.get("dataset") or {}, base_dir)
    if base_dir is not None and config.evaluator.table and _names_a_file(config.evaluator.table, evaluator_data,
                                                                         base_dir):
        config.evaluator.table = resolve_path(config.evaluator.table, evaluator_data, "table", base_dir)
    return config


def _names_a_file(table: str, evaluator_data, base_dir: Path) -> bool:
    """`evaluator.table` is a shipped table's name or a path: a path (as `space:`) is relative to the
    file that set it. A bare word is a name unless such a file or folder sits beside that file."""
    if "/" in table or table.endswith(".gz") or Path(table).is_absolute():
        return True
    return Path(resolve_path(table, evaluator_data, "table", base_dir)).exists()


def resolve_files(config: SpaceConfigFile, data: Located, dataset: DatasetConfig, dataset_data: dict,
                  base_dir: Path | None) -> None:
    """Make `config.space` (which must exist) and the dataset's `data_dir` absolute, each against the
    directory of the file that set it (`base_dir` when none did). For search, build and rankcorr files."""
    if base_dir is not None:
        if config.space is not None:
            config.space = resolve_path(config.space, data, "space", base_dir)
        dataset.data_dir = resolve_path(dataset.data_dir, dataset_data, "data_dir", base_dir)
    if config.space is not None and not Path(config.space).is_file():
        raise ConfigError(f"{data.where.get('space', config.source)}: space: file not found: {config.space}")


def resolve_path(value: str, mapping: dict, key: str, base_dir: Path) -> str:
    """A path from a config file, made absolute against the directory of the file that set it."""
    location = getattr(mapping, "where", {}).get(key)
    directory = Path(location.rsplit(":", 1)[0]).resolve().parent if location else base_dir
    return str((directory / value).resolve())


def load_search_config(path: str | os.PathLike) -> SearchConfig:
    """Load a search file (following `base:`), validate everything, resolve relative paths."""
    path = Path(path)
    data = read_with_base(path)
    return search_config_from(data, source=str(path), base_dir=path.resolve().parent)


def replace(config: SearchConfig, **changes) -> SearchConfig:
    """A copy of `config` with top-level fields changed (CLI overrides such as --seed)."""
    return dataclasses.replace(config, **changes)
