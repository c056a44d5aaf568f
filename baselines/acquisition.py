"""Expected improvement for minimisation, computed as its logarithm.

EI itself underflows to exactly 0 a few standard deviations from the incumbent, and then every such
candidate ties; log EI (Ament et al. 2023, "Unexpected Improvements to Expected Improvement") keeps
ranking them, with the same maximiser wherever EI is representable.
"""
from __future__ import annotations

import math

import torch

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_HALF_PI = math.sqrt(math.pi / 2)


def log_h(u: torch.Tensor) -> torch.Tensor:
    """log(u Φ(u) + φ(u)), the standardised EI, stable for any u."""
    normal = torch.distributions.Normal(torch.zeros_like(u), torch.ones_like(u))
    direct = torch.log(u * normal.cdf(u) + torch.exp(normal.log_prob(u)))
    # u < -1: u Φ(u) + φ(u) = φ(u) (1 - |u| R(|u|)), R(x) = Φ(-x)/φ(x) = sqrt(pi/2) erfcx(x / sqrt 2).
    a = u.abs().clamp_min(1.0)
    one_minus = 1.0 - a * _SQRT_HALF_PI * torch.special.erfcx(a / math.sqrt(2.0))
    log_phi = -0.5 * u * u - _LOG_SQRT_2PI
    tail = torch.where(a < 1e4, log_phi + torch.log(one_minus.clamp_min(1e-300)), log_phi - 2 * torch.log(a))
    return torch.where(u > -1.0, direct, tail)


def log_expected_improvement(mean: torch.Tensor, std: torch.Tensor, best: float) -> torch.Tensor:
    """log E[max(best - f, 0)] for f ~ N(mean, std²): improvement below the incumbent `best`."""
    return torch.log(std) + log_h((best - mean) / std)
