"""LPIPS with a user's AlexNet weights file (here a random AlexNet saved as one): Eq. 1 of Zhang et al. 2018."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import torch
import torchvision
from torch.testing import assert_close
from torchmetrics.functional.image import lpips as tm_lpips

from ganrun.errors import ConfigError
from ganrun.metrics.lpips import alexnet_lpips, lpips_distance
from ganrun.metrics.translation import TranslationMetrics
from tests.conftest import compose_config

RELUS = (1, 4, 7, 9, 11)  # AlexNet's five ReLU outputs in `features`


def by_hand(backbone, x, y):
    """sum_l mean_hw || w_l * (f_l(x) / |f_l(x)| - f_l(y) / |f_l(y)|) ||^2, inputs scaled as LPIPS v0.1."""
    lins = torch.load(Path(inspect.getfile(tm_lpips)).parent / "lpips_models" / "alex.pth", map_location="cpu")
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)
    a, b, total = (x - shift) / scale, (y - shift) / scale, 0
    for level, layer in enumerate(backbone.features[:12]):
        a, b = layer(a), layer(b)
        if level in RELUS:
            k = RELUS.index(level)
            na = a / (a.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            nb = b / (b.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            w = lins[f"lin{k}.model.1.weight"].view(1, -1, 1, 1)
            total = total + ((na - nb) ** 2 * w).sum(1).mean((1, 2))
    return total


@pytest.fixture(scope="module")
def alexnet(tmp_path_factory):
    """A random AlexNet, its weights file and the LPIPS network read from it (built once: AlexNet is large)."""
    torch.manual_seed(0)
    backbone = torchvision.models.alexnet(weights=None).eval()
    path = tmp_path_factory.mktemp("lpips") / "alexnet.pth"
    torch.save(backbone.state_dict(), path)
    return backbone, path, alexnet_lpips(str(path))


def test_lpips_from_a_weights_file_is_eq_1(alexnet):
    backbone, _, net = alexnet
    x, y = torch.rand(3, 3, 64, 64) * 2 - 1, torch.rand(3, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert_close(net(x, y).flatten(), by_hand(backbone, x, y), rtol=1e-4, atol=1e-6)
        assert_close(lpips_distance(net, x, y, batch_size=2), float(by_hand(backbone, x, y).mean()), rtol=1e-4, atol=1e-6)
    assert lpips_distance(net, x[:, :1], x[:, :1]) == 0.0  # grey repeated to RGB; identical images


def test_lpips_joins_the_paired_metrics_and_bad_files_are_refused(tmp_path, alexnet):
    torch.save({"not": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(ConfigError, match="is not a torchvision AlexNet state dict"):
        alexnet_lpips(str(tmp_path / "other.pth"))
    with pytest.raises(ConfigError, match="lpips_weights=.*missing.pth is not a file"):
        compose_config([f"metrics.lpips_weights={tmp_path / 'missing.pth'}"])
    classifier = torch.nn.Module()
    classifier.net = torch.nn.Module()
    classifier.net.body = torch.nn.Sequential(torch.nn.Conv2d(3, 1, 1))
    a = torch.rand(4, 3, 32, 32) * 2 - 1
    metrics = TranslationMetrics(classifier, a, a, paired=True, device=torch.device("cpu"),
                                 lpips=alexnet[2])
    metrics._distribution = lambda outputs, domain: {}  # FID's classifier is not this test's subject
    scores = metrics(lambda x: x)
    assert scores["A2B/LPIPS"] == 0.0 and scores["A2B/L1"] == 0.0
