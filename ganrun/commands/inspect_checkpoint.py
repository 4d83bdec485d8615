"""Part of `ganrun eval checkpoint=PATH` (commands/evaluate.py): issue 15's evaluations (each off unless asked for):

    memorisation=true [num=500] [test=FOLDER_OR_NPZ] [classifier=FILE.pt]   nearest training images
    probe=true [probe_train=10000] [probe_test=10000]                        D's linear probe
    conditional=true [per_class=100] [classifier=FILE.pt]                    a conditional G's accuracy

Memorisation compares against every training image of the run's dataset; its test images are the
dataset's test split (or, for a dataset with one split, `test=`: a folder of images or an .npz of
samples); its feature space is the dataset's metrics classifier (or `classifier=`, a cached
`classifier_*.pt`; none: pixel space only). Grids go next to the results as
`<out>.memorisation_pixel.png` / `_feature.png` (rows: sample | 1st | 2nd | 3rd neighbour), and into
the run's TensorBoard as memorisation/pixel and memorisation/feature at the checkpoint's step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganrun.errors import UsageError

KEYS = {"memorisation", "probe", "conditional", "num", "test", "classifier", "probe_train", "probe_test", "per_class"}
GRID_ROWS = 16


def requested(own: dict[str, str]) -> bool:
    return any(own.get(k, "false").lower() == "true" for k in ("memorisation", "probe", "conditional"))


def _classifier(own: dict[str, str], cfg: Any, make: Any, device: Any, *, required: bool):
    from omegaconf import OmegaConf

    from ganrun.metrics import build_evaluator
    from ganrun.metrics.inspection import load_classifier

    if "classifier" in own:
        return load_classifier(own["classifier"])
    if OmegaConf.select(cfg.dataset, "num_classes") is None or OmegaConf.select(cfg.dataset, "resolution") is None:
        if required:
            raise UsageError(f"dataset={cfg.dataset.name} has no labels for a classifier: give classifier=FILE.pt")
        return None
    metrics = OmegaConf.merge(cfg.metrics, {"features": "classifier"})
    return build_evaluator(metrics, cfg.dataset, device, make=make).net


def check(own: dict[str, str], cfg: Any) -> None:
    """Refuse, before any work, what cannot be evaluated (one line, exit 2, nothing written)."""
    from omegaconf import OmegaConf

    from ganrun.config.checks import is_conditional

    on = {k for k in ("memorisation", "probe", "conditional") if own.get(k, "false").lower() == "true"}
    for key in ("memorisation", "probe", "conditional"):
        if own.get(key, "false").lower() not in ("true", "false"):
            raise UsageError(f"{key}={own[key]}: use true or false")
    if "memorisation" in on and "test" not in own and "train" not in cfg.dataset:
        raise UsageError(f"dataset={cfg.dataset.name} has one split: give memorisation test images, test=FOLDER_OR_NPZ")
    if "test" in own and not Path(own["test"]).exists():
        raise UsageError(f"test={own['test']}: no such folder or file")
    if "probe" in on and OmegaConf.select(cfg.dataset, "num_classes") is None:
        raise UsageError(f"probe=true needs labels, and dataset={cfg.dataset.name} has none")
    if "conditional" in on and not is_conditional(cfg):
        raise UsageError("conditional=true needs a conditional generator (a run with conditional=true or acgan)")
    if "classifier" in own and not Path(own["classifier"]).is_file():
        raise UsageError(f"classifier={own['classifier']}: no such file")


def _test_images(own: dict[str, str], cfg: Any, make: Any):
    from ganrun.commands.common import load_fake
    from ganrun.metrics.inspection import images_and_labels

    if "test" in own:
        return load_fake(Path(own["test"]), cfg.dataset.get("channels"))[:1000]
    return images_and_labels(make(cfg.dataset, train=False), 1000)[0]


def _splits(cfg: Any, dataset: Any, make: Any):
    """(train, test) for the probe: the dataset's splits, or every fifth item held out of a one-split dataset."""
    from torch.utils.data import Subset

    if "train" in cfg.dataset:
        return dataset, make(cfg.dataset, train=False)
    index = list(range(len(dataset)))
    return Subset(dataset, [i for i in index if i % 5]), Subset(dataset, index[::5])


def log_grids(checkpoint: Path, step: int, grids: dict) -> None:
    """The neighbour grids into the run's TensorBoard (memorisation/<space>) at the checkpoint's step,
    when the checkpoint lies in a run folder (<run>/checkpoints/step_N.pt)."""
    from torch.utils.tensorboard import SummaryWriter

    from ganrun.run.writer import image_grid

    folder = checkpoint.resolve().parent
    if folder.name != "checkpoints":
        return
    with SummaryWriter(str(folder.parent)) as writer:
        for space, grid in grids.items():
            writer.add_image(f"memorisation/{space}", image_grid(grid, nrow=4), step)


def evaluate(own: dict[str, str], saved: dict, cfg: Any, dataset: Any, generator: Any, device: Any,
             out: Path) -> dict[str, float]:
    """The evaluations `own` asks for, as {name: value}; memorisation's grids are written beside `out`."""
    import torch
    from torchvision.utils import save_image

    from ganrun.config.checks import is_conditional
    from ganrun.experiment import make
    from ganrun.games.gan import model_options
    from ganrun.metrics.cache import real_key
    from ganrun.metrics import inspection
    from ganrun.sampling import GeneratorInputs

    results = {}
    conditional = is_conditional(cfg)
    inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim,
                             dataset.num_classes if conditional else None, device)
    on = lambda key: own.get(key, "false").lower() == "true"  # noqa: E731
    check(own, cfg)
    if on("memorisation"):
        net = _classifier(own, cfg, make, device, required=False)
        key = None if net is None else real_key(cfg.dataset, split="train", num_samples=len(dataset), seed=0,
                                                digest=net.digest)
        figures, grids = inspection.memorisation_of(lambda n: generator(*inputs(n)), dataset,
                                                    _test_images(own, cfg, make), num=int(own.get("num", 500)),
                                                    net=net, cache_key=key, cache_dir=cfg.metrics.cache_dir)
        results |= figures
        for space, grid in grids.items():
            path = out.with_name(f"{out.stem}.memorisation_{space}.png")
            save_image(grid[:GRID_ROWS * 4], path, nrow=4, normalize=True, value_range=(-1, 1), pad_value=1)
            print(f"neighbour grid ({space} space) written to {path}")
        log_grids(Path(own["checkpoint"]), saved["step"], {k: g[:GRID_ROWS * 4] for k, g in grids.items()})
    if on("probe"):
        _, d_options = model_options(cfg, dataset.num_classes if conditional else None)
        discriminator = make(cfg.architecture.discriminator, data_shape=tuple(dataset.data_shape), **d_options)
        discriminator.load_state_dict({k.removeprefix("module."): v for k, v in saved["discriminator"].items()})
        train_set, test_set = _splits(cfg, dataset, make)
        results |= inspection.probe_of(discriminator.to(device), train_set, test_set, cfg.dataset.num_classes,
                                       train_count=int(own.get("probe_train", 10000)),
                                       test_count=int(own.get("probe_test", 10000)))
    if on("conditional"):
        net = _classifier(own, cfg, make, device, required=True).to(device)
        z = lambda labels: inputs.prior(len(labels), inputs.latent_dim, device=device)  # noqa: E731
        with torch.no_grad():
            results |= inspection.conditional_of(lambda labels: generator(z(labels), labels.to(device)), net,
                                                 dataset.num_classes, int(own.get("per_class", 100)))
    return results
