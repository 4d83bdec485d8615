"""The checks a type cannot make: ranges, choices (choices.py) and the facts that span groups (which
objective, architecture, conditioning and trick go together). No torch: the CLI runs all of it right
after composing the config, so a bad override answers in about a second, before anything is written.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ganrun.config import choices
from ganrun.config.arguments import check_root_keys
from ganrun.config.choices import check_choice
from ganrun.config.schemas import CHECKPOINT_FORMAT, CHECKPOINT_PATTERN
from ganrun.errors import ConfigError
from ganrun.health.schema import validate_health

POSITIVE = ("trainer.steps", "trainer.batch_size", "trainer.log_every", "trainer.num_grid_samples",
            "architecture.latent_dim", "optimizer.lr", "optimizer.generator.lr",
            "optimizer.discriminator.lr", "dataset.num_modes", "dataset.side", "dataset.num_samples",
            "tricks.adaptive.max_updates", "tricks.grad_clip", "tricks.pack")
NON_NEGATIVE = ("trainer.sample_every", "trainer.checkpoint_every", "trainer.num_workers", "trainer.keep_checkpoints",
                "objective.clip_weights", "objective.unroll_steps", "dataset.std", "dataset.radius",
                "dataset.spacing", "tricks.instance_noise.std", "tricks.instance_noise.anneal_steps",
                "tricks.history.size")
LABELLED = "digits, mnist, fashion_mnist, cifar10, ring, grid"


def get(node: DictConfig, key: str, default: object = None) -> object:
    """The value at a dotted `key`, or `default` where the key does not exist in this config (a schema
    without that field raises on a plain OmegaConf.select)."""
    try:
        value = OmegaConf.select(node, key, default=default)
    except Exception:  # noqa: BLE001 - omegaconf's ConfigAttributeError / KeyValidationError
        return default
    return default if value is None else value


def positive(cfg: DictConfig, key: str, allow_zero: bool = False) -> None:
    value = get(cfg, key)
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{key}={value} is out of range: it must be {bound} (e.g. {key}=1)")


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first value that cannot work, and how to fix it."""
    for key in ("game.name", "objective.name", "objective.d_steps"):
        if get(cfg, key) is None:
            raise ConfigError(f"{key} must be set: a game or objective YAML names itself and its D steps")
    for key in POSITIVE:
        positive(cfg, key)
    # D steps: at least one, except for an objective without an adversary (objective=vae: 0)
    positive(cfg, "objective.d_steps", allow_zero=not get(cfg, "objective.adversarial", True))
    for key in NON_NEGATIVE:
        positive(cfg, key, allow_zero=True)
    check_choice("sweep.direction", get(cfg, "sweep.direction", "minimize"),
                 choices.SWEEP_DIRECTIONS)
    validate_trainer(cfg)
    validate_data(cfg)
    validate_metrics(cfg.metrics)
    check_root_keys(cfg)  # seed: int, conditional: bool (config/arguments.py)
    search = get(cfg, "study.search")  # None where unset or ??? (the CLI asks for it before this check)
    if search is not None and not Path(str(search)).is_dir():
        raise ConfigError(f"study.search={search} is not a folder: give the sweep folder of an experiment=lucic2018 "
                          "search (experiment=lucic2018_seeds re-runs its best settings)")
    if get(cfg, "health") is not None:
        validate_health(cfg.health, ConfigError)
    validate_family(cfg)
    validate_tricks(cfg)
    from ganrun.config.recipes import validate_recipes  # imports this module's helpers

    validate_recipes(cfg)


def validate_trainer(cfg: DictConfig) -> None:
    trainer = cfg.trainer
    if str(trainer.device).split(":")[0] not in choices.DEVICES:
        raise ConfigError(f"trainer.device={trainer.device} is not an option: use one of "
                          f"{', '.join(choices.DEVICES)} (or cuda:N)")
    check_choice("trainer.progress", trainer.progress, choices.PROGRESS)
    check_choice("trainer.on_nan", trainer.on_nan, choices.ON_NAN)
    check_choice("trainer.precision", trainer.precision, choices.PRECISIONS)
    if trainer.resume is not None:
        check_checkpoint_file(Path(trainer.resume), f"trainer.resume={trainer.resume}", folder_allowed=True)
    if trainer.reuse_fake and cfg.objective.d_steps != 1:
        raise ConfigError(f"trainer.reuse_fake=true needs objective.d_steps=1 (one fake batch per step to reuse), "
                          f"got objective.d_steps={cfg.objective.d_steps}: set trainer.reuse_fake=false")


def validate_data(cfg: DictConfig) -> None:
    arch, data = cfg.architecture, cfg.dataset
    resolution = get(data, "resolution")
    if resolution is None:  # 2-D points
        if not get(arch, "points", False):
            raise ConfigError(f"architecture={arch.name} makes images but dataset={data.name} is 2-D points: "
                              "use architecture=mlp")
    elif resolution < 1:
        raise ConfigError(f"dataset.resolution={resolution} must be > 0")
    elif get(arch, "resolutions") is not None and resolution not in arch.resolutions:
        allowed = ", ".join(str(r) for r in arch.resolutions)
        raise ConfigError(f"architecture={arch.name} cannot make {resolution}x{resolution} images: "
                          f"set dataset.resolution to one of {allowed}")
    root = get(data, "root")
    if "root" in data and root is None:
        raise ConfigError(f"dataset={data.name} needs dataset.root: the folder that holds its files")
    if root is not None and not get(data, "download", False) and not Path(root).exists():
        raise ConfigError(f"dataset.root={root} does not exist: point dataset.root at the {data.name} files "
                          "(or set dataset.download=true where torchvision can download them)")


def validate_metrics(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first `metrics.*` value that cannot work, and the fix."""
    check_choice("metrics.features", cfg.features, choices.FEATURES)
    check_choice("metrics.split", cfg.split, choices.SPLITS)
    if cfg.every < 0:
        raise ConfigError(f"metrics.every={cfg.every} must be >= 0 (0 = only at the end)")
    for key in ("num_samples", "batch_size", "kid_subsets", "kid_subset_size", "nearest_k", "num_points"):
        if cfg[key] < 1:
            raise ConfigError(f"metrics.{key}={cfg[key]} must be > 0")
    if cfg.num_samples < 10:
        raise ConfigError(f"metrics.num_samples={cfg.num_samples} is too few: IS needs 10 splits, "
                          "and FID is meaningless below a few thousand (use 10000)")
    if cfg.inception_weights is not None and not Path(cfg.inception_weights).expanduser().is_file():
        raise ConfigError(f"metrics.inception_weights={cfg.inception_weights} is not a file: point it at "
                          "torch-fidelity's weights-inception-2015-12-05-6726825d.pth")
    lpips = cfg.get("lpips_weights")
    if lpips is not None and not Path(lpips).expanduser().is_file():
        raise ConfigError(f"metrics.lpips_weights={lpips} is not a file: point it at torchvision's AlexNet weights "
                          "(alexnet-owt-7be5be79.pth), or leave it null (no LPIPS)")


def dataset_classes(data: DictConfig) -> int | None:
    """How many labels a dataset's items carry: its classes, or for the 2-D mixtures their modes."""
    side = get(data, "side")
    return get(data, "num_classes") or get(data, "num_modes") or (side and side * side)


def is_conditional(cfg: DictConfig) -> bool:
    """Labels go into G and D: conditional=true, or AC-GAN, whose D scores the class as well."""
    return bool(get(cfg, "conditional", False)
                or get(cfg, "objective.scores") == "logit_and_class")


def validate_family(cfg: DictConfig) -> None:
    """Objective x architecture x conditioning: the pairs that cannot work."""
    arch, objective = cfg.architecture, cfg.objective
    scores = get(objective, "scores", "score")
    outputs = get(arch, "outputs", "score")
    check_choice("objective.scores", scores, choices.D_OUTPUTS)
    if (scores == "energy") != (outputs == "energy"):
        fix = "use architecture=autoencoder" if scores == "energy" else "use objective=ebgan or began"
        raise ConfigError(f"objective={objective.name} reads D's {scores}s but architecture={arch.name}'s D "
                          f"gives {outputs}s: {fix}")
    normalization = get(arch, "normalization")
    if normalization is not None:
        check_choice("architecture.normalization", normalization, choices.NORMALIZATIONS)
    if not isinstance(get(cfg, "conditional", False), bool):
        raise ConfigError(f"conditional={cfg.conditional} must be true or false")
    what = f"objective={objective.name}" if scores == "logit_and_class" else "conditional=true"
    if is_conditional(cfg) and dataset_classes(cfg.dataset) is None:
        raise ConfigError(f"{what} needs labels, and dataset={cfg.dataset.name} has none: "
                          f"use a labelled dataset ({LABELLED})")
    if is_conditional(cfg) and outputs == "energy":
        raise ConfigError(f"architecture={arch.name} has no conditional form: set conditional=false")
    divergence = get(objective, "divergence")
    if divergence is not None:
        check_choice("objective.divergence", divergence, choices.FGAN_DIVERGENCES)
    if get(cfg, "objective.adversarial", True) != get(cfg, "game.adversary", True):  # a VAE has no D
        fix = "use game=vae" if not get(cfg, "objective.adversarial", True) else "use objective=vae"
        raise ConfigError(f"objective={objective.name} and game={cfg.game.name} do not go together "
                          f"(one trains a discriminator, the other has none): {fix}")
    datasets = get(cfg, "game.datasets")  # a game that trains on particular data (CoGAN, UNIT: two domains)
    if datasets is not None and cfg.dataset.name not in datasets:
        raise ConfigError(f"game={cfg.game.name} trains on {' or '.join(f'dataset={d}' for d in datasets)}, "
                          f"not dataset={cfg.dataset.name}")
    equilibrium = get(objective, "equilibrium")
    if equilibrium is not None and (not 0 < equilibrium.gamma <= 1 or equilibrium.lambda_k < 0):
        raise ConfigError(f"objective.equilibrium gamma={equilibrium.gamma}, lambda_k={equilibrium.lambda_k}: "
                          "BEGAN needs 0 < gamma <= 1 and lambda_k >= 0 (the paper: 0.5 and 0.001)")


def validate_tricks(cfg: DictConfig) -> None:
    """Each trick's values, and the tricks that do not fit the objective, the batch or the labels."""
    tricks = cfg.tricks
    smoothing = tricks.label_smoothing
    for key in ("real", "fake"):
        if not 0 <= smoothing[key] <= 1:
            raise ConfigError(f"tricks.label_smoothing.{key}={smoothing[key]} is a target probability: 0 to 1")
    if (smoothing.real, smoothing.fake) != (1.0, 0.0) and cfg.objective.scores not in ("logit", "logit_and_class"):
        raise ConfigError(f"label smoothing changes the targets of the sigmoid cross-entropy and "
                          f"objective={cfg.objective.name} has none: use ns, minimax, dragan, unrolled or acgan")
    if not 0 < tricks.history.fraction <= 1:
        raise ConfigError(f"tricks.history.fraction={tricks.history.fraction} must be in (0, 1] (the paper: 0.5)")
    if not 0 <= tricks.lr_decay_start < 1:
        raise ConfigError(f"tricks.lr_decay_start={tricks.lr_decay_start} is a fraction of the steps: 0 to < 1")
    if tricks.ema_decay is not None and not 0 <= tricks.ema_decay < 1:
        raise ConfigError(f"tricks.ema_decay={tricks.ema_decay} must be in [0, 1), e.g. 0.999")
    check_choice("tricks.latent", tricks.latent, choices.LATENT_PRIORS)
    if cfg.trainer.batch_size % tricks.pack:
        raise ConfigError(f"tricks.pack={tricks.pack} must divide trainer.batch_size={cfg.trainer.batch_size}: "
                          "D judges the batch in packs of that many samples")
    if tricks.pack > 1 and is_conditional(cfg):
        raise ConfigError("tricks.pack > 1 packs samples of different classes: set conditional=false")
    if tricks.minibatch_std and get(cfg, "architecture.outputs") == "energy":
        raise ConfigError(f"tricks.minibatch_std adds a feature to a classifier D, not to architecture={cfg.architecture.name}")
    validate_salimans(cfg)


def validate_salimans(cfg: DictConfig) -> None:
    """Salimans et al. 2016's tricks: values, and the networks each one needs (a checkpoint of an
    earlier ganrun has none of these keys: all off)."""
    arch = cfg.architecture.name
    value = lambda key, default=0: get(cfg, f"tricks.{key}", default)  # noqa: E731
    for key in ("minibatch_discrimination.kernels", "virtual_batch_norm", "window_average", "historical_averaging"):
        if value(key) < 0:
            raise ConfigError(f"tricks.{key}={value(key)} must be >= 0 (0 = off)")
    if value("minibatch_discrimination.kernels") and arch != "dcgan":
        raise ConfigError(f"tricks.minibatch_discrimination is built into the dcgan D, not architecture={arch}")
    if value("minibatch_discrimination.kernel_dim", 5) < 1:
        raise ConfigError("tricks.minibatch_discrimination.kernel_dim must be >= 1")
    if value("virtual_batch_norm") and arch not in ("dcgan", "resnet"):
        raise ConfigError(f"tricks.virtual_batch_norm replaces G's batch norms: architecture={arch}'s G has none; "
                          "use dcgan or resnet")
    if value("feature_matching", False) and get(cfg, "architecture.outputs") == "energy":
        raise ConfigError(f"tricks.feature_matching needs a classifier D's features, not architecture={arch}")


def check_checkpoint_file(path: Path, name: str, folder_allowed: bool = False) -> None:
    """What can be told about a checkpoint without torch: it exists, is not empty, is a zip archive
    (torch.save's format, whose directory sits at the end: a truncated file has none)."""
    if not path.exists():
        raise ConfigError(f"{name} does not exist: give a checkpoint file (checkpoints/step_*.pt) or a run folder")
    if path.is_dir() and folder_allowed:
        if not any(path.glob(f"checkpoints/{CHECKPOINT_PATTERN}")) and not any(path.glob(CHECKPOINT_PATTERN)):
            raise ConfigError(f"{name} is a folder without checkpoints (checkpoints/step_*.pt): "
                              "give a run folder or a checkpoint file")
        return  # a run folder: its newest checkpoint is read once torch is loaded
    if not path.is_file():
        raise ConfigError(f"{name} is not a file: give a checkpoint file (checkpoints/step_*.pt)")
    if path.stat().st_size == 0:
        raise ConfigError(f"{name} is an empty file (0 bytes), not a checkpoint: give a step_*.pt file ganrun wrote")
    if not zipfile.is_zipfile(path):
        raise ConfigError(f"{name} is not a ganrun checkpoint (not a torch archive: truncated, or another kind "
                          "of file): give a step_*.pt file ganrun wrote")
    with zipfile.ZipFile(path) as archive:  # the pickle of the dict's structure; the tensors are beside it
        pickles = [member for member in archive.namelist() if member.endswith("/data.pkl")]
        if not pickles or CHECKPOINT_FORMAT.encode() not in archive.read(pickles[0]):
            raise ConfigError(f"{name} has no '{CHECKPOINT_FORMAT}' marker, so ganrun did not write it: "
                              "give a step_*.pt file ganrun wrote")
