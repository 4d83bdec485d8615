"""GIF encoding, frames-over-time grids and the TensorBoard video summary, read back with TensorBoard's reader."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageSequence
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

from ganrun.videos import gif_bytes, time_grid, to_uint8, video_summary


def test_a_grey_gif_decodes_back_to_its_frames():
    frames = torch.linspace(-1, 1, 3 * 4 * 4).view(3, 1, 4, 4)
    with Image.open(io.BytesIO(gif_bytes(frames))) as gif:
        decoded = [np.array(f.convert("L")) for f in ImageSequence.Iterator(gif)]
    assert len(decoded) == 3
    torch.testing.assert_close(torch.from_numpy(np.stack(decoded)), to_uint8(frames)[:, 0], rtol=0, atol=0)


def test_time_grid_puts_a_clip_per_row_and_time_left_to_right():
    clips = -torch.ones(2, 1, 3, 4, 4)
    clips[1, :, 2] = 1  # clip 1, frame 2 white
    grid = time_grid(clips)  # padding 2: rows of 4 + 2, columns likewise
    assert grid.shape == (3, 2 + 2 * 6, 2 + 3 * 6)
    torch.testing.assert_close(grid[:, 8:12, 14:18], torch.ones(3, 4, 4))
    torch.testing.assert_close(grid[:, 2:6, 14:18], torch.zeros(3, 4, 4))


def test_video_summary_reads_back_as_an_animated_image(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    writer.file_writer.add_summary(video_summary("samples/clips", torch.linspace(-1, 1, 5).view(1, 1, 5, 1, 1).expand(4, 3, 5, 8, 8)), 7)
    writer.close()
    events = EventAccumulator(str(tmp_path), size_guidance={"images": 0})
    events.Reload()
    image = events.Images("samples/clips")[0]
    assert image.step == 7 and (image.width, image.height) == (2 + 2 * 10, 2 + 2 * 10)
    with Image.open(io.BytesIO(image.encoded_image_string)) as gif:
        assert gif.format == "GIF" and gif.n_frames == 5
