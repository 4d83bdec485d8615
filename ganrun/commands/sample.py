"""`ganrun sample checkpoint=PATH num=N out=FILE.png|FILE.npz [interpolate=true] [seed=S] [device=auto]`:
samples of a checkpoint's generator (its EMA copy when the run kept one) from the run's own prior; with
`interpolate=true`, rows of great-circle paths between random latents (White 2016)."""

from __future__ import annotations

from pathlib import Path

from ganrun.commands.common import checkpoint_config, load_generator, parse
from ganrun.errors import UsageError

CHUNK = 256  # samples drawn at a time


def main(args: list[str]) -> None:
    import numpy as np
    import torch
    from torchvision.utils import save_image

    from ganrun.config.checks import is_conditional
    from ganrun.experiment import resolve_device
    from ganrun.sampling import LATENT_PRIORS, slerp

    own, overrides = parse(args, {"checkpoint", "num", "out", "interpolate", "seed", "device"},
                           required={"checkpoint", "out"})
    num, out = int(own.get("num", 64)), Path(own["out"])
    if out.suffix not in (".png", ".npz"):
        raise UsageError(f"out={out}: write a .png grid or an .npz array")
    device = resolve_device(own.get("device", "auto"))
    saved, cfg = checkpoint_config(own["checkpoint"], overrides)
    dataset, generator = load_generator(saved, cfg, device)
    noise = torch.Generator().manual_seed(int(own.get("seed", 0)))
    latent_dim, prior = cfg.architecture.latent_dim, LATENT_PRIORS[cfg.tricks.latent]  # the run's prior
    rows = max(1, int(round(num ** 0.5)))
    interpolate = own.get("interpolate", "false").lower() == "true"
    if interpolate:  # rows of slerp paths between random latents
        ends = prior(2 * rows, latent_dim, generator=noise).view(2, rows, 1, latent_dim)
        columns = max(2, num // rows)
        t = torch.linspace(0, 1, columns).view(1, -1, 1).expand(rows, -1, 1).reshape(-1, 1)
        start, end = (e.expand(rows, columns, latent_dim).reshape(-1, latent_dim) for e in ends)
        latents = slerp(start, end, t)
    else:
        latents, columns = prior(num, latent_dim, generator=noise), rows
    # A conditional G draws one class per row of the grid (cycling when there are more rows than classes).
    labels = (torch.arange(len(latents)) // columns % dataset.num_classes) if is_conditional(cfg) else None

    def draw(i: int) -> torch.Tensor:
        part = None if labels is None else labels[i:i + CHUNK].to(device)
        return generator(latents[i:i + CHUNK].to(device), part).cpu()

    with torch.no_grad():
        samples = torch.cat([draw(i) for i in range(0, len(latents), CHUNK)])
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        np.savez(out, samples=samples.numpy())
    elif samples.dim() == 4:
        save_image(samples, out, nrow=columns, normalize=True, value_range=(-1, 1), pad_value=1)
    else:
        raise UsageError("2-D samples have no image grid: write out=FILE.npz")
    print(f"{len(samples)} samples written to {out}")
