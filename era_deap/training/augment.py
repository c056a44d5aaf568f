"""Batched augmentation and normalisation on the training device (no PIL, no DataLoader).

The training images are padded once (black border, as torchvision's `RandomCrop(padding=p)` pads a PIL
image) and kept as one uint8 tensor in NHWC order. A batch is then a single gather: each sample gets
its own crop offset, and a horizontal flip is the same gather with the column index reversed, so crop
and flip cost one indexing kernel. The gathered NHWC batch, permuted to NCHW, is already in
channels_last memory order: no extra copy for the convolutions.
"""
from __future__ import annotations

import torch
from torch import Tensor


class Normalizer:
    """uint8 images -> float32, per-channel (x - mean) / std, folded into one multiply-add."""

    def __init__(self, mean: Tensor, std: Tensor, channels_last: bool):
        self.scale = (1.0 / std).float()
        self.shift = (-mean / std).float()
        self.channels_last = channels_last

    def nhwc(self, batch: Tensor) -> Tensor:
        """[B, H, W, C] uint8 -> [B, C, H, W] float32 (channels_last strides when asked)."""
        x = torch.addcmul(self.shift, batch.float(), self.scale).permute(0, 3, 1, 2)
        return x if self.channels_last else x.contiguous()

    def nchw(self, batch: Tensor) -> Tensor:
        """[B, C, H, W] uint8 (evaluation: no augmentation) -> normalised float32."""
        return self.nhwc(batch.permute(0, 2, 3, 1))


class BatchAugmenter:
    """Random crop with zero padding and random horizontal flip for batches of training images."""

    def __init__(self, images: Tensor, padding: int, flip: bool, normalizer: Normalizer):
        # images: uint8 [N, C, H, W] on the training device.
        _, _, self.height, self.width = images.shape
        self.padding, self.flip, self.normalizer = padding, flip, normalizer
        p = padding
        self.padded = torch.nn.functional.pad(images, (p, p, p, p)).permute(0, 2, 3, 1).contiguous()
        device = images.device
        self.rows = torch.arange(self.height, device=device)
        self.cols = torch.arange(self.width, device=device)

    def __call__(self, index: Tensor, generator: torch.Generator) -> Tensor:
        """Augmented, normalised float32 batch [B, C, H, W] of the samples `index`."""
        b, device, span = index.numel(), index.device, 2 * self.padding + 1
        dy = torch.randint(0, span, (b, 1), generator=generator, device=device)
        dx = torch.randint(0, span, (b, 1), generator=generator, device=device)
        rows, cols = dy + self.rows, dx + self.cols                       # [B, H], [B, W]
        if self.flip:
            flipped = torch.rand(b, 1, generator=generator, device=device) < 0.5
            cols = torch.where(flipped, cols.flip(1), cols)
        batch = self.padded[index[:, None, None], rows[:, :, None], cols[:, None, :]]  # [B, H, W, C]
        return self.normalizer.nhwc(batch)
