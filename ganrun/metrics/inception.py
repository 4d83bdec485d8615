"""torch-fidelity's Inception-v3 as a feature network: the reference implementation's own module.

`FeatureExtractorInceptionV3` takes uint8 images and resizes them to 299x299 with its
TensorFlow-1.x-compatible bilinear filter, so images, filter and weights are exactly torch-fidelity's
(torchmetrics' own wrapper defaults to an antialiased resize, which moves FID). Grey images are
repeated to 3 channels. Pool features (2048) give FID, KID, precision and recall; the unbiased
logits give IS, as in torch-fidelity.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor, nn
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3, FeatureExtractorInceptionV3

from ganrun.errors import ConfigError

NAME = "inception-v3-compat"


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_weights(path: Optional[str]) -> Path:
    """The local weights file: `path`, or torch-fidelity's file in the torch hub cache, downloaded
    there once when missing. Without network and without a path: a ConfigError saying what to do."""
    if path is not None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise ConfigError(f"metrics.inception_weights={path} is not a file")
        return file
    file = Path(torch.hub.get_dir()) / "checkpoints" / Path(URL_INCEPTION_V3).name
    if not file.is_file():
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(URL_INCEPTION_V3, str(file), progress=True)
        except Exception as error:  # no network, proxy, TLS, HTTP error: all mean the same to the user
            raise ConfigError(
                f"the Inception weights for FID/IS/KID could not be downloaded ({type(error).__name__}: {error}). "
                f"Download {URL_INCEPTION_V3} elsewhere and set metrics.inception_weights=PATH, "
                "or use metrics.features=classifier (a small classifier trained here, no download; "
                "digits, MNIST, Fashion-MNIST, CIFAR-10)") from error
    return file


class InceptionFeatures(nn.Module):
    suffix = ""

    def __init__(self, weights: Path) -> None:
        super().__init__()
        self.net = FeatureExtractorInceptionV3(NAME, ["2048", "logits_unbiased"],
                                               feature_extractor_weights_path=str(weights))
        self.num_features = 2048
        self.digest = f"{NAME}-{file_digest(weights)[:16]}"

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        features, logits = self.net(images)  # (N, 2048), (N, 1008)
        return features, logits


def inception_features(weights: Optional[str]) -> InceptionFeatures:
    return InceptionFeatures(resolve_weights(weights))


def save_random_weights(path: str | Path, seed: int = 0) -> Path:
    """A randomly initialised Inception in torch-fidelity's format (He-initialised convolutions, so
    features neither vanish nor explode): lets tests and offline smoke runs exercise the real
    Inception code path. Its numbers mean nothing about image quality."""
    generator = torch.Generator().manual_seed(seed)
    net = _bare_inception()
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            module.weight.data = torch.randn(module.weight.shape, generator=generator) * (2 / fan_in) ** 0.5
            if module.bias is not None:
                module.bias.data.zero_()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    return path


def _bare_inception() -> FeatureExtractorInceptionV3:
    """torch-fidelity's module without loading weights (its constructor insists on loading some)."""
    original = FeatureExtractorInceptionV3.load_state_dict
    FeatureExtractorInceptionV3.load_state_dict = lambda self, state_dict, strict=True: None
    try:
        with tempfile.TemporaryDirectory() as folder:
            torch.save({}, Path(folder) / "empty.pth")
            return FeatureExtractorInceptionV3(NAME, ["2048"], feature_extractor_weights_path=f"{folder}/empty.pth")
    finally:
        FeatureExtractorInceptionV3.load_state_dict = original
