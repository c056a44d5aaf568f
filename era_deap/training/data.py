"""Datasets for the evaluator, loaded once as uint8 tensors on the training device.

- `cifar10`: torchvision's on-disk layout `<data_dir>/cifar-10-batches-py/` (data_batch_1..5,
  test_batch, batches.meta). 50,000 training images split into train/validation (45,000/5,000 by
  default; 10% of a smaller folder); the 10,000 test images are the test part.
- `digits`: scikit-learn's bundled 8x8 handwritten digits (1,797 real images, 1 channel, values 0..16,
  offline). No test part: with so few images every one is needed for training and validation.
- `synthetic`: random images of any shape with learnable class structure (smooth class prototypes plus
  noise), `train_size` training images (default 5,000) plus 20% validation. No test part. The pixels
  come from a fixed seed, so every run and the benchmark's baseline see the same images.

The train/validation split depends on `split_seed` only: every candidate of a run sees the same split.
Datasets without a test part report validation error for full training (see `Dataset.has_test`).
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch import Tensor

from ..config import ConfigError
from ..settings import DatasetConfig

CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR_FILES = CIFAR_TRAIN_FILES + ["test_batch", "batches.meta"]
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SYNTHETIC_SEED = 20200601   # the synthetic pixels never depend on the run
SYNTHETIC_TRAIN_SIZE = 5000
VALIDATION_FRACTION = 0.2   # validation part of digits and synthetic (cifar10: 5,000 images)
CIFAR_VALIDATION_SIZE = 5000
CIFAR_VALIDATION_FRACTION = 0.1   # 5,000 of 50,000; a partial CIFAR-10 folder keeps the proportion


@dataclass
class Dataset:
    """uint8 images [N, C, H, W] and int64 labels on one device, split into parts."""
    name: str
    train_images: Tensor
    train_labels: Tensor
    val_images: Tensor
    val_labels: Tensor
    test_images: Optional[Tensor]
    test_labels: Optional[Tensor]
    num_classes: int
    mean: Tensor            # per channel, in pixel units, from the training part
    std: Tensor
    crop_padding: int
    flip: bool
    split_seed: int

    @property
    def input_shape(self) -> tuple:
        return tuple(self.train_images.shape[1:])

    @property
    def has_test(self) -> bool:
        return self.test_images is not None

    @property
    def device(self) -> torch.device:
        return self.train_images.device

    def sizes(self) -> dict:
        return {"train": len(self.train_labels), "validation": len(self.val_labels),
                "test": len(self.test_labels) if self.has_test else 0}


def load_dataset(config: DatasetConfig, split_seed: int, device: str | torch.device = "cpu") -> Dataset:
    """Load, split (seeded by `split_seed` only), subsample and move to `device` once."""
    if config.name == "cifar10":
        images, labels, test = _cifar10(config)
        default = min(CIFAR_VALIDATION_SIZE, round(CIFAR_VALIDATION_FRACTION * len(labels)))
        val_size = config.validation_size or default
    elif config.name == "digits":
        (images, labels), test = _digits(), None
        val_size = config.validation_size or round(VALIDATION_FRACTION * len(labels))
    else:
        train_size = config.train_size or SYNTHETIC_TRAIN_SIZE
        # validation is 20% of all generated images, as for digits
        val_size = config.validation_size or max(1, round(train_size * VALIDATION_FRACTION / (1 - VALIDATION_FRACTION)))
        images, labels = _synthetic(config, train_size + val_size)
        test = None
    if val_size >= len(labels):
        raise ConfigError(f"evaluator.dataset.validation_size: expected fewer than the {len(labels)} "
                          f"{config.name} training images, got {val_size}")
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(split_seed))
    val_idx, train_idx = order[:val_size], order[val_size:]
    if config.train_size is not None:
        if config.train_size > len(train_idx):
            raise ConfigError(f"evaluator.dataset.train_size: expected at most the {len(train_idx)} {config.name} "
                              f"training images left after the validation split, got {config.train_size}")
        train_idx = train_idx[:config.train_size]
    train_images = images[train_idx]
    mean, std = _channel_stats(train_images)
    def move(t):
        return None if t is None else t.to(device)
    padding = config.crop_padding if config.crop_padding is not None else (1 if config.name == "digits" else 4)
    flip = config.flip if config.flip is not None else config.name != "digits"
    return Dataset(config.name, move(train_images), move(labels[train_idx]), move(images[val_idx]),
                   move(labels[val_idx]), move(test[0]) if test else None, move(test[1]) if test else None,
                   config.num_classes if config.name == "synthetic" else 10, move(mean), move(std), padding,
                   flip, split_seed)


def _channel_stats(images: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel mean and (unbiased) std of uint8 images, exactly, from 256-bin histograms: no float
    copy of the whole set (45,000 CIFAR images would be 1.1 GB in float64)."""
    values = torch.arange(256, dtype=torch.float64)
    means, stds = [], []
    for c in range(images.shape[1]):
        counts = torch.bincount(images[:, c].reshape(-1), minlength=256).double()
        n = counts.sum()
        mean = (counts * values).sum() / n
        means.append(mean)
        stds.append(((counts * (values - mean) ** 2).sum() / max(n - 1, 1)).sqrt())
    return torch.stack(means).float(), torch.stack(stds).clamp_min(1e-3).float()


# --- digits -----------------------------------------------------------------------------------------

def _digits() -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits
    bunch = load_digits()
    images = torch.from_numpy(bunch.images.astype(np.uint8)).unsqueeze(1)   # values 0..16
    return images, torch.from_numpy(bunch.target.astype(np.int64))


# --- synthetic --------------------------------------------------------------------------------------

def _synthetic(config: DatasetConfig, count: int) -> tuple[Tensor, Tensor]:
    """Class prototypes at 1/8 resolution, upsampled (smooth, so crops keep them), plus pixel noise."""
    c, h, w = config.shape
    g = torch.Generator().manual_seed(SYNTHETIC_SEED)
    coarse = torch.randn(config.num_classes, c, max(1, h // 8), max(1, w // 8), generator=g)
    prototypes = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    labels = torch.randint(0, config.num_classes, (count,), generator=g)
    images = torch.empty(count, c, h, w, dtype=torch.uint8)
    for start in range(0, count, 4096):   # in chunks: a float copy of 50k CIFAR-sized images is 600 MB
        y = labels[start:start + 4096]
        noise = torch.randn(len(y), c, h, w, generator=g)
        images[start:start + 4096] = (128 + 16 * prototypes[y] + 64 * noise).clamp_(0, 255).to(torch.uint8)
    return images, labels


# --- CIFAR-10 ---------------------------------------------------------------------------------------

def _cifar10(config: DatasetConfig):
    root = Path(config.data_dir).expanduser()
    if root.name == CIFAR_FOLDER and not (root / CIFAR_FOLDER).exists():
        root = root.parent          # the user named the batches folder itself
    folder = root / CIFAR_FOLDER
    if config.download and _missing(folder):
        _download(root)
    missing = _missing(folder)
    if missing:
        raise ConfigError(
            f"{folder}: CIFAR-10 not found or incomplete (missing {', '.join(missing)}); expected torchvision's "
            f"layout {CIFAR_FOLDER}/{{{','.join(CIFAR_FILES)}}} under evaluator.dataset.data_dir; get it by "
            f"extracting {CIFAR_URL} into {root}, or set evaluator.dataset.download: true")
    train = [_cifar_batch(folder / name) for name in CIFAR_TRAIN_FILES]
    images = torch.cat([t[0] for t in train])
    labels = torch.cat([t[1] for t in train])
    return images, labels, _cifar_batch(folder / "test_batch")


def _missing(folder: Path) -> list[str]:
    return [name for name in CIFAR_FILES if not (folder / name).is_file()]


def _download(root: Path) -> None:
    from torchvision.datasets import CIFAR10
    try:
        CIFAR10(str(root), train=True, download=True)   # verifies the archive's md5, extracts it
    except Exception as exc:  # no network, disk full, bad archive: one line for the user
        raise ConfigError(f"{root / CIFAR_FOLDER}: evaluator.dataset.download: torchvision could not download "
                          f"CIFAR-10 ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                          f"extract {CIFAR_URL} into {root} by hand") from None


def _cifar_batch(path: Path) -> tuple[Tensor, Tensor]:
    """One pickled batch as torchvision writes it: {'data': uint8 [N, 3072], 'labels': [N]}."""
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        data = np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(entry["labels"], dtype=np.int64)
    except Exception as exc:
        raise ConfigError(f"{path}: not a CIFAR-10 batch (a pickled dict with 'data' [N, 3072] uint8 and "
                          f"'labels'; {type(exc).__name__}: {exc}); re-extract {CIFAR_URL}") from None
    if len(labels) != len(data) or (len(labels) and not 0 <= labels.min() <= labels.max() <= 9):
        raise ConfigError(f"{path}: not a CIFAR-10 batch: {len(data)} images, {len(labels)} labels in 0..9 expected")
    return torch.from_numpy(data.copy()), torch.from_numpy(labels)
