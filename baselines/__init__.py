"""Baseline search strategies on the same ask/tell interface: random, local search, Bayesian optimisation."""
