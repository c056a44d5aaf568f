"""Training and scoring one architecture: the ResNet builder, the on-device data and augmentation, the
training engine, and the Evaluator that turns any objective (training, a cheap landscape, a benchmark
table) into an `EvalResult`, never an exception. torch is imported only when a network is trained."""
from __future__ import annotations

from .evaluate import Evaluator
from .result import EvalResult

__all__ = ["EvalResult", "Evaluator", "build", "train"]


def __getattr__(name: str):          # torch-backed names load on first use: `era space` stays light
    if name == "train":
        from .train import train
        return train
    if name == "build":
        from .model import build
        return build
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
