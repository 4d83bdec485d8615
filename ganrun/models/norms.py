"""The normalisation choice of the translation networks (pix2pix/CycleGAN's `--norm`).

`batch`: BatchNorm2d with learned affine and running statistics (pix2pix's default); `instance`:
InstanceNorm2d without affine parameters or running statistics (CycleGAN's default, as the
reference's `functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)`);
`none`: no normalisation. A conv followed by instance norm or none keeps its bias; one followed by
batch norm drops it (BN's mean subtraction cancels it), as the reference's `use_bias`.
"""

from __future__ import annotations

from torch import nn

NORMS = ("batch", "instance", "none")


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm={kind!r} is not one of {', '.join(NORMS)}")


def uses_bias(kind: str) -> bool:
    """Whether a conv before this norm needs its own bias (the reference's `use_bias`)."""
    if kind not in NORMS:
        raise ValueError(f"norm={kind!r} is not one of {', '.join(NORMS)}")
    return kind != "batch"
