"""The Gaussian-process surrogate of Bayesian optimisation: an exact GPyTorch GP on encoded genomes.

Kernel: a constant mean plus a scaled Matern 5/2 kernel with one lengthscale per gene (ARD). Matern 5/2
is the usual choice for hyperparameter and architecture response surfaces (Snoek et al. 2012): twice
differentiable, so less smooth than the RBF kernel, whose very smooth samples over-extrapolate on
rough surfaces. ARD lets the fit find which genes matter (e.g. `filters` more than `s1`). The priors
are BoTorch's long-standing SingleTaskGP defaults, which keep the fit sane with a handful of points.

Numerical safety, so that hundreds of points never crash the fit: float64 throughout, a noise floor
of 1e-4 (on standardised targets) that keeps the kernel matrix well conditioned, GPyTorch's Cholesky
jitter, and a fallback to the default hyperparameters when a fit produces non-finite values.

Hyperparameters are fitted by maximising the exact marginal likelihood (plus log priors) with L-BFGS,
warm-started from the previous fit, so later fits need few iterations. Everything here is deterministic
on a CPU: fixed initial values, no random restarts, Cholesky solves (no stochastic CG below 800 points).
"""
from __future__ import annotations

import contextlib
import warnings

import torch

with warnings.catch_warnings():
    # GPyTorch's import still uses torch.jit.script, which this torch deprecates; not ours to fix.
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    import gpytorch
from gpytorch.constraints import GreaterThan
from gpytorch.priors import GammaPrior
from linear_operator.utils.cholesky import psd_safe_cholesky

NOISE_FLOOR = 1e-4
DTYPE = torch.float64


class ExactGP(gpytorch.models.ExactGP):
    def __init__(self, x: torch.Tensor, y: torch.Tensor, likelihood):
        super().__init__(x, y, likelihood)
        self.mean_module = gpytorch.means.ConstantMean()
        matern = gpytorch.kernels.MaternKernel(nu=2.5, ard_num_dims=x.shape[-1],
                                               lengthscale_prior=GammaPrior(3.0, 6.0))
        self.covar_module = gpytorch.kernels.ScaleKernel(matern, outputscale_prior=GammaPrior(2.0, 0.15))

    def forward(self, x):
        return gpytorch.distributions.MultivariateNormal(self.mean_module(x), self.covar_module(x))


def _default_hyperparameters(model: ExactGP) -> None:
    model.initialize(**{"covar_module.base_kernel.lengthscale": 0.5, "covar_module.outputscale": 1.0,
                        "likelihood.noise": 1e-2, "mean_module.constant": 0.0})


class Surrogate:
    """Fit on (x, y), then predict standardised means and standard deviations at candidates.

    `x`: n x d encodings in [0, 1]; `y`: errors (standardised here). Pending points are added with
    `believe`, which conditions the fitted GP on its own posterior mean there (kriging believer):
    the variance at and near them collapses, so the next suggestion goes elsewhere.
    """

    def __init__(self, fit_steps: int = 50):
        self.fit_steps = fit_steps
        self._warm: dict | None = None  # raw hyperparameters of the previous fit
        self.model: ExactGP | None = None
        self.best = float("inf")        # lowest standardised observed target

    def fit(self, x, y) -> None:
        x = torch.as_tensor(x, dtype=DTYPE)
        y = torch.as_tensor(y, dtype=DTYPE)
        self.y_mean, self.y_std = y.mean(), y.std() if len(y) > 1 else torch.tensor(1.0, dtype=DTYPE)
        if not self.y_std > 1e-12:
            self.y_std = torch.tensor(1.0, dtype=DTYPE)
        z = (y - self.y_mean) / self.y_std
        self.best = float(z.min())
        likelihood = gpytorch.likelihoods.GaussianLikelihood(noise_prior=GammaPrior(1.1, 0.05),
                                                             noise_constraint=GreaterThan(NOISE_FLOOR))
        model = ExactGP(x, z, likelihood).to(DTYPE)
        if self._warm is None:
            _default_hyperparameters(model)
        else:
            model.load_state_dict(self._warm, strict=False)
        if not self._optimise(model, x, z):
            _default_hyperparameters(model)  # a fit that went non-finite: fall back, never crash
        self._warm = {name: p.detach().clone() for name, p in model.named_parameters()}
        self.model = model
        self._condition(x, z)

    def _optimise(self, model: ExactGP, x, z) -> bool:
        model.train()
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(model.likelihood, model)
        # The loss is the marginal likelihood per point: changes below 1e-6 no longer move the
        # suggestions, and stopping there saves about a third of each fit (torch's default is 1e-9).
        optimiser = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=self.fit_steps,
                                      tolerance_change=1e-6, tolerance_grad=1e-5, line_search_fn="strong_wolfe")

        def closure():
            optimiser.zero_grad()
            loss = -mll(model(x), z)
            loss.backward()
            return loss

        try:
            optimiser.step(closure)
        except (RuntimeError, ValueError):  # NotPSDError is a RuntimeError
            return False
        return all(torch.isfinite(p).all() for p in model.parameters())

    def believe(self, x_pending) -> None:
        """Kriging believer: add pending points with the posterior mean as their target."""
        x_pending = torch.as_tensor(x_pending, dtype=DTYPE)
        if len(x_pending) == 0:
            return
        fantasy, _ = self.predict(x_pending)
        self._condition(torch.cat([self._x, x_pending]), torch.cat([self._z, fantasy]))

    def predict(self, x) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation of the latent function, standardised units."""
        x = torch.as_tensor(x, dtype=DTYPE)
        with torch.no_grad():
            cross = self.model.covar_module(x, self._x).to_dense()  # m x n
            mean = self._constant + cross @ self._alpha
            v = torch.linalg.solve_triangular(self._cholesky, cross.T, upper=False)
            variance = self._outputscale - (v * v).sum(0)
        return mean, variance.clamp_min(1e-18).sqrt()

    def _condition(self, x, z) -> None:
        """Cache the Cholesky factor and weights of the posterior given (x, z) and the fitted
        hyperparameters. (GPyTorch's own predictive call evaluates the kernel on train + test points
        jointly, (n + m)² entries for 2,000 candidates; the direct form needs n·m.)"""
        with torch.no_grad():
            noise = self.model.likelihood.noise
            covar = self.model.covar_module(x).to_dense() + noise * torch.eye(len(x), dtype=DTYPE)
            self._cholesky = psd_safe_cholesky(covar)
            self._constant = self.model.mean_module.constant
            self._alpha = torch.cholesky_solve((z - self._constant).unsqueeze(-1), self._cholesky).squeeze(-1)
            self._outputscale = self.model.covar_module.outputscale
        self._x, self._z = x, z


@contextlib.contextmanager
def own_torch_stream(seed: int):
    """Fit and acquire on torch's global stream forked and seeded with `seed` (nothing here draws, but
    torch's stream stays the strategy's if it did), on one thread, then restore the driver's settings.
    At a few hundred points threads buy nothing and, on busy shared cores, cost a lot; and one thread
    makes the floating-point reductions, hence the suggestions, identical whatever thread count a
    resumed run's process has."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
