"""CycleGAN's image pool (Zhu et al. 2017, Sec. 4, after Shrivastava et al.): D is shown a history
of generated images, not only the latest, to reduce oscillation.

As the reference's `ImagePool(50)`: each image of a batch goes into the pool while it has room and is
returned itself; once full, with probability 1/2 a random stored image is returned and the new one
takes its place, else the new image is returned. Draws come from the pool's own generator, whose
state is saved with the images, so a resumed run draws the same.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


class ImagePool:
    def __init__(self, size: int = 50, *, seed: int = 0) -> None:
        self.size = size
        self.images: list[Tensor] = []
        self.generator = torch.Generator().manual_seed(seed)

    def query(self, images: Tensor) -> Tensor:
        """A batch the size of `images`, detached: new images or ones from the pool."""
        images = images.detach()
        if self.size == 0:
            return images
        out = []
        for image in images:
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand((), generator=self.generator) < 0.5:
                index = int(torch.randint(self.size, (), generator=self.generator))
                out.append(self.images[index].to(image.device))
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        stored = torch.stack(self.images).cpu() if self.images else torch.empty(0)
        return {"images": stored, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.images = list(state["images"].unbind(0)) if len(state["images"]) else []
        self.generator.set_state(state["generator"])
