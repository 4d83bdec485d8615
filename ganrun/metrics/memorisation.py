"""Do we memorise or generalise? (the Russian deck): generated samples against their nearest
training images, in pixel space and in a feature space.

For every sample, its k nearest training images (L2 distance of the images in [-1, 1], flattened;
or of their features, e.g. the digit classifier's 128 features, the ones FID uses) are shown as a
grid row sample | 1st | 2nd | 3rd. The memorisation figure compares each sample's distance to its
nearest training image with the same distance for held-out test images, which G never saw copies of:
the share of samples nearer to a training image than the median test image is (`quantile` 0.5) is
about 0.5 when G makes new images as close to the training set as fresh real ones are, and tends to
1 when G copies its training images. The share below the test images' 5th percentile (about 0.05
for a model that generalises) shows near-copies alone.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

QUANTILES = {"median": 0.5, "p05": 0.05}  # name -> quantile of the test images' nearest distances


@torch.no_grad()
def nearest(queries: Tensor, references: Tensor, k: int = 3, chunk: int = 256) -> tuple[Tensor, Tensor]:
    """The k nearest references of every query by L2 distance: (N, k) distances (ascending) and
    indices. Inputs of any shape (N, ...), (M, ...), compared flattened; computed in chunks of queries."""
    queries, references = queries.flatten(1).float(), references.flatten(1).float()
    if queries.shape[1] != references.shape[1]:
        raise ValueError(f"queries of {queries.shape[1]} values against references of {references.shape[1]}")
    k = min(k, len(references))
    distances, indices = [], []
    for part in queries.split(chunk):
        d, i = torch.cdist(part, references).topk(k, dim=1, largest=False)
        distances.append(d)
        indices.append(i)
    return torch.cat(distances), torch.cat(indices)


def share_nearer(sample_distances: Tensor, test_distances: Tensor, quantile: float = 0.5) -> float:
    """The share of samples whose nearest training image is strictly nearer than the `quantile` of
    the test images' nearest-training-image distances (both (N,): each one's 1st-neighbour distance)."""
    threshold = torch.quantile(test_distances.float(), quantile)
    return (sample_distances < threshold).float().mean().item()


def neighbour_grid(samples: Tensor, train_images: Tensor, indices: Tensor) -> Tensor:
    """Rows sample | 1st | 2nd | ... neighbour: (N * (k + 1), C, H, W), for save_image(nrow=k + 1)."""
    rows = torch.cat([samples[:, None], train_images[indices]], dim=1)  # (N, k + 1, C, H, W)
    return rows.flatten(0, 1)


def memorisation(samples: Tensor, train_images: Tensor, test_images: Tensor, *, k: int = 3,
                 features: Callable[[Tensor], Tensor] | None = None, train_features: Tensor | None = None
                 ) -> tuple[dict[str, float], dict[str, Tensor]]:
    """The memorisation figures and neighbour grids of `samples` (N, C, H, W) in [-1, 1].

    Pixel space always; feature space when `features` (images -> (N, F)) is given, with the training
    images' features precomputed in `train_features` when cached (else computed here). Returns
    ({"memorisation_pixel_median": ..., "memorisation_pixel_p05": ..., "nn_distance_pixel": ...,
    and the same for "feature"}, {"pixel": grid, "feature": grid})."""
    spaces = {"pixel": (lambda x: x, train_images)}
    if features is not None:
        spaces["feature"] = (features, features(train_images) if train_features is None else train_features)
    results, grids = {}, {}
    for space, (embed, train) in spaces.items():
        sample_d, sample_i = nearest(embed(samples), train, k)
        test_d, _ = nearest(embed(test_images), train, 1)
        for name, q in QUANTILES.items():
            results[f"memorisation_{space}_{name}"] = share_nearer(sample_d[:, 0], test_d[:, 0], q)
        results[f"nn_distance_{space}"] = sample_d[:, 0].mean().item()  # mean distance to the 1st neighbour
        results[f"nn_distance_{space}_test"] = test_d[:, 0].mean().item()
        grids[space] = neighbour_grid(samples, train_images, sample_i)
    return results, grids
