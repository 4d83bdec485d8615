"""FID throughput for scripts/bench.py: ganrun's evaluator against torch-fidelity on the same images
and the same feature network, with the real side computed, then read from each tool's cache.

Both compute the same five numbers (FID, KID, IS, precision, recall) from one pass of the feature
network per image. The generated images are `samples` draws of the config's untrained G, quantized
once; ganrun reads its real images from the dataset itself, torch-fidelity gets the same subset
decoded to uint8 beforehand (untimed). ganrun's time includes `build_evaluator` (loading the
network), as torch-fidelity's includes loading it inside `calculate_metrics`.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import torch
import torch_fidelity
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import Dataset

from ganrun.config.schemas import MetricsConfig
from ganrun.metrics import build_evaluator, quantize
from ganrun.metrics.features import real_images
from ganrun.metrics.inception import resolve_weights

FIDELITY_NAME = "ganrun-features"  # ganrun's classifier, registered as a torch-fidelity feature extractor


class Images(Dataset):
    """uint8 (C, H, W) images from one tensor: torch-fidelity's input format."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]


class GanrunFeatures(torch_fidelity.FeatureExtractorBase):
    """ganrun's feature network (`net`, set before use) seen by torch-fidelity: the same features."""

    net: torch.nn.Module | None = None

    def __init__(self, name: str, features_list: list[str], **kwargs) -> None:
        super().__init__(name, features_list)
        self.inner = GanrunFeatures.net

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("features", "logits")

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return "logits" if metric == "isc" else "features"

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> None:
        return None

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        features, logits = self.inner(images)
        named = {"features": features, "logits": logits}
        return tuple(named[name] for name in self.features_list)


def _generated(cfg: DictConfig, count: int, device: torch.device) -> torch.Tensor:
    """`count` samples in [-1, 1] from the config's generator at its initialization, on the CPU."""
    dataset_shape = (cfg.dataset.channels, cfg.dataset.resolution, cfg.dataset.resolution)
    torch.manual_seed(cfg.seed)
    generator = instantiate(cfg.architecture.generator, data_shape=dataset_shape).to(device).eval()
    with torch.no_grad():
        latents = torch.randn(count, cfg.architecture.latent_dim)
        return torch.cat([generator(z.to(device)).cpu() for z in latents.split(500)])


def _timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def fid_rows(cfg: DictConfig, *, samples: int, features: str, weights: str | None,
             device: torch.device) -> list[dict]:
    """Seconds for a first evaluation (real side computed and cached) and a second one (real side read
    back from the cache), for ganrun and for torch-fidelity, on the same `samples` generated images."""
    fake = _generated(cfg, samples, device)
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # below-2048-samples and KID-subset notices at smoke sizes
        cache = Path(folder)
        kid_subset = min(1000, samples)
        metrics_cfg = OmegaConf.structured(MetricsConfig(
            num_samples=samples, features=features, inception_weights=weights, cache_dir=str(cache / "ganrun"),
            kid_subset_size=kid_subset))
        net = build_evaluator(metrics_cfg, cfg.dataset, device).net  # untimed: trains a classifier once

        def ganrun() -> None:
            build_evaluator(metrics_cfg, cfg.dataset, device).evaluate_samples(fake)

        ganrun_full, ganrun_cached = _timed(ganrun), _timed(ganrun)

        batches, count = real_images(instantiate(cfg.dataset), samples, metrics_cfg.batch_size, metrics_cfg.seed)
        real = torch.cat([quantize(x) for x in batches])
        fake_uint8 = quantize(fake)
        if features == "inception":  # torch-fidelity's Inception takes RGB; ganrun repeats grey channels itself
            real, fake_uint8 = (x.expand(-1, 3, -1, -1).contiguous() for x in (real, fake_uint8))
            extractor = {"feature_extractor": "inception-v3-compat",
                         "feature_extractor_weights_path": str(resolve_weights(weights))}
        else:
            GanrunFeatures.net = net.to(device)
            if FIDELITY_NAME not in torch_fidelity.registry.FEATURE_EXTRACTORS_REGISTRY:
                torch_fidelity.register_feature_extractor(FIDELITY_NAME, GanrunFeatures)
            extractor = {"feature_extractor": FIDELITY_NAME}

        def fidelity() -> None:
            torch_fidelity.calculate_metrics(
                input1=Images(fake_uint8), input2=Images(real), fid=True, kid=True, isc=True, prc=True,
                kid_subset_size=kid_subset, cuda=device.type == "cuda", batch_size=metrics_cfg.batch_size,
                cache=True, cache_root=str(cache / "fidelity"), input2_cache_name="bench_real", verbose=False,
                **extractor)

        fidelity_full, fidelity_cached = _timed(fidelity), _timed(fidelity)
    return [
        {"tool": "ganrun (`build_evaluator` + `evaluate_samples`)", "full": ganrun_full, "cached": ganrun_cached,
         "samples": samples, "real": count},
        {"tool": "torch-fidelity (`calculate_metrics`, fid+kid+isc+prc)", "full": fidelity_full,
         "cached": fidelity_cached, "samples": samples, "real": count},
    ]


def fid_table(rows: list[dict], features: str, weights_note: str) -> str:
    ganrun, fidelity = rows
    lines = [f"FID, KID, IS, precision and recall of {rows[0]['samples']:,} generated images against "
             f"{rows[0]['real']:,} real ones; feature network: {features} ({weights_note}).", "",
             "| tool | first evaluation (s) | generated img/s | with cached real features (s) | cached / first |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for row in rows:
        rate = row["samples"] / row["full"]
        rate_text = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"
        lines.append(f"| {row['tool']} | {row['full']:.2f} | {rate_text} | "
                     f"{row['cached']:.2f} | {row['cached'] / row['full']:.2f} |")
    lines.append(f"| ganrun / torch-fidelity | {ganrun['full'] / fidelity['full']:.2f}x | | "
                 f"{ganrun['cached'] / fidelity['cached']:.2f}x | |")
    return "\n".join(lines)
