"""Datasets (cifar10 in torchvision's on-disk format, digits, synthetic), the seeded split, and the
batched augmentation on the device."""
import pickle

import numpy as np
import pytest
import torch

from era_deap.config import ConfigError
from era_deap.settings import DatasetConfig
from era_deap.training.augment import BatchAugmenter, Normalizer
from era_deap.training.data import CIFAR_FILES, load_dataset
from era_deap.training.evaluate import describe


def write_cifar10(root, per_batch=60, test=60, seed=0):
    """A tiny CIFAR-10 in torchvision's layout: root/cifar-10-batches-py/{data_batch_1..5, test_batch,
    batches.meta}, pickled dicts with 'data' uint8 [N, 3072] and 'labels'. Each class has its own
    colour, so a network can learn it."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    colours = rng.integers(0, 256, size=(10, 3, 1, 1))

    def batch(n, label):
        labels = rng.integers(0, 10, size=n)
        images = np.clip(colours[labels] + rng.normal(0, 40, size=(n, 3, 32, 32)), 0, 255).astype(np.uint8)
        return {"batch_label": label, "labels": labels.tolist(), "data": images.reshape(n, 3072),
                "filenames": [f"img_{i}.png" for i in range(n)]}

    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch(per_batch, f"training batch {i} of 5")))
    (folder / "test_batch").write_bytes(pickle.dumps(batch(test, "testing batch 1 of 1")))
    meta = {"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                            "truck"], "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    return root


# --- cifar10 ----------------------------------------------------------------------------------------

def test_cifar10_folder_in_torchvision_format_loads(tmp_path):
    write_cifar10(tmp_path)
    data = load_dataset(DatasetConfig(name="cifar10", data_dir=str(tmp_path), validation_size=50), 0)
    assert data.sizes() == {"train": 250, "validation": 50, "test": 60}
    assert data.input_shape == (3, 32, 32) and data.num_classes == 10 and data.has_test
    assert describe(DatasetConfig(name="cifar10")) == (data.input_shape, data.num_classes)
    assert data.train_images.dtype == torch.uint8 and data.train_labels.dtype == torch.int64
    assert (data.crop_padding, data.flip) == (4, True)
    # the pixels are those of the files: the test part is test_batch in order
    entry = pickle.loads((tmp_path / "cifar-10-batches-py" / "test_batch").read_bytes())
    assert torch.equal(data.test_images, torch.from_numpy(entry["data"].reshape(-1, 3, 32, 32)))
    assert data.test_labels.tolist() == entry["labels"]


def test_cifar10_default_validation_is_a_tenth_5000_of_50000(tmp_path):
    write_cifar10(tmp_path)
    assert load_dataset(DatasetConfig(name="cifar10", data_dir=str(tmp_path)), 0).sizes()["validation"] == 30


def test_cifar10_data_dir_may_name_the_batches_folder_itself(tmp_path):
    write_cifar10(tmp_path)
    config = DatasetConfig(name="cifar10", data_dir=str(tmp_path / "cifar-10-batches-py"), validation_size=50)
    assert load_dataset(config, 0).sizes()["train"] == 250


def test_cifar10_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_dataset(DatasetConfig(name="cifar10", data_dir=str(tmp_path / "nowhere")), 0)
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "nowhere" / "cifar-10-batches-py") in message
    for name in CIFAR_FILES:
        assert name in message
    assert "cifar-10-python.tar.gz" in message and "download: true" in message


def test_cifar10_incomplete_folder_names_the_missing_files(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(ConfigError, match=r"missing data_batch_3\)"):
        load_dataset(DatasetConfig(name="cifar10", data_dir=str(tmp_path)), 0)


def test_cifar10_corrupt_batch_names_the_file(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").write_bytes(b"truncated")
    with pytest.raises(ConfigError, match="data_batch_2: not a CIFAR-10 batch"):
        load_dataset(DatasetConfig(name="cifar10", data_dir=str(tmp_path)), 0)


def test_cifar10_download_failure_is_one_line(tmp_path, monkeypatch):
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise OSError("network unreachable")
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(ConfigError, match="could not download CIFAR-10.*network unreachable"):
        load_dataset(DatasetConfig(name="cifar10", data_dir=str(tmp_path), download=True), 0)


# --- digits and synthetic ---------------------------------------------------------------------------

def test_digits_is_the_real_sklearn_set_with_its_defaults():
    data = load_dataset(DatasetConfig(name="digits"), 0)
    assert data.sizes() == {"train": 1438, "validation": 359, "test": 0}
    assert data.input_shape == (1, 8, 8) and data.num_classes == 10 and not data.has_test
    assert (data.crop_padding, data.flip) == (1, False)
    assert int(data.train_images.max()) == 16
    pixels = data.train_images.double()
    assert data.mean.item() == pytest.approx(pixels.mean().item(), rel=1e-5)
    assert data.std.item() == pytest.approx(pixels.std().item(), rel=1e-5)


def test_synthetic_any_shape_and_class_count_fixed_pixels():
    config = DatasetConfig(name="synthetic", shape=[2, 12, 20], num_classes=3, train_size=100)
    a, b = load_dataset(config, 0), load_dataset(config, 1)
    assert a.sizes() == {"train": 100, "validation": 25, "test": 0}
    assert a.input_shape == (2, 12, 20) and a.num_classes == 3
    assert set(a.train_labels.tolist()) == {0, 1, 2}
    # the pixels do not depend on the split: the union of the parts is the same set of images
    def union(d):
        return sorted(map(bytes, torch.cat([d.train_images, d.val_images]).flatten(1).numpy()))
    assert union(a) == union(b)


def test_synthetic_classes_are_learnable_by_their_mean_image():
    data = load_dataset(DatasetConfig(name="synthetic", train_size=2000), 0)
    x, y = data.train_images.float().flatten(1), data.train_labels
    centroids = torch.stack([x[y == c].mean(0) for c in range(10)])
    predicted = torch.cdist(data.val_images.float().flatten(1), centroids).argmin(1)
    assert (predicted == data.val_labels).float().mean() > 0.5   # chance is 0.1


# --- the split --------------------------------------------------------------------------------------

def test_same_split_seed_same_split_other_seed_other_split():
    config = DatasetConfig(name="digits")
    a, b, c = load_dataset(config, 7), load_dataset(config, 7), load_dataset(config, 8)
    assert torch.equal(a.val_images, b.val_images) and torch.equal(a.train_labels, b.train_labels)
    assert not torch.equal(a.val_images, c.val_images)


def test_train_size_subsamples_the_training_part_only():
    full = load_dataset(DatasetConfig(name="digits"), 3)
    small = load_dataset(DatasetConfig(name="digits", train_size=200), 3)
    assert small.sizes() == {"train": 200, "validation": 359, "test": 0}
    assert torch.equal(small.val_images, full.val_images)
    assert torch.equal(small.train_images, full.train_images[:200])


def test_train_size_too_large_names_the_key():
    with pytest.raises(ConfigError, match="evaluator.dataset.train_size: expected at most the 1438"):
        load_dataset(DatasetConfig(name="digits", train_size=5000), 0)


def test_configured_padding_and_flip_override_the_defaults():
    data = load_dataset(DatasetConfig(name="digits", crop_padding=0, flip=True, validation_size=100), 0)
    assert (data.crop_padding, data.flip, data.sizes()["validation"]) == (0, True, 100)


# --- augmentation -----------------------------------------------------------------------------------

def _distinct_images(n=6, c=2, h=5, w=7):
    # every pixel value distinct within an image (<= 70 per image), so positions can be recovered
    return (torch.arange(c * h * w, dtype=torch.uint8).reshape(1, c, h, w) + 100 * (torch.arange(n) % 2)
            .reshape(n, 1, 1, 1).to(torch.uint8)) + 1


def _identity_normalizer(c, channels_last=True):
    return Normalizer(torch.zeros(c), torch.ones(c), channels_last)


def test_crop_shifts_content_within_the_zero_padding():
    images, p = _distinct_images(), 2
    augment = BatchAugmenter(images, p, False, _identity_normalizer(2))
    padded = torch.nn.functional.pad(images, (p, p, p, p)).float()
    generator = torch.Generator().manual_seed(0)
    offsets = set()
    for _ in range(30):
        index = torch.arange(6)
        out = augment(index, generator)
        assert out.shape == (6, 2, 5, 7)
        for i in range(6):
            matches = [(dy, dx) for dy in range(2 * p + 1) for dx in range(2 * p + 1)
                       if torch.equal(out[i], padded[i, :, dy:dy + 5, dx:dx + 7])]
            assert len(matches) == 1
            offsets.add(matches[0])
    assert len(offsets) > 15 and (p, p) in offsets   # many shifts, including none


def test_flip_mirrors_horizontally_and_only_sometimes():
    images = _distinct_images()
    augment = BatchAugmenter(images, 0, True, _identity_normalizer(2))
    out = augment(torch.arange(6).repeat(10), torch.Generator().manual_seed(1))
    source = images.float().repeat(10, 1, 1, 1)
    flipped = [torch.equal(o, s.flip(-1)) for o, s in zip(out, source)]
    unflipped = [torch.equal(o, s) for o, s in zip(out, source)]
    assert all(f != u for f, u in zip(flipped, unflipped))
    assert 15 < sum(flipped) < 45


def test_no_flip_means_never_mirrored():
    images = _distinct_images()
    augment = BatchAugmenter(images, 0, False, _identity_normalizer(2))
    out = augment(torch.arange(6).repeat(10), torch.Generator().manual_seed(1))
    assert torch.equal(out, images.float().repeat(10, 1, 1, 1))


def test_augmented_batches_are_normalised_and_channels_last():
    data = load_dataset(DatasetConfig(name="synthetic", train_size=512), 0)
    augment = BatchAugmenter(data.train_images, 0, False, Normalizer(data.mean, data.std, True))
    out = augment(torch.arange(512), torch.Generator().manual_seed(0))
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert out.mean((0, 2, 3)).abs().max() < 1e-3
    assert (out.std((0, 2, 3)) - 1).abs().max() < 1e-3
    plain = BatchAugmenter(data.train_images, 0, False, Normalizer(data.mean, data.std, False))
    assert plain(torch.arange(4), torch.Generator()).is_contiguous()


def test_augmentation_is_seeded():
    data = load_dataset(DatasetConfig(name="synthetic", train_size=256), 0)
    augment = BatchAugmenter(data.train_images, 4, True, Normalizer(data.mean, data.std, True))
    a = augment(torch.arange(64), torch.Generator().manual_seed(5))
    b = augment(torch.arange(64), torch.Generator().manual_seed(5))
    c = augment(torch.arange(64), torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
