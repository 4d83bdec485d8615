"""Moving MNIST's construction (Srivastava et al. 2015) and the clip readers (strips, frame folders, Weizmann)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ganrun.errors import ConfigError
from ganrun.data.moving_mnist import MovingMNIST, bounce, render, trajectories
from ganrun.data.video import Clips, split_strip, video_folder, weizmann_actions
from tests.conftest import SHARED_DATA, needs_shared_data


def test_bounce_clamps_at_the_wall_and_flips_the_velocity():
    # x: 0.95 -> 1.05 clamped to 1 (v flips to -1) -> 0.9 -> 0.8; y: 0.05 -> -0.05 clamped to 0 (v flips) -> 0.1
    out = bounce(np.array([0.95, 0.05]), np.array([1.0, -1.0]), 4, 0.1)
    expected = np.array([[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    np.testing.assert_allclose(out, expected, atol=1e-12, rtol=0)


def test_trajectories_stay_in_the_unit_square_and_reflect_with_unit_speed():
    corners = trajectories(np.random.default_rng(0), 64, 40, 2)  # (64, 2, 40, 2)
    assert corners.min() >= 0 and corners.max() <= 1
    steps = np.diff(corners, axis=2)
    free = (corners[:, :, 1:] > 0) & (corners[:, :, 1:] < 1) & (corners[:, :, :-1] > 0) & (corners[:, :, :-1] < 1)
    np.testing.assert_allclose(np.linalg.norm(steps, axis=-1)[free.all(-1)], 0.1, atol=1e-9, rtol=0)
    # every wall contact reverses that component's direction on the next move
    hit = (corners[:, :, 1:-1] == 1.0)
    assert hit.any()
    assert (steps[:, :, 1:][hit] < 0).all()


def test_render_keeps_the_digit_inside_the_frame_with_max_compositing():
    digit = torch.full((2, 4, 4), 100, dtype=torch.uint8)
    digit[1] = 200
    corners = np.array([[[0.0, 0.0], [1.0, 1.0]], [[0.0, 0.0], [0.5, 0.5]]])  # (D, T, 2)
    frames = render(digit, corners, 16)
    expected = torch.zeros(2, 16, 16, dtype=torch.uint8)
    expected[0, :4, :4] = 200  # both at the corner: max(100, 200)
    expected[1, 12:, 12:] = 100  # (16 - 4) * 1
    expected[1, 6:10, 6:10] = 200  # floor((16 - 4) * 0.5)
    torch.testing.assert_close(frames, expected, rtol=0, atol=0)


def _digits(count=20, side=28):
    g = torch.Generator().manual_seed(0)
    return torch.randint(1, 256, (count, side, side), generator=g, dtype=torch.uint8), torch.arange(count) % 10


def test_moving_mnist_is_deterministic_from_the_seed_and_in_range():
    images, labels = _digits()
    a = MovingMNIST(images, labels, size=6, frames=5, resolution=32, num_digits=2, seed=3)
    b = MovingMNIST(images, labels, size=6, frames=5, resolution=32, num_digits=2, seed=3)
    c = MovingMNIST(images, labels, size=6, frames=5, resolution=32, num_digits=2, seed=4)
    torch.testing.assert_close(a.tensors[0], b.tensors[0], rtol=0, atol=0)
    assert not torch.equal(a.tensors[0], c.tensors[0])
    assert a.tensors[0].shape == (6, 1, 5, 32, 32) and a.data_shape == (1, 5, 32, 32)
    assert a.tensors[0].min() >= -1 and a.tensors[0].max() <= 1
    torch.testing.assert_close(a.clip(2), a[2][0])  # the lazy path renders what the stored one holds
    torch.testing.assert_close(a.digits, labels[a.choice])


def test_moving_mnist_digits_stay_inside_every_frame():
    images = torch.full((3, 28, 28), 255, dtype=torch.uint8)  # solid squares: every pixel of the digit is lit
    data = MovingMNIST(images, torch.zeros(3, dtype=torch.int64), size=8, frames=30, resolution=32, num_digits=1,
                       seed=0)
    lit = (data.tensors[0] > 0).sum(dim=(-1, -2))  # (N, 1, T): a digit cut by the border would light fewer
    assert (lit == 14 * 14).all()  # round(28 * 32 / 64) = 14


@needs_shared_data
def test_moving_mnist_from_the_real_mnist():
    from ganrun.data.moving_mnist import moving_mnist
    data = moving_mnist(root=str(SHARED_DATA), resolution=64, frames=4, size=3, num_digits=2, train=False)
    assert data.tensors[0].shape == (3, 1, 4, 64, 64) and data.digits.shape == (3, 2)


def test_split_strip_cuts_square_frames_left_to_right():
    strip = np.arange(2 * 6 * 1, dtype=np.uint8).reshape(2, 6, 1)  # 3 frames of 2x2
    frames = split_strip(strip)
    assert frames.shape == (3, 1, 2, 2)
    torch.testing.assert_close(frames[1, 0], torch.tensor([[2, 3], [8, 9]], dtype=torch.uint8))
    with pytest.raises(ValueError, match="frame strip"):
        split_strip(np.zeros((2, 5, 1), np.uint8))


def test_clips_enumerate_every_window_every_nth_frame():
    video = torch.arange(7, dtype=torch.uint8).view(7, 1, 1, 1).expand(7, 1, 2, 2).contiguous()
    clips = Clips([video], [0], frames=3, every_nth=2, name="t", classes=["a"])
    assert len(clips) == 3  # span 5: starts 0, 1, 2
    x, y = clips[2]
    torch.testing.assert_close(x[0, :, 0, 0], torch.tensor([2.0, 4.0, 6.0]) / 127.5 - 1)
    assert x.shape == (1, 3, 2, 2) and int(y) == 0


def test_video_folder_reads_frame_folders_with_classes_and_refuses_videos_without_a_decoder(tmp_path):
    for label in ("run", "walk"):
        clip = tmp_path / label / "clip0"
        clip.mkdir(parents=True)
        for t in range(4):
            Image.fromarray(np.full((8, 8, 3), 10 * t, np.uint8)).save(clip / f"{t:03d}.png")
    data = video_folder(root=str(tmp_path), resolution=4, frames=2, channels=3)
    assert data.classes == ["run", "walk"] and len(data) == 6 and data.data_shape == (3, 2, 4, 4)
    with pytest.raises(ConfigError, match="no clips of dataset.layout=videos"):
        video_folder(root=str(tmp_path), layout="videos", resolution=4, frames=2)
    (tmp_path / "clip.mp4").write_bytes(b"not a video")
    try:
        import av  # noqa: F401
        pytest.skip("PyAV is installed: the missing-decoder message cannot show")
    except ImportError:
        pass
    with pytest.raises(ConfigError, match="no video decoder is installed"):
        video_folder(root=str(tmp_path), layout="videos", resolution=4, frames=2)


@needs_shared_data
def test_weizmann_keeps_a_clip_and_its_mirror_on_one_side():
    root = str(SHARED_DATA / "weizmann_actions")
    train = weizmann_actions(root=root, resolution=16, frames=4, every_nth=2)
    test = weizmann_actions(root=root, resolution=16, frames=4, every_nth=2, train=False)
    assert len(train.videos) == 56 and len(test.videos) == 16 and train.num_classes == 4
    mirrored = [torch.equal(a, b.flip(-1)) for a in test.videos for b in train.videos if a.shape == b.shape]
    assert not any(mirrored)
    assert torch.equal(test.videos[0], test.videos[1].flip(-1)) or torch.allclose(
        test.videos[0].float(), test.videos[1].flip(-1).float(), atol=2)  # resizing rounds by one level at most
    assert sorted(set(test.labels.tolist())) == [0, 1, 2, 3]
