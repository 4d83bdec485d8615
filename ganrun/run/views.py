"""What TensorBoard shows beyond plain scalars: grids a person can read, a 2-D scatter plot that can be
compared across steps and runs, the custom-scalars layout and the HParams experiment summary.

Drawn with Pillow (already a dependency), so no plotting library is needed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor
from torch.utils.tensorboard.summary import hparams as hparams_summaries
from torchvision.utils import make_grid

MIN_GRID_PIXELS = 256  # TensorBoard shows an image at its own size: smaller grids are upscaled to this
SCATTER_PIXELS = 480
MARGIN = 44  # room for the tick labels
REAL_COLOUR, FAKE_COLOUR, MODE_COLOUR = (150, 150, 150), (215, 40, 25), (20, 60, 200)

# TensorBoard's Custom Scalars tab: the charts a GAN user looks at first, each on one plot.
CUSTOM_SCALARS = {
    "GAN": {
        "D(x) vs D(G(z)) (D's raw output on real and generated batches)": ["Multiline", ["D/real", "D/fake"]],
        "loss/D vs loss/G": ["Multiline", ["loss/D", "loss/G"]],
        "gradient norms": ["Multiline", ["grad_norm/D", "grad_norm/G"]],
        "learning rates": ["Multiline", ["lr/D", "lr/G"]],
    },
    "quality": {  # one chart per scale
        "FID, KID": ["Multiline", [r"metrics/(FID|KID).*"]],
        "IS": ["Multiline", [r"metrics/IS.*"]],
        "precision, recall": ["Multiline", [r"metrics/(precision|recall).*"]],
        "modes captured, high-quality %": ["Multiline", [r"metrics/(modes|hq)"]],
        "reverse KL of the modes": ["Multiline", [r"metrics/reverse_kl"]],
        "sample diversity vs the real data's": ["Multiline", [r"health/.*"]],
    },
}


def upscale(image: Tensor, min_pixels: int = MIN_GRID_PIXELS) -> Tensor:
    """(C, H, W) -> the same image repeated by the smallest integer factor making it >= min_pixels wide
    (nearest neighbour: pixels stay sharp squares)."""
    factor = max(1, math.ceil(min_pixels / image.shape[-1]))
    return image.repeat_interleave(factor, dim=-1).repeat_interleave(factor, dim=-2)


def image_grid(images: Tensor, nrow: int | None = None, min_pixels: int = MIN_GRID_PIXELS) -> Tensor:
    """(N, C, H, W) in [-1, 1] -> one (C, H', W') grid in [0, 1], `nrow` images a row (or about square),
    upscaled to at least `min_pixels` wide."""
    nrow = nrow or max(1, int(round(images.shape[0] ** 0.5)))
    grid = make_grid(images.detach().float().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1)
    return upscale(grid, min_pixels)


def scatter_extent(real: Tensor) -> float:
    """A fixed half-width for a dataset's plots: 1.25 x its largest |coordinate|, rounded up to 0.5.
    It depends on the real data only, so every step and every run on the dataset share the same axes."""
    return math.ceil(1.25 * float(real.abs().max()) * 2) / 2


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the bitmap font only
        return ImageFont.load_default()


def scatter_image(fake: Tensor, real: Tensor, extent: float, modes: Tensor | None = None) -> Tensor:
    """2-D samples (red) over real points (grey) and the real modes (blue rings) on [-extent, extent]^2,
    with a frame, ticks, labels and a legend -> (3, H, W) in [0, 1]."""
    size, inner = SCATTER_PIXELS, SCATTER_PIXELS - MARGIN - MARGIN // 2  # a square plot area
    image = Image.new("RGB", (size, size), "white")
    draw, font = ImageDraw.Draw(image), _font(15)  # TensorBoard's card shows the plot at about 60 %
    left, top = MARGIN, MARGIN // 2

    def to_pixels(points: Tensor) -> np.ndarray:
        xy = (points.detach().float().cpu().numpy() + extent) / (2 * extent) * inner
        return np.stack([left + xy[:, 0], top + inner - xy[:, 1]], axis=1)  # y axis points up

    def dots(points: Tensor, colour: tuple[int, int, int], radius: float) -> None:
        for x, y in to_pixels(points):
            if left <= x <= left + inner and top <= y <= top + inner:
                draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)

    dots(real, REAL_COLOUR, 1.5)
    dots(fake, FAKE_COLOUR, 2.0)
    if modes is not None:  # drawn last: never hidden under the samples
        for x, y in to_pixels(modes):
            draw.ellipse((x - 9, y - 9, x + 9, y + 9), outline=MODE_COLOUR, width=2)
    draw.rectangle((left, top, left + inner, top + inner), outline="black", width=1)
    step = _tick_step(extent)
    for k in range(-int(extent / step), int(extent / step) + 1):
        value = k * step
        px = left + (value + extent) / (2 * extent) * inner
        py = top + inner - (value + extent) / (2 * extent) * inner
        draw.line((px, top + inner, px, top + inner + 4), fill="black")
        draw.line((left - 4, py, left, py), fill="black")
        draw.text((px, top + inner + 6), f"{value:g}", fill="black", font=font, anchor="ma")
        draw.text((left - 6, py), f"{value:g}", fill="black", font=font, anchor="rm")
    _legend(draw, font, left + 6, top + 6, with_fake=len(fake) > 0, with_modes=modes is not None)
    return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1).float() / 255


def _tick_step(extent: float) -> float:
    """A round tick spacing giving about 3-6 ticks per half axis."""
    for step in (0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        if extent / step <= 5:
            return step
    return extent / 4


def _legend(draw: ImageDraw.ImageDraw, font: Any, x: float, y: float, with_fake: bool, with_modes: bool) -> None:
    entries = [("real data", REAL_COLOUR, "dot")]
    entries += [("G(z), fixed noise", FAKE_COLOUR, "dot")] if with_fake else []
    entries += [("real modes", MODE_COLOUR, "ring")] if with_modes else []
    draw.rectangle((x, y, x + 160, y + 8 + 20 * len(entries)), fill="white", outline=(120, 120, 120))
    for i, (label, colour, kind) in enumerate(entries):
        cy = y + 14 + 20 * i
        if kind == "dot":
            draw.ellipse((x + 8, cy - 3, x + 14, cy + 3), fill=colour)
        else:
            draw.ellipse((x + 5, cy - 6, x + 17, cy + 6), outline=colour, width=2)
        draw.text((x + 24, cy), label, fill="black", font=font, anchor="lm")


# HParams shows the first 5 metrics of the experiment (in its order) and the first 5 hyperparameters after
# a stable sort putting those that differ first: the quality metrics and the losses come first.
METRIC_ORDER = ("metrics/fid", "metrics/kid", "metrics/modes", "metrics/hq", "loss/g", "loss/d", "metrics/")


def _metric_rank(tag: str) -> tuple[int, str]:
    return next(i for i, prefix in enumerate(METRIC_ORDER + ("",)) if tag.lower().startswith(prefix)), tag


def experiment_summaries(hparams: dict[str, Any], final: dict[str, float],
                         varying: frozenset[str] | set[str] = frozenset()) -> tuple[Any, Any, Any]:
    """The HParams experiment summary, session start and session end of one run.

    The experiment declares the losses and every metrics/* tag the run logged (FID, KID, modes, hq, loss/G,
    loss/D first), so TensorBoard's HParams table and parallel-coordinates view show them by default
    (without one it infers the metrics and shows the first five tags alphabetically: D/fake, D/real,
    grad_norm/D, grad_norm/G, loss/D). `varying`: the hyperparameters a sweep varies, marked `differs` so
    they are the ones shown (TensorBoard computes that itself only when no run declares an experiment)."""
    from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboard.plugins.hparams.metadata import EXPERIMENT_TAG, PLUGIN_DATA_VERSION, PLUGIN_NAME
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    shown = sorted((tag for tag in final if tag in ("loss/D", "loss/G") or tag.startswith("metrics/")),
                   key=_metric_rank)
    declared, session_start, session_end = hparams_summaries(hparams, {tag: final[tag] for tag in shown})
    experiment = HParamsPluginData.FromString(declared.value[0].metadata.plugin_data.content).experiment
    infos = sorted(experiment.hparam_infos, key=lambda info: (info.name not in varying, info.name))
    for info in infos:
        info.differs = info.name in varying
    experiment.ClearField("hparam_infos")
    experiment.hparam_infos.extend(infos)
    content = HParamsPluginData(experiment=experiment, version=PLUGIN_DATA_VERSION).SerializeToString()
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=PLUGIN_NAME, content=content))
    return Summary(value=[Summary.Value(tag=EXPERIMENT_TAG, metadata=metadata)]), session_start, session_end

