"""The fidelity rank-correlation study (thesis §4.2): He et al.'s ResNet families trained at several
epoch budgets, Spearman correlations between the fidelities, tables and heatmaps."""
from .study import RankcorrConfig, load_rankcorr_config

__all__ = ["RankcorrConfig", "load_rankcorr_config"]
