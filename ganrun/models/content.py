"""Feature networks phi for SRGAN's content loss ||phi(I_HR) - phi(G(I_LR))||^2 (Ledig et al. 2017, Eq. 5).

Each maps images in [-1, 1] (N, 3, H, W) to feature maps and is frozen (eval mode, no gradients into it):
- `pixels()`: phi = identity, the pixel-wise MSE of SRResNet (Eq. 4);
- `vgg19(weights=...)`: torchvision's VGG19 up to `layer` (35: the ReLU after conv5_4, the paper's VGG54;
  8: VGG22), ImageNet-normalised inputs; `weights` is torchvision's name ("IMAGENET1K_V1", which needs the
  download cache) or a path to a saved state dict (offline);
- `classifier(...)`: ganrun's own small CNN trained on CIFAR-10 (ganrun.metrics.classifier, cached), its
  third conv block's ReLU maps: the offline stand-in when no VGG weights are at hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
from torch import Tensor, nn

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _frozen(module: nn.Module) -> nn.Module:
    return module.eval().requires_grad_(False)


def pixels(**_other_networks_keys: object) -> nn.Module:
    """phi = identity; accepts (and ignores) the other networks' keys, so `game.content._target_=...pixels`
    alone switches a preset's content loss to the MSE."""
    return nn.Identity()


class VGGFeatures(nn.Module):
    def __init__(self, layers: nn.Sequential) -> None:
        super().__init__()
        self.layers = _frozen(layers)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(((x + 1) / 2 - self.mean) / self.std)

    def train(self, mode: bool = True) -> "VGGFeatures":
        return super().train(False)  # always frozen


def vgg19(weights: Optional[str] = None, layer: int = 35) -> nn.Module:
    from torchvision.models import vgg19 as make_vgg

    path = Path(weights).expanduser() if weights else None
    if path is not None and path.suffix in (".pt", ".pth"):
        if not path.is_file():
            raise ValueError(f"game.content.weights={weights} is not a file")
        net = make_vgg()
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    else:
        net = make_vgg(weights=weights)
    return VGGFeatures(net.features[:layer + 1])


class ClassifierContent(nn.Module):
    def __init__(self, body: nn.Sequential) -> None:
        super().__init__()
        self.body = _frozen(body)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)

    def train(self, mode: bool = True) -> "ClassifierContent":
        return super().train(False)


def _cifar10(root: str, train: bool):
    """CIFAR-10 from `root`: the official batches, or the shared data's subset (4,000 + 1,000 images)."""
    from torchvision import datasets, transforms

    class Subset(datasets.CIFAR10):
        base_folder = "cifar-10-subset-batches-py"
        train_list = [["train_first4000", "6da9b7922884df56e7ed13ec3e920232"]]
        test_list = [["test_first1000", "76ed10b894dff811943a0d5145c03689"]]

    official = (Path(root) / "cifar-10-batches-py").is_dir()
    cls = datasets.CIFAR10 if official else Subset
    normalise = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)])
    return cls(root, train=train, transform=normalise)


def classifier(root: str, cache_dir: str = "outputs/.cache", device: str = "cpu") -> nn.Module:
    """The SmallCNN of ganrun.metrics.classifier trained on CIFAR-10 at 32 px, up to its third ReLU."""
    from ganrun.metrics.classifier import load_or_train

    train, test = _cifar10(root, True), _cifar10(root, False)
    features = load_or_train(train, test, key="cifar10_32px_3ch", num_classes=10, cache_dir=cache_dir,
                             device=torch.device(device))
    return ClassifierContent(features.net.body[:11])
