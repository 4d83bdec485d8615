"""Per-batch random crop and horizontal flip of uint8 images, as pix2pix/CycleGAN's `resize_and_crop`.

The reference draws one crop position and one flip per item and applies them to A and B alike (paired
data); `RandomCropFlip` does the same on a batch of tensors. Its draws come from its own CPU
`torch.Generator` (seeded by the run's seed), whose state is saved in checkpoints, so a resumed run
crops exactly as an uninterrupted one. Images leave as float32 in [-1, 1] (ToTensor + Normalize(0.5, 0.5)).
"""

from __future__ import annotations

import torch


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images.float().div_(127.5).sub_(1)


class RandomCropFlip:
    def __init__(self, crop_size: int, *, flip: bool = True, seed: int = 0) -> None:
        self.crop_size, self.flip = crop_size, flip
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, *batches: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The same crop and flip for item i of every batch; (N, C, L, L) uint8 -> (N, C, S, S) float."""
        n, side = len(batches[0]), batches[0].shape[-1]
        span = side - self.crop_size + 1
        top = torch.randint(span, (n,), generator=self.generator).tolist()
        left = torch.randint(span, (n,), generator=self.generator).tolist()
        flips = (torch.rand(n, generator=self.generator) < 0.5) if self.flip else torch.zeros(n, dtype=torch.bool)
        out = []
        for images in batches:
            s = self.crop_size
            crops = torch.stack([images[i, :, top[i]:top[i] + s, left[i]:left[i] + s] for i in range(n)])
            mask = flips.to(images.device)[:, None, None, None]
            out.append(to_float(torch.where(mask, crops.flip(-1), crops)))
        return tuple(out)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["generator"])
