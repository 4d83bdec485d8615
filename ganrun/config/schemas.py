"""Typed schemas of the config groups, registered in Hydra's ConfigStore.

Each YAML option names its schema in its defaults list (`/objective_default_schema@_here_`), so a typo
or a wrong type fails while the config is composed; checks.py adds ranges, choices and the facts that
span groups. Nothing here imports torch: the CLI composes and checks before the (slow) import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from ganrun.config.schemas_video import (MovingMnistDatasetConfig, VideoFolderDatasetConfig,  # noqa: F401
                                         WeizmannDatasetConfig)
from ganrun.config.schemas_tricks import TricksConfig
from ganrun.health.schema import HealthConfig

CHECKPOINT_FORMAT = "ganrun-checkpoint-1"  # the marker every checkpoint ganrun writes holds (run/checkpoint.py)
CHECKPOINT_PATTERN = "step_*.pt"  # their names; a temporary file (".step_*.pt.tmp") never matches


@dataclass
class TrainerConfig:
    steps: int = 2000  # generator updates
    batch_size: int = 64
    device: str = "auto"  # auto = CUDA when present, else CPU
    log_every: int = 50  # scalars and the progress line
    sample_every: int = 500  # fixed-noise grid; 0 = only at the end
    checkpoint_every: int = 1000  # 0 = only at the end
    num_grid_samples: int = 64
    num_workers: int = 0  # DataLoader workers for datasets read from disk
    progress: str = "auto"  # auto | bar | lines | off
    keep_checkpoints: int = 3  # the newest K checkpoint files are kept; 0 = every one
    # null: continue from this run folder's newest good checkpoint when it has one (re-run the same command);
    # PATH: start from that checkpoint file (or the newest in that run folder) when this folder has none yet.
    resume: Optional[str] = None
    resume_force: bool = False  # continue even when a config key that matters differs from the checkpoint's
    on_nan: str = "stop"  # stop | skip: what a non-finite loss, gradient or weight does
    # The fast path (ganrun/fast_path.py, docs/benchmarks.md)
    precision: str = "fp32"  # fp32 | bf16 | fp16: autocast dtype of G's and D's passes (fp16 adds loss scaling)
    channels_last: bool = False  # NHWC weights for the convolutional nets
    compile: bool = False  # torch.compile G and D (a gradient penalty's pass through D stays eager)
    compile_backend: str = "inductor"  # aot_eager: trace without generating code (debugging)
    tf32: bool = True  # CUDA: TF32 tensor cores for fp32 matmuls and convolutions
    cudnn_benchmark: bool = True  # CUDA: cuDNN times its algorithms once per shape
    data_on_device: bool = True  # in-memory datasets copied to the device once, batched by index there
    reuse_fake: bool = False  # G's update reuses the D step's fakes (d_steps=1): not Algorithm 1's fresh z


@dataclass
class ImageDatasetConfig:
    _target_: str = "???"
    name: str = "???"
    root: Optional[str] = None
    resolution: int = 32
    channels: int = 3
    num_classes: Optional[int] = None
    download: bool = False
    train: bool = True
    fraction: float = 1.0  # a fixed random share of the training items (0.1: the data-efficient setting)


@dataclass
class TranslationDatasetConfig:
    """Two image domains (ganrun/data/translation.py): pix2pix's paired layouts, CycleGAN's unpaired one."""
    _target_: str = "???"
    name: str = "???"
    root: Optional[str] = None
    direction: str = "AtoB"  # AtoB | BtoA: which domain is the input
    load_size: int = 286  # resized to load_size x load_size, then randomly cropped to `resolution`
    resolution: int = 256
    channels_a: Optional[int] = None  # null: from the files (1 when every image is grey)
    channels_b: Optional[int] = None
    max_items: Optional[int] = None  # the first N images of each split and domain (quick runs, tests)
    train: bool = True


@dataclass
class SuperResolutionDatasetConfig:
    """High-resolution images, bicubic low-resolution inputs (ganrun/data/superres.py)."""
    _target_: str = "ganrun.data.superres.sr_folder"
    name: str = "???"
    root: Optional[str] = None
    test_roots: List[str] = field(default_factory=list)  # Set5, Set14 ...: evaluated one by one
    scale: int = 4
    resolution: int = 96  # high-resolution training patches
    channels: int = 3
    max_items: Optional[int] = None  # cifar10_sr: the first N images of each split
    train: bool = True


@dataclass
class DigitsDatasetConfig:
    _target_: str = "ganrun.data.digits"
    name: str = "digits"
    resolution: int = 8
    channels: int = 1
    num_classes: int = 10


@dataclass
class RingDatasetConfig:
    _target_: str = "ganrun.data.ring"
    name: str = "ring"
    num_modes: int = 8
    radius: float = 2.0
    std: float = 0.02
    num_samples: int = 100_000  # drawn once from `seed`; effectively unlimited data
    seed: int = 0


@dataclass
class GridDatasetConfig:
    _target_: str = "ganrun.data.grid"
    name: str = "grid"
    side: int = 5  # side x side modes at {-(side-1), ..., side-1} * spacing / 2
    spacing: float = 2.0
    std: float = 0.05
    num_samples: int = 100_000
    seed: int = 0


@dataclass
class ArchitectureConfig:
    name: str = "???"
    latent_dim: int = 100
    # Resolutions the generator can make; null = any. `points`: whether it models 2-D points.
    resolutions: Optional[List[int]] = None
    points: bool = False
    spectral_norm: bool = False  # spectral normalization on every layer of D
    # D's normalization layers (choices.NORMALIZATIONS) in the families that have any (dcgan); the
    # gradient-penalty objectives ask for a per-sample one (objective.normalization)
    normalization: Optional[str] = None
    outputs: str = "score"  # what D returns: score (logits, critic values) | energy (auto-encoder)
    generator: Any = None
    discriminator: Any = None


@dataclass
class ObjectiveConfig:
    """An adversarial objective: `_target_` builds the Objective (ganrun/objectives/objective.py) from
    its pure loss functions; the subclasses below add the knobs of the objectives that have more."""
    _target_: str = "ganrun.objectives.Objective"
    name: str = "???"
    d_steps: int = 1  # k: D updates per G update (Goodfellow et al. 2014, Algorithm 1)
    d_loss: Any = None
    g_loss: Any = None
    penalty: Any = None  # a term of D's loss from D and the batches (gradient penalties)
    g_penalty: Any = None  # a term of G's loss from D and the fakes (EBGAN's pull-away term)
    generator_sees_real: bool = False  # G's loss also takes D's scores of a real batch (relativistic losses)
    scores: str = "score"  # what the losses read from D (choices.D_OUTPUTS)
    normalization: str = "batch"  # D's normalization where the architecture has one; per-sample for penalties


@dataclass
class WeightClippingObjectiveConfig(ObjectiveConfig):
    _target_: str = "ganrun.objectives.WeightClipping"
    clip_weights: float = 0.01  # WGAN: clamp D's weights to [-c, c] after each D update


@dataclass
class EquilibriumConfig:
    gamma: float = 0.5  # diversity ratio E En(G(z)) / E En(x)
    lambda_k: float = 0.001  # proportional gain of k_t


@dataclass
class BEGANObjectiveConfig(ObjectiveConfig):
    _target_: str = "ganrun.objectives.BEGAN"
    equilibrium: EquilibriumConfig = field(default_factory=EquilibriumConfig)


@dataclass
class UnrolledObjectiveConfig(ObjectiveConfig):
    _target_: str = "ganrun.objectives.Unrolled"
    unroll_steps: int = 5  # K: G is judged by D after K differentiable D updates


@dataclass
class FGANObjectiveConfig(ObjectiveConfig):
    _target_: str = "ganrun.objectives.FGAN"
    divergence: str = "js"  # choices.FGAN_DIVERGENCES


@dataclass
class OptimizerConfig:
    name: str = "???"
    lr: float = 2e-4
    betas: Optional[List[float]] = None  # adam
    alpha: Optional[float] = None  # rmsprop
    momentum: Optional[float] = None  # sgd
    fused: Optional[bool] = None  # adam, sgd: null lets the trainer pick fused kernels where the device has them
    generator: Any = None
    discriminator: Any = None




@dataclass
class MetricsConfig:
    enabled: bool = True  # false: no metrics during training (conf/metrics/none.yaml)
    every: int = 500  # generator steps between evaluations (a curve on the default 2,000 steps); 0 = only at the end
    num_samples: int = 10_000  # generated images, and real images (at most the split's size)
    features: str = "auto"  # auto | inception | classifier; auto: classifier for digit datasets
    inception_weights: Optional[str] = None  # local torch-fidelity Inception file; null = download once
    lpips_weights: Optional[str] = None  # torchvision AlexNet weights file: LPIPS of paired translations; null = none
    split: str = "train"  # real images from the train or the test split
    batch_size: int = 100  # images per feature-network batch
    cache_dir: Optional[str] = None  # null: $GANRUN_CACHE_DIR, else $XDG_CACHE_HOME/ganrun (~/.cache/ganrun)
    kid_subsets: int = 100
    kid_subset_size: int = 1000  # lowered (with a warning) to the number of samples when larger
    nearest_k: int = 3  # precision / recall neighbourhood (Kynkaanniemi et al. 2019)
    num_points: int = 2500  # samples for the 2-D mode metrics
    fvd: bool = False  # video games: also FVD, which needs video_weights
    video_weights: Optional[str] = None  # a TorchScript I3D (i3d_torchscript.pt) for FVD
    seed: int = 0  # evaluation noise and real subset: every evaluation sees the same draws


@dataclass
class RegularizerConfig:
    name: str = "none"
    penalty: Any = None  # R1, R2 or both (objectives/regularizers.py), beside any objective's own penalty
    every: int = 1  # lazy regularisation (StyleGAN2): the penalty every k-th D step, times k; 1 = every step
    weight_l2: float = 0.0  # lambda of lambda sum ||w||^2 over D's weights; 0 = off


SCHEMAS = {
    "trainer": {"default": TrainerConfig},
    "dataset": {
        "image": ImageDatasetConfig,
        "digits": DigitsDatasetConfig,
        "moving_mnist": MovingMnistDatasetConfig,
        "video_folder": VideoFolderDatasetConfig,
        "weizmann": WeizmannDatasetConfig,
        "translation": TranslationDatasetConfig,
        "superres": SuperResolutionDatasetConfig,
        "ring": RingDatasetConfig,
        "grid": GridDatasetConfig,
    },
    "architecture": {"default": ArchitectureConfig},
    "objective": {
        "default": ObjectiveConfig,
        "weight_clipping": WeightClippingObjectiveConfig,
        "began": BEGANObjectiveConfig,
        "unrolled": UnrolledObjectiveConfig,
        "fgan": FGANObjectiveConfig,
    },
    "optimizer": {"default": OptimizerConfig},
    "metrics": {"default": MetricsConfig},
    "tricks": {"default": TricksConfig},
    "health": {"default": HealthConfig},  # ganrun/health/schema.py: the diagnosis' thresholds
    "regularizer": {"default": RegularizerConfig},
}


def register_schemas() -> None:
    from ganrun.config.job_names import register_resolver

    # ${mul:a,b}: a product in a YAML (pacgan_table1: batch 100 x pack, so D sees 100 packed items)
    OmegaConf.register_new_resolver("mul", lambda a, b: a * b, replace=True)
    # ${len:list}: how many (lucic2018: its trials are cells x trials per cell, cells = datasets x models)
    OmegaConf.register_new_resolver("len", lambda items: len(items), replace=True)
    register_resolver()  # ${ganrun.path_safe:...} in hydra.sweep.subdir
    store = ConfigStore.instance()
    for group, families in SCHEMAS.items():
        for family, node in families.items():
            # Stored outside any config group so they stay out of `--help`'s list of groups.
            store.store(name=f"{group}_{family}_schema", node=node)
