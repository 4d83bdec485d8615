"""Clips as pictures: animated GIFs (files and TensorBoard summaries) and frames-over-time grids.

TensorBoard's `add_video` needs moviepy < 2 (torch imports the removed `moviepy.editor`), so ganrun
encodes the GIF itself with Pillow and writes the same summary `add_video` writes: an image summary
whose encoded bytes are an animated GIF, which TensorBoard's image dashboard plays. No extra dependency.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.tensorboard.summary import Summary
from torchvision.utils import make_grid


def to_uint8(x: Tensor) -> Tensor:
    """[-1, 1] -> uint8, rounding to the nearest level."""
    return ((x.detach().float().cpu() + 1) * 127.5).round_().clamp_(0, 255).to(torch.uint8)


def tiled(clips: Tensor, nrow: int | None = None) -> Tensor:
    """(N, C, T, H, W) in [-1, 1] -> (T, C, H', W') in [-1, 1]: frame t of every clip in one grid."""
    nrow = nrow or max(1, int(round(len(clips) ** 0.5)))
    return torch.stack([make_grid(clips[:, :, t].detach().float().cpu(), nrow=nrow, pad_value=1)
                        for t in range(clips.shape[2])])


def time_grid(clips: Tensor) -> Tensor:
    """(N, C, T, H, W) -> one (C, H', W') image in [0, 1]: a row per clip, its frames left to right."""
    frames = clips.detach().float().cpu().transpose(1, 2).flatten(0, 1)  # (N*T, C, H, W)
    return make_grid(frames, nrow=clips.shape[2], normalize=True, value_range=(-1, 1), pad_value=1)


def gif_bytes(frames: Tensor, fps: int = 8) -> bytes:
    """(T, C, H, W) in [-1, 1], C = 1 or 3 -> an animated GIF that loops forever."""
    pixels = to_uint8(frames).permute(0, 2, 3, 1).numpy()  # (T, H, W, C)
    mode = "L" if pixels.shape[-1] == 1 else "RGB"
    images = [Image.fromarray(np.ascontiguousarray(p[..., 0] if mode == "L" else p), mode) for p in pixels]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    return out.getvalue()


def video_summary(tag: str, clips: Tensor, fps: int = 8, nrow: int | None = None) -> Summary:
    """A TensorBoard summary that plays `clips` (N, C, T, H, W), tiled, as one animated GIF."""
    grid = tiled(clips, nrow)
    image = Summary.Image(height=grid.shape[-2], width=grid.shape[-1], colorspace=grid.shape[1],
                          encoded_image_string=gif_bytes(grid, fps))
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def write_gif(path: str | Path, clips: Tensor, fps: int = 8, nrow: int | None = None) -> Path:
    path = Path(path)
    path.write_bytes(gif_bytes(tiled(clips, nrow), fps))
    return path
