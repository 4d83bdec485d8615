"""Video networks (VGAN, MoCoGAN), their pure pieces, and the video metrics, against hand-computed values."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganrun.errors import ConfigError
from ganrun.metrics.video import (VideoEvaluator, as_frames, identity_consistency, majority_accuracy,
                                  mean_frame_difference, require_video_weights)
from ganrun.models import mocogan, vgan
from ganrun.models.video import composite, frames_at, mask_sparsity, video_stages


def test_composite_is_mask_times_foreground_plus_the_rest_of_the_background():
    mask = torch.tensor([0.0, 0.25, 1.0]).view(1, 1, 3, 1, 1)  # three frames of one pixel
    foreground = torch.tensor([1.0, -1.0, 0.5]).view(1, 1, 3, 1, 1)
    background = torch.tensor([0.2]).view(1, 1, 1, 1)
    expected = torch.tensor([0.2, 0.25 * -1.0 + 0.75 * 0.2, 0.5]).view(1, 1, 3, 1, 1)
    torch.testing.assert_close(composite(mask, foreground, background), expected)


def test_mask_sparsity_is_lambda_times_the_mean_absolute_mask():
    mask = torch.tensor([[0.0, 0.5], [1.0, 0.3]])
    torch.testing.assert_close(mask_sparsity(mask, 0.1), torch.tensor(0.1 * 1.8 / 4))


def test_frames_at_picks_one_frame_per_clip():
    clips = torch.arange(2 * 1 * 3).float().view(2, 1, 3, 1, 1)  # clip i frame t = 3 i + t
    torch.testing.assert_close(frames_at(clips, torch.tensor([2, 0])), torch.tensor([2.0, 3.0]).view(2, 1, 1, 1))


def test_video_stages_refuse_clips_they_cannot_make():
    assert video_stages("x", (1, 8, 32, 32)) == (3, 3)
    assert video_stages("x", (3, 32, 64, 64)) == (4, 4)
    with pytest.raises(ValueError, match="power-of-two clip length"):
        video_stages("x", (1, 6, 32, 32))
    with pytest.raises(ValueError, match=r"\(C, T, H, W\)"):
        video_stages("x", (1, 32, 32))


@pytest.mark.parametrize("shape", [(1, 8, 16, 16), (3, 4, 16, 16), (1, 16, 16, 16)])
def test_vgan_shapes_and_its_clip_is_the_composite_of_its_streams(shape):
    torch.manual_seed(0)
    g, d = vgan.Generator(8, shape, width=4).eval(), vgan.Discriminator(shape, width=4)
    z = torch.randn(3, 8)
    foreground, mask, background = g.streams(z)
    assert foreground.shape == (3, *shape) and mask.shape == (3, 1, *shape[1:]) and background.shape == (3, shape[0], *shape[2:])
    assert mask.min() >= 0 and mask.max() <= 1
    clip = g(z)
    torch.testing.assert_close(clip, composite(mask, foreground, background))
    assert d(clip).shape == (3,)


def test_mocogan_keeps_content_fixed_and_takes_any_length():
    torch.manual_seed(0)
    shape = (1, 4, 16, 16)
    g = mocogan.Generator(shape, content_dim=6, motion_dim=3, num_classes=2, width=4).eval()
    content, noise = g.latents(2)
    assert content.shape == (2, 6) and noise.shape == (2, 5, 3)
    labels = torch.tensor([0, 1])
    clip = g(content, noise, labels)
    assert clip.shape == (2, *shape)
    longer = g(content, torch.cat([noise, torch.randn(2, 3, 3)], dim=1), labels)
    assert longer.shape == (2, 1, 7, 16, 16)
    torch.testing.assert_close(longer[:, :, :4], clip)  # the GRU's first steps do not depend on later ones
    # frame t is G_I([z_C, z_M^(t), one_hot(a)])
    codes = g.motion(noise)
    z = torch.cat([content, codes[:, 2], torch.eye(2)[labels]], dim=1)
    torch.testing.assert_close(clip[:, :, 2], g.image(z))
    d_v = mocogan.video_discriminator(shape, width=4, num_classes=2)
    assert d_v(clip).shape == (2, 3) and mocogan.image_discriminator(shape, width=4)(clip[:, :, 0]).shape == (2,)
    with pytest.raises(ValueError, match="pass labels"):
        g(content, noise)


def test_motion_is_a_gru_over_the_noise():
    g = mocogan.Generator((1, 2, 16, 16), content_dim=2, motion_dim=3, width=4)
    noise = torch.randn(2, 3, 3)
    h1 = g.recurrent(noise[:, 1], noise[:, 0])
    torch.testing.assert_close(g.motion(noise), torch.stack([h1, g.recurrent(noise[:, 2], h1)], dim=1))


def test_motion_statistics_by_hand():
    clips = torch.zeros(2, 1, 3, 1, 2)
    clips[0, 0, 1] = 1.0  # clip 0 frames: 0, 1, 0 -> |diff| 1, 1; clip 1 static
    torch.testing.assert_close(mean_frame_difference(clips), torch.tensor(4 / 8))
    predictions = torch.tensor([[3, 3, 5, 3], [1, 2, 2, 2]])
    torch.testing.assert_close(identity_consistency(predictions), torch.tensor(6 / 8))
    torch.testing.assert_close(majority_accuracy(predictions, torch.tensor([3, 1])), torch.tensor(0.5))
    assert as_frames(torch.arange(6.).view(1, 1, 3, 1, 2)).shape == (3, 1, 1, 2)


def test_fvd_is_refused_without_weights():
    with pytest.raises(ConfigError, match="metrics.video_weights=PATH"):
        require_video_weights(None)


class _MeanFeatures(nn.Module):
    """A feature network stand-in: features = per-image mean and std; class = brightness above 128."""

    def forward(self, images):
        x = images.float().flatten(1)
        features = torch.stack([x.mean(1), x.std(1)], dim=1)
        logits = torch.stack([128 - x.mean(1), x.mean(1) - 128], dim=1)
        return features, logits


def test_video_evaluator_fails_a_frozen_generator_on_motion():
    torch.manual_seed(0)
    real = torch.rand(40, 1, 4, 4, 4) * 2 - 1
    evaluator = VideoEvaluator(_MeanFeatures(), real, num_clips=40, batch_size=10, kid_subsets=2, kid_subset_size=20)
    same = evaluator.evaluate_clips(real)
    frozen = evaluator(lambda n: (real[:n, :, :1].expand(-1, -1, 4, -1, -1), None))
    assert same["frame_FID_classifier"] == pytest.approx(0, abs=1e-3)
    assert frozen["motion/frame_difference"] == 0 and same["motion/frame_difference"] > 0.5
    torch.testing.assert_close(same["motion/frame_difference"], float(mean_frame_difference(real)))


def test_frechet_distance_by_hand():
    from ganrun.metrics.video import frechet_distance
    real = torch.tensor([[0.0, 0.0], [2.0, 4.0]])  # mean (1, 2), variances (2, 8), covariance 4: rank 1
    fake = torch.tensor([[1.0, 0.0], [3.0, 4.0]])  # mean (2, 2), the same covariance
    # |mu diff|^2 = 1; Tr(S + S - 2 (S S)^1/2) = 0 for equal covariances
    assert frechet_distance(real, fake) == pytest.approx(1.0, abs=1e-6)
    one_d = frechet_distance(torch.tensor([[0.0], [2.0]]), torch.tensor([[0.0], [4.0]]))  # var 2 and 8
    assert one_d == pytest.approx((2.0 - 1.0) ** 2 + 2 + 8 - 2 * 4, abs=1e-9)  # means 1 and 2


class _FakeI3D(nn.Module):
    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = True,
                return_features: bool = True) -> torch.Tensor:
        return x.mean(dim=(2, 3, 4))


def test_fvd_with_a_torchscript_i3d(tmp_path):
    from ganrun.metrics.video import I3DFeatures, fvd
    path = tmp_path / "i3d.pt"
    torch.jit.script(_FakeI3D()).save(str(path))
    net = I3DFeatures(str(path))
    clips = torch.rand(6, 1, 2, 4, 4)
    assert fvd(net, clips, clips, batch_size=4) == pytest.approx(0.0, abs=1e-6)
    assert fvd(net, clips, clips + 0.5) == pytest.approx(3 * 0.25, abs=1e-5)  # grey -> 3 equal channels
    (tmp_path / "bad.pt").write_bytes(b"no")
    with pytest.raises(ConfigError, match="not a TorchScript I3D"):
        I3DFeatures(str(tmp_path / "bad.pt"))
