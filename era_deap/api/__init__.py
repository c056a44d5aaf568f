"""The public Python API, re-exported lazily by era_deap/__init__.py (docs/python_api.md). One module per
concept: configs (load_config, load_space, the shared policies), runs (run_search, load_run, Run),
problem (Problem: the ERA problem for a DEAP script), compare (compare, Verdict), tables (load_table).
The report is the report package itself (era_deap.report)."""
