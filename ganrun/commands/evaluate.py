"""`ganrun eval`: the metrics of a checkpoint's generator, or of samples someone else made.

    ganrun eval checkpoint=PATH [out=FILE.json] [device=auto] [metrics.KEY=VALUE ...]
    ganrun eval fake=FOLDER_OR_NPZ dataset=NAME [dataset.KEY=VALUE ...] [metrics.KEY=VALUE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from ganrun.commands.common import checkpoint_config, load_generator, parse, write_json
from ganrun.errors import UsageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def load_fake(path: Path, channels: int | None):
    """Samples from an .npz (array `samples`, N x C x H x W in [-1, 1] or N x 2) or a folder of images."""
    import numpy as np
    import torch
    from torchvision.io import ImageReadMode, decode_image

    if not path.exists():
        raise UsageError(f"fake={path} does not exist: give a folder of images or an .npz of samples")
    if path.suffix == ".npz":
        with np.load(path) as archive:
            if "samples" not in archive:
                raise UsageError(f"{path} has no array named 'samples' (N x C x H x W in [-1, 1], or N x 2)")
            return torch.from_numpy(archive["samples"]).float()
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UsageError(f"{path} holds no images (.png/.jpg) and is not an .npz of samples")
    mode = ImageReadMode.GRAY if channels == 1 else ImageReadMode.RGB
    return torch.stack([decode_image(str(f), mode=mode).float() / 127.5 - 1 for f in files])


def main(args: list[str]) -> None:
    from ganrun.config.checks import is_conditional
    from ganrun.config.compose import job_config
    from ganrun.experiment import make, resolve_device
    from ganrun.metrics import build_evaluator
    from ganrun.sampling import GeneratorInputs

    own, overrides = parse(args, {"checkpoint", "fake", "out", "device"})
    device = resolve_device(own.get("device", "auto"))
    if "checkpoint" in own:
        saved, cfg = checkpoint_config(own["checkpoint"], overrides)
        if cfg.game.get("own_metrics", False):  # translation games: their metrics on the test split
            from ganrun.commands.translate import game_metrics

            return report({"checkpoint": own["checkpoint"], "step": saved["step"], **game_metrics(saved, cfg, device)},
                          Path(own.get("out", str(Path(own["checkpoint"]).with_suffix(".metrics.json")))))
        dataset, generator = load_generator(saved, cfg, device)
        evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make)
        inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim,  # the run's prior (and labels)
                                 dataset.num_classes if is_conditional(cfg) else None, device)
        results = evaluator(lambda n: generator(*inputs(n)))
        out = Path(own.get("out", str(Path(own["checkpoint"]).with_suffix(".metrics.json"))))
        results = {"checkpoint": own["checkpoint"], "step": saved["step"], **results}
    elif "fake" in own:
        cfg = job_config(overrides)
        samples = load_fake(Path(own["fake"]), cfg.dataset.get("channels"))
        evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make)
        try:
            results = {"fake": own["fake"], **evaluator.evaluate_samples(samples)}
        except ValueError as error:  # e.g. samples of another shape than the dataset's
            raise UsageError(f"{own['fake']}: {error}") from error
        out = Path(own.get("out", "metrics.json"))
    else:
        raise UsageError("give checkpoint=PATH or fake=FOLDER_OR_NPZ")
    report(results, out)


def report(results: dict, out: Path) -> None:
    for name, value in results.items():
        print(f"{name}: {value}")
    write_json(results, out)
    print(f"written to {out}", file=sys.stderr)
