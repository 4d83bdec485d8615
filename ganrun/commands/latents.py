"""`ganrun latents`: vector arithmetic and interpolation strips on the latents of a sample sheet.

    ganrun sample checkpoint=PATH num=64 out=sheet.png            also writes sheet.latents.npz
    ganrun latents sheet=sheet.latents.npz expr="[0,1,2]-[3,4,5]+[6,7,8]" out=arithmetic.png [variations=8] [noise=0.25]
    ganrun latents sheet=sheet.latents.npz pairs=3:7,1:12 out=strips.png [steps=8] [method=slerp|lerp]

Indices count the sheet's images row by row from 0. `expr` writes one row: each term's (averaged)
image, then the result, then `variations` results with uniform noise in [-noise, noise] added to the
latent (as Radford et al.'s Fig. 7). `pairs` writes one strip per pair. The sheet remembers its
checkpoint (`checkpoint=` overrides it); a conditional G keeps each sheet image's label (the result
takes the first term's).
"""

from __future__ import annotations

from pathlib import Path

SHEET_SUFFIX = ".latents.npz"


def save_sheet(out: Path, latents, labels, checkpoint: str, columns: int, samples=None) -> Path:
    """The latents (and labels) of a sheet of samples: inside an .npz `out` with its samples, or beside
    a .png `out` as <out>.latents.npz."""
    import numpy as np

    path = out if out.suffix == ".npz" else out.with_suffix(SHEET_SUFFIX)
    extra = {} if labels is None else {"labels": labels.numpy()}
    if samples is not None:
        extra["samples"] = samples.numpy()
    from ganrun.safe_io import atomic_write

    atomic_write(path, lambda file: np.savez(file, latents=latents.numpy(), checkpoint=np.array(checkpoint),
                                             columns=np.array(columns), **extra))  # WriteError: exit 5
    return path


def main(args: list[str]) -> None:
    import numpy as np
    import torch
    from torchvision.utils import save_image

    from ganrun.commands.common import checkpoint_config, load_generator, parse
    from ganrun.errors import UsageError
    from ganrun.experiment import resolve_device
    from ganrun.latent_arithmetic import compose, parse as parse_expression, strip, term_latents

    own, overrides = parse(args, {"sheet", "checkpoint", "expr", "pairs", "out", "steps", "method", "variations",
                                  "noise", "seed", "device"}, required={"sheet", "out"})
    if ("expr" in own) == ("pairs" in own):
        raise UsageError("give expr=\"3+7-12\" (arithmetic) or pairs=3:7,1:12 (interpolation strips), one of them")
    out = Path(own["out"])
    if out.suffix != ".png":
        raise UsageError(f"out={out}: write a .png")
    try:
        with np.load(own["sheet"]) as sheet:
            z = torch.from_numpy(sheet["latents"]).float()
            labels = torch.from_numpy(sheet["labels"]) if "labels" in sheet else None
            checkpoint = own.get("checkpoint", str(sheet["checkpoint"]))
    except (OSError, KeyError, ValueError) as error:
        raise UsageError(f"sheet={own['sheet']}: not a sheet of latents written by ganrun sample ({error})") from error
    try:
        if "expr" in own:
            terms = parse_expression(own["expr"])
            rows = [term_latents(z, own["expr"]), compose(z, own["expr"])[None]]
            generator_noise = torch.Generator().manual_seed(int(own.get("seed", 0)))
            noise, count = float(own.get("noise", 0.25)), int(own.get("variations", 0))
            rows.append(compose(z, own["expr"]) + noise * (2 * torch.rand(count, z.shape[1], generator=generator_noise) - 1))
            chosen, columns = torch.cat(rows), len(terms) + 1 + count
            first = terms[0][1][0]
            row_labels = None if labels is None else torch.cat(
                [labels[[i[0] for _, i in terms]], labels[first].repeat(1 + count)])
        else:
            pairs = [tuple(int(i) for i in pair.split(":")) for pair in own["pairs"].split(",")]
            steps = int(own.get("steps", 8))
            chosen = torch.cat([strip(z[a], z[b], steps, own.get("method", "slerp")) for a, b in pairs])
            columns = steps
            row_labels = None if labels is None else labels[[a for a, _ in pairs]].repeat_interleave(steps)
    except (ValueError, IndexError) as error:
        raise UsageError(str(error)) from error
    device = resolve_device(own.get("device", "auto"))
    saved, cfg = checkpoint_config(checkpoint, overrides)
    _, generator = load_generator(saved, cfg, device)
    with torch.no_grad():
        images = generator(chosen.to(device), None if row_labels is None else row_labels.to(device)).cpu()
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(images, out, nrow=columns, normalize=True, value_range=(-1, 1), pad_value=1)
    print(f"{len(images)} images written to {out}")
