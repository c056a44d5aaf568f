import pickle
import subprocess
import sys

from era_deap.space.genome import Individual, from_arch, individual, to_arch


def test_individual_round_trips_through_arch():
    genes = ["bottleneck", 3, 6, 3, 1, 64, 2, 1]
    arch = to_arch(genes)
    assert arch == {"block": "bottleneck", "sections": [3, 6, 3, 1], "filters": 64, "filter_update": 2,
                    "group_size": 1}
    assert from_arch(arch) == genes and isinstance(from_arch(arch), Individual)


def test_individual_unpickles_in_a_fresh_process():
    ind = individual(["basic", 0, 18, 18, 18, 8, 2, 8])
    ind.fitness.values = (7.5,)
    ind.birth = 3
    blob = pickle.dumps(ind)
    code = ("import pickle, sys, era_deap; ind = pickle.loads(sys.stdin.buffer.read()); "
            "print(type(ind).__name__, list(ind), ind.fitness.values, ind.birth)")
    out = subprocess.run([sys.executable, "-c", code], input=blob, capture_output=True, check=True).stdout
    assert out.decode().strip() == "EraIndividual ['basic', 0, 18, 18, 18, 8, 2, 8] (7.5,) 3"


def test_a_users_own_creator_individual_neither_changes_ours_nor_is_changed():
    # The DEAP tutorial's classes, made before era_deap is imported: the search still minimises.
    code = ("from deap import base, creator; import warnings; warnings.simplefilter('error');"
            "creator.create('FitnessMax', base.Fitness, weights=(1.0,));"
            "creator.create('Individual', list, fitness=creator.FitnessMax);"
            "from era_deap.space.genome import individual;"
            "print(individual(['basic', 0, 1, 1, 1, 8, 2, 8]).fitness.weights, creator.Individual().fitness.weights)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "(-1.0,) (1.0,)"
