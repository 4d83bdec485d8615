"""FID, KID and IS through torchmetrics, precision and recall after Kynkaanniemi et al. (2019).

All take features already extracted (features.py): torchmetrics gets them through a pass-through
'feature network', so FID, KID and IS share one pass of the real network. FID's sums and
covariances are float64 (torchmetrics' states); KID's kernels run in float32 on the features'
device, like torch-fidelity's. `Reference` holds the real side, loaded once per run.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torchmetrics.image import FrechetInceptionDistance, InceptionScore, KernelInceptionDistance

from ganrun.metrics.features import Given

CHUNK = 1000  # rows per update: bounds the float64 copies


class Reference:
    """Real features, with FID's real statistics and KID's real set loaded into torchmetrics once;
    each `scores` call resets only the generated side (reset_real_features=False)."""

    def __init__(self, real: Tensor, *, kid_subsets: int, kid_subset_size: int, nearest_k: int) -> None:
        self.real = real
        dim = real.shape[1]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
            self.fid = FrechetInceptionDistance(feature=Given(dim), reset_real_features=False)
            self.kid = KernelInceptionDistance(feature=Given(dim), subsets=kid_subsets,
                                               subset_size=kid_subset_size, reset_real_features=False)
        for chunk in real.split(CHUNK):
            self.fid.update(chunk.double(), real=True)
            self.kid.update(chunk, real=True)
        self.kid_subset_size = kid_subset_size
        self.nearest_k = nearest_k
        self.real_radii = knn_radii(real, nearest_k)

    def scores(self, fake: Tensor, logits: Tensor, suffix: str, device: torch.device) -> dict[str, float]:
        """FID, KID, IS, precision and recall of generated features and logits, named with `suffix`.
        FID's statistics stay on the CPU in float64; KID's kernels and the k-NN distances run on `device`."""
        self.fid.reset()
        self.kid.reset()
        for chunk in fake.split(CHUNK):
            self.fid.update(chunk.double(), real=False)
            self.kid.update(chunk, real=False)
        self.kid.subset_size = min(self.kid_subset_size, len(self.real), len(fake))
        if self.kid.subset_size < self.kid_subset_size:
            warnings.warn(f"KID subsets of {self.kid.subset_size} samples instead of "
                          f"metrics.kid_subset_size={self.kid_subset_size}: there are not more samples", stacklevel=2)
        kid = float(self.kid.to(device).compute()[0])
        self.kid.to("cpu")
        precision, recall = precision_recall(self.real.to(device), fake.to(device), self.nearest_k,
                                             self.real_radii.to(device))
        return {
            f"FID{suffix}": float(self.fid.compute()),
            f"KID{suffix}": kid,
            f"IS{suffix}": inception_score(logits),
            f"precision{suffix}": precision,
            f"recall{suffix}": recall,
        }


def inception_score(logits: Tensor, splits: int = 10) -> float:
    """exp E[KL(p(y|x) || p(y))], the mean over `splits` random splits (torch-fidelity's protocol)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will save all extracted features.*")
        metric = InceptionScore(feature=Given(logits.shape[1]), splits=splits)
    metric.update(logits.double())
    return float(metric.compute()[0])


def _distances(a: Tensor, b: Tensor, block: int = 2000):
    """Blocks of the (len(a), len(b)) Euclidean distance matrix, row block by row block."""
    for start in range(0, len(a), block):
        yield start, torch.cdist(a[start:start + block], b)


def knn_radii(features: Tensor, k: int) -> Tensor:
    """Distance from each row to its k-th nearest other row (the k-NN ball of its manifold)."""
    if len(features) <= k:
        raise ValueError(f"precision/recall need more than nearest_k={k} samples, got {len(features)}")
    return torch.cat([d.kthvalue(k + 1, dim=1).values for _, d in _distances(features, features)])


def coverage(points: Tensor, centres: Tensor, radii: Tensor) -> float:
    """Fraction of `points` inside at least one ball (centre, radius)."""
    inside = [(d <= radii[None, :]).any(dim=1) for _, d in _distances(points, centres)]
    return torch.cat(inside).float().mean().item()


def precision_recall(real: Tensor, fake: Tensor, k: int = 3, real_radii: Tensor | None = None) -> tuple[float, float]:
    """Precision: generated samples inside the real manifold; recall: real samples inside the generated one."""
    real_radii = knn_radii(real, k) if real_radii is None else real_radii
    return coverage(fake, real, real_radii), coverage(real, fake, knn_radii(fake, k))
