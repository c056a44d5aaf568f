"""The evolutions' DEAP operators, from the config to a checked `Toolbox`.

Operators are plain functions as in DEAP (`mutate(individual, **kw) -> (individual,)`,
`mate(a, b, **kw) -> (a, b)`, `select(population, k, **kw) -> [individuals]`), named in the config as
"package.module:function" with their keyword arguments. Arguments the config leaves out are bound
from the run where the function asks for them: `space` (the SearchSpace), and with
`encoding: positions` DEAP's integer bounds `low` / `up` (per gene: 0 and its number of values - 1).

Encodings. `values` (default): operators see the genes' values ('basic', 64, ...), as the package's
own operators expect. `positions`: operators see each gene's position among its values (0, 1, ...),
so DEAP's integer operators (mutUniformInt, mutShuffleIndexes, cxTwoPoint, cxUniform, ...) run
unchanged; a position outside a gene's range is clamped to the nearest value (and rounded, for
operators that make floats).

`check` runs before anything is written or trained: keyword arguments are bound against each
function's signature, and each operator is dry-run on random genomes of the run's space (a tuple of
DEAP individuals with a fitness, values inside the space, `k` members of the population from a
selection). Every problem is one ConfigError naming the config key. During a search, an operator
that raises stops the search with `OperatorFailed`, one line; `--resume` with the operator fixed
continues from the journal (resuming may change operators, see docs/search.md).
"""
from __future__ import annotations

import inspect
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deap import base

from ..config import resolve_callable
from ..errors import ConfigError, SearchAborted

if TYPE_CHECKING:
    from typing import Protocol

    from ..config import _KeyWhere
    from ..space.genome import Individual
    from ..space.space import SearchSpace

    class OperatorSettings(Protocol):
        """The settings a Variation is made from: an evolution's (EvolutionConfig) or a DEAP script's (ScriptConfig)."""
        encoding: str
        mutate: OperatorSpec
        mate: OperatorSpec
        select: OperatorSpec | None

DRY_RUNS = 8


@dataclass
class OperatorSpec:
    """A DEAP operator by import path, with keyword arguments as `toolbox.register` takes them."""
    function: str
    kwargs: dict = field(default_factory=dict)

    def check(self, at: _KeyWhere) -> None:
        if ":" not in self.function:
            at.fail("function", "'package.module:function'", self.function)


def default_operator(function: str, **kwargs: Any) -> Any:
    """A config field whose default is the operator `function` with `kwargs` (a fresh spec each time)."""
    return field(default_factory=lambda: OperatorSpec(function, dict(kwargs)))


class OperatorFailed(SearchAborted):
    """A user operator raised, or returned something that is not what DEAP operators return."""


class Variation:
    """The toolbox of one run: `mutate`, `mate` and, when configured, `select`."""

    def __init__(self, space: SearchSpace, config: OperatorSettings):
        self.space, self.encoding = space, config.encoding
        self.toolbox = base.Toolbox()
        self.names = {}
        for name in ("mutate", "mate", "select"):
            spec = getattr(config, name)
            if spec is not None:
                function, kwargs = self._bind(name, spec)
                self.toolbox.register(name, function, **kwargs)
                self.names[name] = spec.function

    def _bind(self, name: str, spec):
        key = f"strategy.{name}"
        function = resolve_callable(spec.function, f"{key}.function")
        kwargs = dict(spec.kwargs)
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):   # a builtin without a signature: nothing to bind or check
            return function, kwargs
        automatic = {"space": self.space}
        if self.encoding == "positions":
            automatic.update(low=[0] * len(self.space.genes), up=[len(g.values) - 1 for g in self.space.genes])
        for parameter, value in automatic.items():
            if parameter in parameters and parameter not in kwargs:
                kwargs[parameter] = value
        leading = {"mutate": 1, "mate": 2, "select": 2}[name]
        try:
            inspect.signature(function).bind(*range(leading), **kwargs)
        except TypeError as exc:
            accepted = ", ".join(list(parameters)[leading:]) or "none"
            hint = ""
            if self.encoding != "positions" and {"low", "up"} & set(parameters) - set(kwargs):
                # DEAP's integer operators (mutUniformInt, ...) work on integer genes with bounds.
                hint = ("; with `strategy.encoding: positions` the genes are integer positions and "
                        "era-deap passes `low` and `up` itself")
            raise ConfigError(f"{key}.kwargs: {spec.function} {exc} (its keyword arguments: {accepted})"
                              f"{hint}") from None
        return function, kwargs

    # --- encoding -----------------------------------------------------------------------------------

    def encode(self, individual: Individual) -> Individual:
        """A DEAP individual the operators work on (a clone; positions under `encoding: positions`)."""
        clone = self.toolbox.clone(individual)
        if self.encoding == "positions":
            clone[:] = [g.position(v) for g, v in zip(self.space.genes, individual)]
        return clone

    def decode(self, individual: Individual) -> Individual:
        """Back to gene values (positions rounded and clamped into each gene's range)."""
        if self.encoding == "positions":
            individual[:] = [g.values[min(max(int(round(p)), 0), len(g.values) - 1)]
                             for g, p in zip(self.space.genes, individual)]
        return individual

    # --- calls, checked -----------------------------------------------------------------------------

    def mutate(self, individual: Individual) -> Individual:
        result = self._call("mutate", individual)
        return self._individuals("mutate", result, 1)[0]

    def mate(self, a: Individual, b: Individual) -> tuple[Individual, Individual]:
        result = self._call("mate", a, b)
        return self._individuals("mate", result, 2)

    def select(self, population: list[Individual], k: int) -> list:
        chosen = self._call("select", population, k)
        if not isinstance(chosen, (list, tuple)) or len(chosen) != k or not all(
                any(c is p for p in population) for c in chosen):
            raise OperatorFailed(f"strategy.select: {self.names['select']} returned {_shown(chosen)}; expected a list "
                                 f"of k={k} members of the population, as DEAP's selections return")
        return list(chosen)

    def _call(self, name: str, *args):
        try:
            return getattr(self.toolbox, name)(*args)
        except Exception as exc:  # noqa: BLE001 - a user operator: one line, not a traceback
            first = args[0] if name != "select" else f"a population of {len(args[0])}"
            raise OperatorFailed(f"strategy.{name}: {self.names[name]} raised {type(exc).__name__}: {exc} "
                                 f"(on {_shown(first)})") from exc

    def _individuals(self, name: str, result, count: int):
        expected = (f"a tuple of {count} DEAP individual{'s' if count > 1 else ''} as DEAP's "
                    f"{'mutations' if name == 'mutate' else 'crossovers'} return, e.g. `return (individual,)`")
        if not isinstance(result, tuple) or len(result) != count:
            raise OperatorFailed(f"strategy.{name}: {self.names[name]} returned {_shown(result)}; expected {expected}")
        for individual in result:
            if not hasattr(individual, "fitness"):
                raise OperatorFailed(f"strategy.{name}: {self.names[name]} returned {_shown(individual)}, which has "
                                     f"no fitness; expected {expected} (modify and return the individuals given)")
        return result

    # --- before the search ----------------------------------------------------------------------------

    def check(self, tournament_size: int) -> None:
        """Dry-run every operator on random genomes; ConfigError (one line, the config key) on a problem."""
        rng = random.Random(0)
        state = random.getstate()
        random.seed(0)   # operators draw from the global stream: leave it as it was afterwards
        try:
            population = []
            for i in range(max(DRY_RUNS, tournament_size)):
                genome = self.space.draw(rng)
                genome.fitness.values = (float(i),) * self.space.objectives
                population.append(genome)
            for _ in range(DRY_RUNS):
                a, b = rng.sample(population, 2)
                if "select" in self.names:
                    self.select(population, 2)
                child, _ = self.mate(self.encode(a), self.encode(b))
                self._check_inside("mate", self.decode(child))
                self._check_inside("mutate", self.decode(self.mutate(self.encode(a))))
        except OperatorFailed as exc:
            raise ConfigError(f"{exc} [checked before the search, on random genomes of {self.space.source}]") from None
        finally:
            random.setstate(state)

    def _check_inside(self, name: str, genome) -> None:
        problems = self.space.problems(genome)
        if problems:
            hint = (" DEAP's integer operators work on gene positions: set strategy.encoding: positions"
                    if self.encoding == "values" else "")
            raise OperatorFailed(f"strategy.{name}: {self.names[name]} made a genome outside the space "
                                 f"({problems[0]}).{hint}")


def _shown(value) -> str:
    text = repr(value) if not isinstance(value, list) or len(value) <= 10 else f"a list of {len(value)}"
    return text if len(text) <= 80 else text[:77] + "..."
