"""Genomes as DEAP individuals.

The `creator` classes are made here, once, when this module is first imported; `era_deap/__init__`
imports it, so any process that imports the package (a worker, a resumed run) can unpickle an
individual. They have names of their own, `EraFitnessMin` and `EraIndividual`: a user's script that
makes the DEAP tutorial's `creator.Individual` (with a maximising `FitnessMax`) before or after
importing era_deap changes nothing here, and nothing here changes it. A genome is a list of the eight
genes in `GENES` order.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from deap import base, creator

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

GENES = ("block", "s1", "s2", "s3", "s4", "filters", "filter_update", "group_size")
SECTION_GENES = GENES[1:5]

if not hasattr(creator, "EraFitnessMin"):
    # Fitness is the validation error in percent: minimised.
    creator.create("EraFitnessMin", base.Fitness, weights=(-1.0,))
if not hasattr(creator, "EraIndividual"):
    creator.create("EraIndividual", list, fitness=creator.EraFitnessMin)

Individual = creator.EraIndividual
FitnessMin = creator.EraFitnessMin
# (DEAP pickles creator classes with their definition, so the pickles of era-deap 0.1, whose classes
# were creator.FitnessMin and creator.Individual, still load.)


def individual_class(objectives: int = 1) -> type:
    """The DEAP individual class whose fitness minimises `objectives` values (error, then costs):
    EraIndividual for one, EraIndividual2 (with EraFitnessMin2) for two, and so on, made once."""
    if objectives == 1:
        return Individual
    name = f"EraIndividual{objectives}"
    if not hasattr(creator, name):
        creator.create(f"EraFitnessMin{objectives}", base.Fitness, weights=(-1.0,) * objectives)
        creator.create(name, list, fitness=getattr(creator, f"EraFitnessMin{objectives}"))
    return getattr(creator, name)


def individual(genes: Iterable[str | int], objectives: int = 1) -> Individual:
    """A fresh DEAP individual holding `genes` (fitness invalid)."""
    return individual_class(objectives)(list(genes))


def to_arch(genome: Sequence[str | int]) -> dict:
    """The architecture dict handed to builders and objectives (keys as in the thesis)."""
    block, s1, s2, s3, s4, filters, update, group = genome
    return {"block": block, "sections": [s1, s2, s3, s4], "filters": filters,
            "filter_update": update, "group_size": group}


def from_arch(arch: dict) -> Individual:
    """Inverse of `to_arch`."""
    sections = list(arch["sections"])
    return individual([arch["block"], *sections, arch["filters"], arch["filter_update"],
                       arch["group_size"]])
