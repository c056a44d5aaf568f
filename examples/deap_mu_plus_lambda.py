"""DEAP's own eaMuPlusLambda over the ERA space, scored on the shipped digits-quick table (look-ups, no
training: configs/bench/base.yaml says objective: table, observe: mean), then the report.

    python examples/deap_mu_plus_lambda.py [OUT]     # default runs/deap_mu_plus_lambda; era report OUT works too

The budget (200 trained networks) ends the loop early: BudgetExhausted. Rerun it and the run directory's
journal answers every evaluation again, training nothing.
"""
import sys
from pathlib import Path

import numpy
from deap import algorithms, tools

import era_deap

out = sys.argv[1] if len(sys.argv) > 1 else "runs/deap_mu_plus_lambda"
config = Path(__file__).resolve().parents[1] / "configs" / "bench" / "base.yaml"
problem = era_deap.Problem(config, out=out, budget=200, seed=0)
toolbox = problem.toolbox()
stats = tools.Statistics(lambda individual: individual.fitness.values[0])
stats.register("min", numpy.min)
stats.register("mean", numpy.mean)
hof = tools.HallOfFame(5)
try:
    algorithms.eaMuPlusLambda(toolbox.population(n=50), toolbox, mu=50, lambda_=50, cxpb=0.3, mutpb=0.7,
                              ngen=10, stats=stats, halloffame=hof)
except era_deap.BudgetExhausted as stop:
    print(stop)
problem.close()
print(f"best: {problem.space.key(hof[0])} {hof[0].fitness.values[0]:.2f}% validation error")
print("report:", era_deap.report(out)[-1])
