"""A user's DEAP script for tests/test_problem.py: DEAP's eaMuPlusLambda through era_deap.Problem until the
budget ends it.

    python tests/deap_loop.py CONFIG OUT BUDGET [SEED]
"""
import sys

from deap import algorithms

import era_deap

config, out, budget = sys.argv[1], sys.argv[2], int(sys.argv[3])
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
problem = era_deap.Problem(config, out=out, budget=budget, seed=seed)
toolbox = problem.toolbox()
try:
    algorithms.eaMuPlusLambda(toolbox.population(n=6), toolbox, mu=6, lambda_=6, cxpb=0.3, mutpb=0.7, ngen=100,
                              verbose=False)
except era_deap.BudgetExhausted:
    pass
problem.close()
print("trained", problem.run().summary["trained"])
