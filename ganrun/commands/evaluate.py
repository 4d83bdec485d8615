"""`ganrun eval`: the metrics of a checkpoint's generator, or of samples someone else made.

    ganrun eval checkpoint=PATH [out=FILE.json] [device=auto] [metrics.KEY=VALUE ...]
    ganrun eval fake=FOLDER_OR_NPZ dataset=NAME [dataset.KEY=VALUE ...] [metrics.KEY=VALUE ...]
A video game's checkpoint (VGAN, MoCoGAN), or an .npz of clips (N, C, T, H, W) with a video dataset, gets
the video metrics: frame FID/KID on a frame classifier, the motion statistics (ganrun/metrics/video.py).
    ganrun eval checkpoint=PATH memorisation=true|probe=true|conditional=true ...   (inspect_checkpoint.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

from ganrun.commands.common import checkpoint_config, load_fake, load_generator, parse, write_json
from ganrun.errors import UsageError


def main(args: list[str]) -> None:
    from ganrun.config import arguments
    from ganrun.config.checks import is_conditional
    from ganrun.config.compose import job_config
    from ganrun.experiment import make, resolve_device
    from ganrun.metrics import build_evaluator
    from ganrun.sampling import GeneratorInputs

    from ganrun.commands import inspect_checkpoint as extras

    own, overrides = parse(args, {"checkpoint", "fake", "out", "device"} | extras.KEYS)
    device = resolve_device(arguments.device(own.get("device", "auto")))
    if "checkpoint" in own:
        saved, cfg = checkpoint_config(own["checkpoint"], overrides)
        extras.check(own, cfg)
        if cfg.game.get("own_metrics", False):  # translation games: their metrics on the test split
            from ganrun.commands.translate import game_metrics

            return report({"checkpoint": own["checkpoint"], "step": saved["step"], **game_metrics(saved, cfg, device)},
                          Path(own.get("out", str(Path(own["checkpoint"]).with_suffix(".metrics.json")))))
        dataset, generator = load_generator(saved, cfg, device)
        out = Path(own.get("out", str(Path(own["checkpoint"]).with_suffix(".metrics.json"))))
        results = {}
        if hasattr(generator, "sample_clips"):  # a video game's G (VGAN, MoCoGAN): frame FID/KID, motion
            results = video_metrics(cfg, generator, dataset.num_classes if is_conditional(cfg) else None, device)
        elif not extras.requested(own) or cfg.metrics.enabled:  # the usual metrics, unless only extras were asked
            evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make)
            inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim,  # the run's prior (and labels)
                                     dataset.num_classes if is_conditional(cfg) else None, device)
            results = evaluator(lambda n: generator(*inputs(n)))
        results |= extras.evaluate(own, saved, cfg, dataset, generator, device, out)
        results = {"checkpoint": own["checkpoint"], "step": saved["step"], **results}
    elif "fake" in own:
        cfg = job_config(overrides)
        samples = load_fake(Path(own["fake"]), cfg.dataset.get("channels"))
        if "frames" in cfg.dataset:  # clips (N, C, T, H, W) of a video dataset
            from ganrun.metrics.video import build_video_evaluator
            evaluator = build_video_evaluator(cfg.metrics, cfg.dataset, device, make=make)
        else:
            evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make)
        try:
            results = {"fake": own["fake"], **evaluator.evaluate_samples(samples)}
        except ValueError as error:  # e.g. samples of another shape than the dataset's
            raise UsageError(f"{own['fake']}: {error}") from error
        out = Path(own.get("out", "metrics.json"))
    else:
        raise UsageError("give checkpoint=PATH or fake=FOLDER_OR_NPZ")
    report(results, out)


def video_metrics(cfg, generator, num_classes: int | None, device) -> dict[str, float]:
    """Frame FID/KID and the motion statistics of the generator's clips (ganrun/metrics/video.py); a
    conditional G is asked for random actions, and `action_accuracy` says how often it made them."""
    import torch

    from ganrun.experiment import make
    from ganrun.metrics.video import build_video_evaluator

    evaluator = build_video_evaluator(cfg.metrics, cfg.dataset, device, make=make)

    def sample(n: int):
        labels = torch.randint(num_classes, (n,)) if num_classes else None
        with torch.no_grad():
            return generator.sample_clips(n, labels=labels), labels
    return evaluator(sample)


def report(results: dict, out: Path) -> None:
    for name, value in results.items():
        print(f"{name}: {value}")
    write_json(results, out)
    print(f"written to {out}", file=sys.stderr)
