"""Seeds as groups: S networks trained as one grouped network are the S networks trained one by one.

In float64 the two agree to rounding over many SGD steps; in float32 they agree at the first steps
and then drift apart as training amplifies the different order of sums inside the grouped kernels
(chaotic, not wrong), which is why these tests compare in float64 or without learning."""
import math

import pytest
import torch
import torch.nn.functional as F

from era_deap.settings import DatasetConfig, TrainingConfig
from era_deap.training.data import load_dataset
from era_deap.training.model import build, load_replicas
from era_deap.training.seed_group import train_seeds
from era_deap.training.sgd import MomentumSGD
from era_deap.training.train import train

ARCHS = [{"block": "bottleneck", "sections": [1, 1, 2, 1], "filters": 8, "filter_update": 2, "group_size": 4},
         {"block": "basic", "sections": [0, 1, 1, 2], "filters": 4, "filter_update": 1, "group_size": 1}]


def plain_and_grouped(arch, seeds, dtype=torch.float32):
    plain = []
    for seed in seeds:
        torch.manual_seed(seed)
        plain.append(build(arch, (1, 8, 8), 10).to(dtype))
    grouped = load_replicas(build(arch, (1, 8, 8), 10, replicas=len(seeds)).to(dtype), plain)
    return plain, grouped


@pytest.mark.parametrize("arch", ARCHS)
def test_grouped_network_trains_exactly_like_its_replicas_in_float64(arch, one_torch_thread):
    plain, grouped = plain_and_grouped(arch, (0, 1, 2), torch.float64)
    optimizers = [MomentumSGD(p.parameters(), momentum=0.9, weight_decay=1e-4) for p in plain]
    optimizer = MomentumSGD(grouped.parameters(), momentum=0.9, weight_decay=1e-4)
    data = torch.Generator().manual_seed(0)
    for step in range(20):
        xs = [torch.randn(16, 1, 8, 8, generator=data, dtype=torch.float64) for _ in plain]
        ys = [torch.randint(0, 10, (16,), generator=data) for _ in plain]
        expected = []
        for network, opt, x, y in zip(plain, optimizers, xs, ys):
            loss = F.cross_entropy(network(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step(0.05)
            expected.append(loss.item())
        logits = grouped(torch.cat(xs, dim=1)).view(16, 3, 10).transpose(1, 2)
        losses = F.cross_entropy(logits, torch.stack(ys, dim=1), reduction="none").mean(0)
        optimizer.zero_grad()
        losses.sum().backward()
        optimizer.step(0.05)
        assert losses.tolist() == pytest.approx(expected, rel=1e-9, abs=1e-12), step


def test_a_replica_full_of_nan_leaves_the_others_untouched(one_torch_thread):
    arch = ARCHS[0]
    plain, grouped = plain_and_grouped(arch, (0, 1, 2))
    with torch.no_grad():
        for tensor in grouped.parameters():
            size = tensor.shape[0] // 3
            tensor[size:2 * size] = float("nan")      # replica 1
    xs = [torch.randn(8, 1, 8, 8) for _ in range(3)]
    out = grouped(torch.cat(xs, dim=1)).view(8, 3, 10)
    assert torch.isnan(out[:, 1]).all()
    for r in (0, 2):
        assert torch.allclose(out[:, r], plain[r](xs[r]), atol=1e-5)
    out[:, 0].sum().backward()
    for tensor in grouped.parameters():
        size = tensor.shape[0] // 3
        assert torch.isfinite(tensor.grad[:size]).all()


def test_train_seeds_gives_each_replica_its_seeds_data_order_crops_and_flips(one_torch_thread):
    # Without learning (lr ~ 0) only the data stream moves BatchNorm's statistics and the losses:
    # equal losses and errors mean each replica saw exactly what train() sees with its seed.
    dataset = load_dataset(DatasetConfig(name="digits", flip=True), 0, "cpu")
    schedule = TrainingConfig(epochs=2, batch_size=64, lr=1e-12, lr_milestones=[0.5])
    arch = ARCHS[1]
    grouped = train_seeds(arch, dataset, schedule, "cpu", seeds=(3, 4))
    for seed, record in zip((3, 4), grouped):
        single = train(arch, dataset, schedule, "cpu", seed=seed)
        for got, expected in zip(record.curve, single.curve):
            assert got["train_loss"] == pytest.approx(expected["train_loss"], rel=1e-4)
            assert got["val_error"] == pytest.approx(expected["val_error"], abs=0.3)   # one image at most
        assert record.params == single.params and record.epochs == 2


def test_train_seeds_learns_and_reports_per_seed_records(one_torch_thread):
    dataset = load_dataset(DatasetConfig(name="digits"), 0, "cpu")
    schedule = TrainingConfig(epochs=3, batch_size=64, lr=0.05, lr_milestones=[0.67])
    records = train_seeds(ARCHS[0], dataset, schedule, "cpu", seeds=(0, 1, 2))
    assert len(records) == 3
    for record in records:
        assert math.isfinite(record.error) and record.error < 50 and len(record.curve) == 3
        assert record.curve[-1]["train_loss"] < record.curve[0]["train_loss"]
        assert record.error_kind == "validation" and record.seconds > 0
    assert len({r.error for r in records}) > 1        # three seeds, three trainings


def test_every_replica_diverging_is_reported_per_seed(one_torch_thread):
    dataset = load_dataset(DatasetConfig(name="digits"), 0, "cpu")
    schedule = TrainingConfig(epochs=2, batch_size=64, lr=1e6, lr_milestones=[0.5])
    records = train_seeds(ARCHS[1], dataset, schedule, "cpu", seeds=(0, 1))
    assert all(type(r).__name__ == "Diverged" for r in records)
