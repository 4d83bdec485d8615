"""Shared fixtures: tiny CPU configs composed with Hydra's Compose API, as the CLI would compose them."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from omegaconf import DictConfig, open_dict

from ganrun.config.checks import validate
from ganrun.config.compose import compose_config as compose

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.exists(), reason=f"real datasets not found at {SHARED_DATA} (CI has them beside the repo)")

# The metric caches (classifiers, real features) of this test session, apart from the user's own
# (~/.cache/ganrun): set before any test or subprocess starts, removed at the end.
CACHE = os.environ["GANRUN_CACHE_DIR"] = tempfile.mkdtemp(prefix="ganrun-test-cache-")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(CACHE, ignore_errors=True)


# Small networks and few steps: enough to exercise every code path on a 2-core CPU in seconds.
TINY = [
    "trainer.steps=2", "trainer.batch_size=8", "trainer.log_every=1", "trainer.sample_every=1",
    "trainer.checkpoint_every=0", "trainer.num_grid_samples=4", "trainer.device=cpu", "trainer.progress=off",
    "metrics=none",
]
TINY_WIDTHS = {
    "mlp": ["architecture.generator.width=16", "architecture.discriminator.width=16"],
    "dcgan": ["architecture.generator.width=8", "architecture.discriminator.width=8"],
    "resnet": ["architecture.generator.width=8", "architecture.discriminator.width=8"],
    "vgan": ["architecture.generator.width=4", "architecture.discriminator.width=4", "architecture.latent_dim=8"],
    "mocogan": ["architecture.generator.width=4", "architecture.discriminator.image.width=4",
                "architecture.discriminator.video.width=4"],
    "sngan": ["architecture.generator.width=8", "architecture.discriminator.width=8"],
    "r3gan": ["architecture.generator.width=8", "architecture.discriminator.width=8",
              "architecture.generator.cardinality=4", "architecture.discriminator.cardinality=4",
              "architecture.generator.blocks_per_stage=1", "architecture.discriminator.blocks_per_stage=1"],
    "vae": ["architecture.generator.width=4", "architecture.discriminator.width=4", "architecture.latent_dim=8"],
    "cogan": ["architecture.generator.width=4", "architecture.discriminator.width=4", "architecture.latent_dim=8"],
    "lapgan": ["architecture.generator.hidden=16", "architecture.generator.width=4",
               "architecture.discriminator.hidden=16", "architecture.discriminator.width=4", "architecture.latent_dim=8"],
    "unit": ["architecture.generator.width=4", "architecture.discriminator.width=4", "architecture.latent_dim=4"],
    "progressive": ["architecture.generator.width=4", "architecture.discriminator.width=4",
                    "architecture.generator.max_channels=8", "architecture.discriminator.max_channels=8",
                    "architecture.latent_dim=8"],
    "autoencoder": ["architecture.generator.width=8", "architecture.discriminator.width=8",
                    "architecture.discriminator.code=8", "architecture.latent_dim=8"],
    "unet_patchgan": ["architecture.generator.width=4", "architecture.discriminator.width=4",
                      "architecture.discriminator.n_layers=2"],
    "resnet_patchgan": ["architecture.generator.width=4", "architecture.generator.n_blocks=1",
                        "architecture.discriminator.width=4", "architecture.discriminator.n_layers=2"],
    "srresnet": ["architecture.generator.width=4", "architecture.generator.n_blocks=1",
                 "architecture.discriminator.width=4", "architecture.discriminator.n_blocks=2",
                 "architecture.discriminator.hidden=8"],
    "refiner": ["architecture.generator.width=4", "architecture.generator.n_blocks=1",
                "architecture.discriminator.width=4"],
}


def compose_config(overrides: list[str]) -> DictConfig:
    cfg = compose(overrides)
    validate(cfg)
    return cfg


def tiny_config(*overrides: str, architecture: str = "dcgan") -> DictConfig:
    cfg = compose_config([f"architecture={architecture}", *TINY, *TINY_WIDTHS.get(architecture, []), *overrides])
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg
