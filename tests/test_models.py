"""Shapes, output ranges, errors, gradients, spectral norm and the paper layouts of ganrun.models."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn
from torch.nn.utils import parametrize
from torch.testing import assert_close

from ganrun.models import WEIGHTED_LAYERS, apply_spectral_norm, dcgan, mlp, resnet

FAMILIES = {"mlp": mlp, "dcgan": dcgan, "resnet": resnet}
SMALL = {"mlp": {"width": 16, "depth": 2}, "dcgan": {"width": 4}, "resnet": {"width": 8}}
CONF = Path(__file__).resolve().parents[1] / "ganrun" / "conf" / "architecture"
LATENT = 6


def build(family: str, data_shape: tuple[int, ...], **overrides):
    kwargs = SMALL[family] | overrides
    return (FAMILIES[family].Generator(LATENT, data_shape, **kwargs),
            FAMILIES[family].Discriminator(data_shape, **kwargs))


def last_weighted_layer(net: nn.Module) -> nn.Module:
    return [m for m in net.modules() if isinstance(m, WEIGHTED_LAYERS)][-1]


SHAPES = ([("mlp", (2,)), ("mlp", (3,)), ("mlp", (1, 8, 8)), ("mlp", (3, 5, 7))]
          + [(f, (c, r, r)) for f in ("dcgan", "resnet") for r in (8, 16, 32, 64, 128) for c in (1, 3)])


@pytest.mark.parametrize("family, data_shape", SHAPES)
def test_shapes_and_image_range(family, data_shape):
    torch.manual_seed(0)
    G, D = build(family, data_shape)
    fake = G(3 * torch.randn(2, LATENT))  # a wide z pushes tanh towards its ends
    assert tuple(fake.shape) == (2, *data_shape)
    assert tuple(D(fake).shape) == (2,)
    if len(data_shape) == 3:
        assert_close(fake.clamp(-1, 1), fake)  # images stay in the data's [-1, 1]


@pytest.mark.parametrize("family, data_shape", [("mlp", (2,)), ("mlp", (1, 8, 8)),
                                                ("dcgan", (3, 16, 16)), ("resnet", (1, 8, 8))])
def test_outputs_are_tanh_for_images_linear_for_points_and_raw_logits(family, data_shape):
    G, D = build(family, data_shape)
    G.eval(), D.eval()
    # Zero weights and a bias of 3 make every pre-activation exactly 3: what comes out shows the
    # final nonlinearity (tanh for images, none for points, none on D's logits).
    for layer in (last_weighted_layer(G), last_weighted_layer(D)):
        nn.init.zeros_(layer.weight)
        nn.init.constant_(layer.bias, 3.0)
    fake = G(torch.randn(2, LATENT))
    expected = torch.tensor(3.0) if len(data_shape) == 1 else torch.tanh(torch.tensor(3.0))
    assert_close(fake, expected.expand_as(fake))
    assert_close(D(fake), torch.full((2,), 3.0))


@pytest.mark.parametrize("family, data_shape, message", [
    ("dcgan", (1, 28, 28), "dcgan makes square power-of-two images from 8 to 128 pixels, got 28x28; "
                           "set dataset.resolution=32"),
    ("dcgan", (3, 256, 256), "got 256x256; set dataset.resolution=128"),
    ("dcgan", (3, 4, 4), "got 4x4; set dataset.resolution=8"),
    ("dcgan", (2,), "dcgan makes images of shape (C, H, W), got data of shape (2,); use architecture=mlp"),
    ("resnet", (3, 32, 64), "resnet makes square power-of-two images from 8 to 128 pixels, got 32x64"),
    ("resnet", (2,), "resnet makes images of shape (C, H, W)"),
    ("mlp", (8, 8), "mlp models points of shape (D,) or images of shape (C, H, W), got data of shape (8, 8)"),
])
def test_unsupported_shapes_raise_one_clear_sentence(family, data_shape, message):
    for make in (lambda: FAMILIES[family].Generator(LATENT, data_shape),
                 lambda: FAMILIES[family].Discriminator(data_shape)):
        with pytest.raises(ValueError, match=re.escape(message)):
            make()


@pytest.mark.parametrize("family, data_shape", [("mlp", (2,)), ("mlp", (3, 8, 8)),
                                                ("dcgan", (3, 32, 32)), ("resnet", (3, 32, 32))])
def test_gradients_reach_every_generator_parameter(family, data_shape):
    torch.manual_seed(0)
    G, D = build(family, data_shape)
    D(G(torch.randn(8, LATENT))).mean().backward()
    assert [name for name, p in G.named_parameters() if p.grad is None] == []
    # A bias right before batch norm gets a gradient that is zero up to rounding (~1e-7 against
    # ~1 elsewhere): call a parameter dead when its gradient is 1e4 times below the largest.
    largest = max(p.grad.abs().max() for p in G.parameters())
    dead = [name for name, p in G.named_parameters() if p.grad.abs().max() < 1e-4 * largest]
    assert dead == []


def effective_weight_matrix(layer: nn.Module) -> torch.Tensor:
    """The weight as spectral norm sees it: output units as rows (dim 1 for transposed convs)."""
    weight = layer.weight
    if isinstance(layer, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        weight = weight.transpose(0, 1)
    return weight.flatten(1)


# The trainer wraps D; dcgan's G is wrapped too so that ConvTranspose layers (dim=1) are covered.
@pytest.mark.parametrize("family, data_shape, wrap", [
    ("mlp", (2,), "D"), ("dcgan", (3, 16, 16), "D"), ("resnet", (1, 8, 8), "D"), ("dcgan", (3, 16, 16), "G")])
def test_spectral_norm_wraps_every_layer_and_bounds_it_by_one(family, data_shape, wrap):
    torch.manual_seed(0)
    G, D = build(family, data_shape)
    net = D if wrap == "D" else G
    weighted = [name for name, m in net.named_modules() if isinstance(m, WEIGHTED_LAYERS)]
    assert apply_spectral_norm(net) is net
    apply_spectral_norm(net)  # a second call must not normalize twice
    wrapped = [name for name, m in net.named_modules()
               if isinstance(m, WEIGHTED_LAYERS) and parametrize.is_parametrized(m, "weight")]
    assert wrapped == weighted
    assert [len(net.get_submodule(n).parametrizations.weight) for n in wrapped] == [1] * len(wrapped)
    with torch.no_grad():
        for _ in range(10):  # 15 power iterations at wrapping, then one per training-mode forward
            D(G(torch.randn(2, LATENT)))
    net.eval()
    sigmas = torch.stack([torch.linalg.matrix_norm(effective_weight_matrix(net.get_submodule(n)), ord=2)
                          for n in wrapped]).detach()
    assert_close(sigmas, torch.ones_like(sigmas), rtol=0, atol=2e-2)


def test_dcgan_64_follows_the_papers_channel_progression():
    G = dcgan.Generator(100, (3, 64, 64), width=64)
    D = dcgan.Discriminator((3, 64, 64), width=64)
    assert G.project.out_features == 512 * 4 * 4
    up = [(m.in_channels, m.out_channels, m.kernel_size, m.stride)
          for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert up == [(512, 256, (5, 5), (2, 2)), (256, 128, (5, 5), (2, 2)),
                  (128, 64, (5, 5), (2, 2)), (64, 3, (5, 5), (2, 2))]
    assert [m.num_features for m in G.modules() if isinstance(m, nn.BatchNorm2d)] == [512, 256, 128, 64]
    down = [(m.in_channels, m.out_channels) for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert down == [(3, 64), (64, 128), (128, 256), (256, 512), (512, 1)]
    # BN on every D layer but the first (and not on the logit).
    assert [m.num_features for m in D.modules() if isinstance(m, nn.BatchNorm2d)] == [128, 256, 512]
    assert [m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)] == [0.2] * 4


def test_dcgan_8_has_one_stage_of_sensible_width():
    G = dcgan.Generator(100, (1, 8, 8), width=64)
    up = [(m.in_channels, m.out_channels) for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert up == [(64, 1)]  # 4x4x64 -> 8x8x1: width itself at 4x4, not width / 2


@pytest.mark.parametrize("kernel_size", [4, 5])
@pytest.mark.parametrize("resolution", [8, 32, 128])
def test_dcgan_layers_exactly_double_and_halve(kernel_size, resolution):
    G, D = build("dcgan", (1, resolution, resolution), kernel_size=kernel_size)
    sides = []
    hooks = [m.register_forward_hook(lambda m, i, o: sides.append((i[0].shape[-1], o.shape[-1])))
             for m in (*G.modules(), *D.modules()) if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    D(G(torch.randn(2, LATENT)))
    for hook in hooks:
        hook.remove()
    stages = int(math.log2(resolution)) - 2
    expected_up = [(4 * 2**i, 8 * 2**i) for i in range(stages)]
    expected_down = [(b, a) for a, b in reversed(expected_up)] + [(4, 1)]  # then the 4x4 logit conv
    assert sides == expected_up + expected_down


def test_dcgan_starts_from_the_papers_initialization():
    torch.manual_seed(0)
    G = dcgan.Generator(100, (3, 32, 32), width=64)
    conv = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)][0]
    assert_close(conv.weight.std(), torch.tensor(0.02), rtol=0.02, atol=0)
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)][0]
    assert_close(bn.weight.mean(), torch.tensor(1.0), rtol=0, atol=0.01)
    assert_close(bn.bias, torch.zeros_like(bn.bias))


@pytest.mark.parametrize("resolution, num_down, last_side", [(8, 0, 4), (16, 0, 8), (32, 1, 8), (128, 3, 8)])
def test_resnet_follows_the_wgan_gp_layout(resolution, num_down, last_side):
    G, D = build("resnet", (3, resolution, resolution))
    assert sum(isinstance(m, resnet.UpBlock) for m in G.modules()) == int(math.log2(resolution)) - 2
    def describe(block: nn.Module) -> str:
        pools = any(isinstance(m, nn.AvgPool2d) for m in block.modules())
        return type(block).__name__ + ("+pool" if pools else "")

    blocks = [describe(block) for block in D.blocks]
    assert blocks == (["OptimizedDownBlock+pool"] + ["DownBlock+pool"] * num_down
                      + ["DownBlock", "DownBlock", "ReLU"])
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
    assert tuple(D.blocks(torch.zeros(1, 3, resolution, resolution)).shape) == (1, 8, last_side, last_side)


def test_maxout_takes_the_max_within_each_group_of_pieces():
    layer = mlp.Maxout(1, width=2, pieces=3)
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor([[1.0], [2.0], [3.0], [-1.0], [-2.0], [-3.0]]))
        nn.init.zeros_(layer.linear.bias)
    assert_close(layer(torch.tensor([[1.0], [-1.0]])), torch.tensor([[3.0, -1.0], [-1.0, 3.0]]))


@pytest.mark.parametrize("option, data_shape", [("mlp", (2,)), ("mlp", (1, 32, 32)),
                                                ("dcgan", (3, 32, 32)), ("resnet", (3, 32, 32))])
def test_the_yaml_kwargs_are_what_the_constructors_take(option, data_shape):
    cfg = OmegaConf.load(CONF / f"{option}.yaml")
    G = instantiate(cfg.generator, data_shape=data_shape)
    D = instantiate(cfg.discriminator, data_shape=data_shape)
    G.eval(), D.eval()
    assert tuple(D(G(torch.randn(2, cfg.latent_dim))).shape) == (2,)
