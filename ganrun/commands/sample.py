"""`ganrun sample checkpoint=PATH num=N out=FILE.png|FILE.npz|FILE.gif [interpolate=true] [frames=T] [seed=S]
[device=auto] [label=K]`: samples of a checkpoint's generator (its EMA copy when the run kept one) from the run's own
prior; with `interpolate=true`, rows of great-circle paths between random latents (White 2016). The sheet's
latents (and labels) go into the .npz, or beside a .png as FILE.latents.npz, for `ganrun latents`. A video
game's generator (one with `sample_clips`: VGAN, MoCoGAN) writes its clips as an animated GIF grid, a
frames-over-time PNG (a clip a row) or an .npz of (N, C, T, H, W); MoCoGAN takes any `frames`. A conditional
run's samples cycle through the classes; `label=K` makes them all of class K (MoCoGAN: one action)."""

from __future__ import annotations

from pathlib import Path

from ganrun.commands.common import checkpoint_config, load_generator, parse
from ganrun.errors import UsageError

CHUNK = 256  # samples drawn at a time


def main(args: list[str]) -> None:
    import torch
    from torchvision.utils import save_image

    from ganrun.commands.latents import save_sheet
    from ganrun.config import arguments
    from ganrun.config.checks import is_conditional
    from ganrun.experiment import resolve_device
    from ganrun.safe_io import atomic_write
    from ganrun.sampling import LATENT_PRIORS, slerp

    own, overrides = parse(args, {"checkpoint", "num", "out", "interpolate", "seed", "device", "frames", "label"},
                           required={"checkpoint", "out"})
    num = arguments.integer("num", own.get("num", "64"), minimum=1, maximum=arguments.MAX_SAMPLES)
    seed = arguments.integer("seed", own.get("seed", "0"), minimum=0, maximum=2**63 - 1)
    interpolate = arguments.boolean("interpolate", own.get("interpolate", "false"))
    out = Path(own["out"])
    if out.suffix not in (".png", ".npz", ".gif"):
        raise UsageError(f"out={out}: write a .png grid, an .npz array or (clips) a .gif")
    device = resolve_device(arguments.device(own.get("device", "auto")))
    saved, cfg = checkpoint_config(own["checkpoint"], overrides)
    if cfg.game.get("own_samples", False):  # coupled games (CoGAN, UNIT): the game's own sheet of pairs
        if interpolate or out.suffix == ".gif" or "frames" in own:
            raise UsageError(f"game={cfg.game.name} writes pairs from one latent: no interpolate, frames or .gif")
        return write_sheet(saved, cfg, device, num, torch.Generator().manual_seed(seed), out)
    if cfg.game.get("not_sampled"):  # a game whose G maps real images (in-painting, translation): nothing to draw
        raise UsageError(f"game={cfg.game.name} draws nothing from noise: {cfg.game.not_sampled}")
    dataset, generator = load_generator(saved, cfg, device)
    noise = torch.Generator().manual_seed(seed)
    if hasattr(generator, "sample_clips"):  # a video game's G draws its own latents (content, motion ...)
        labels = torch.arange(num) % dataset.num_classes if is_conditional(cfg) else None
        labels = one_class(own, labels, dataset.num_classes)
        frames = arguments.integer("frames", own["frames"], minimum=1, maximum=10_000) if "frames" in own else None
        return write_clips(generator, num, out, noise, labels, frames)
    if out.suffix == ".gif" or "frames" in own:
        raise UsageError("frames= and out=FILE.gif are for video games' clips: write a .png grid or an .npz")
    latent_dim, prior = cfg.architecture.latent_dim, LATENT_PRIORS[cfg.tricks.latent]  # the run's prior
    rows = max(1, int(round(num ** 0.5)))
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
    labels = one_class(own, labels, dataset.num_classes)

    def draw(i: int) -> torch.Tensor:
        part = None if labels is None else labels[i:i + CHUNK].to(device)
        return generator(latents[i:i + CHUNK].to(device), part).cpu()

    with torch.no_grad():
        samples = torch.cat([draw(i) for i in range(0, len(latents), CHUNK)])
    if out.suffix == ".png" and samples.dim() != 4:
        raise UsageError("2-D samples have no image grid: write out=FILE.npz")
    if out.suffix == ".png":
        atomic_write(out, lambda file: save_image(samples, file, format="png", nrow=columns, normalize=True,
                                                  value_range=(-1, 1), pad_value=1))  # WriteError: exit 5
    # the sheet's latents (and labels), for `ganrun latents`: in the .npz, or beside the .png
    sheet = save_sheet(out, latents, labels, own["checkpoint"], columns, samples if out.suffix == ".npz" else None)
    print(f"{len(samples)} samples written to {out}" + ("" if sheet == out else f", their latents to {sheet}"))


def one_class(own: dict, labels, num_classes: int | None):
    """`label=K`: every sample of class K (a conditional run's), else `labels` (classes cycling)."""
    if "label" not in own:
        return labels
    from ganrun.config import arguments

    if labels is None:
        raise UsageError("label= is for a conditional run's checkpoint (conditional=true): this one has no classes")
    label = arguments.integer("label", own["label"], minimum=0, maximum=num_classes - 1)
    return labels.new_full(labels.shape, label)


def write_sheet(saved: dict, cfg, device, num: int, noise, out: Path) -> None:
    """`num` latents of the game's sheet (`game.sheet(G, num, noise) -> latents, images, per_latent`): a .png
    grid with each latent's images side by side, or an .npz of `samples` (num * per_latent images, in that
    order) and `latents`."""
    import numpy as np
    from torchvision.utils import save_image

    from ganrun.commands.translate import load_game
    from ganrun.safe_io import atomic_write

    game = load_game(saved, cfg, device, evaluate=False)
    latents, images, per = game.sheet(game.generator.eval(), num, noise)
    images, columns = images.cpu(), max(1, int(round(num ** 0.5)))
    if out.suffix == ".png":
        atomic_write(out, lambda file: save_image(images, file, format="png", nrow=per * columns, normalize=True,
                                                  value_range=(-1, 1), pad_value=1))
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez(out, samples=images.numpy(), latents=latents.cpu().numpy())
    print(f"{num} latents x {per} samples (rows of {columns} latents, each latent's {per} images side by side) "
          f"written to {out}")


def write_clips(generator, num: int, out: Path, noise, labels, frames: int | None) -> None:
    """`num` clips (N, C, T, H, W) as a GIF grid, a frames-over-time PNG or an .npz."""
    import numpy as np
    import torch
    from torchvision.utils import save_image

    from ganrun.videos import time_grid, write_gif

    try:
        with torch.no_grad():
            clips = generator.sample_clips(num, noise=noise, labels=labels, frames=frames).cpu()
    except ValueError as error:
        raise UsageError(str(error)) from error
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npz":
        np.savez(out, samples=clips.numpy())
    elif out.suffix == ".gif":
        write_gif(out, clips)
    else:
        save_image(time_grid(clips), out)
    print(f"{len(clips)} clips of {clips.shape[2]} frames written to {out}")
