"""The Stacked MNIST study (VEEGAN, Srivastava et al. 2017, and PacGAN, Lin et al. 2018, Table 2): one
Hydra job per method (DCGAN = `tricks.pack=1`, PacDCGAN2 = 2) trains each seed of `study.seeds` with
the CLI's loop (`mode_study.scored_runs`); at each step of `study.score_steps` and the last it draws `study.num_samples` samples (the papers: 26,000), labels every channel with ganrun's MNIST
classifier (the one `metrics.features=auto` trains and caches) and counts the modes covered out of
1,000 and KL(p_model || uniform), as PacGAN's code does (`fjxmlzn/PacGAN`,
`stacked_MNIST_experiments/VEEGAN_experiment/model.py`, `log_metrics`).

Job folder: `samples_seed<S>_step<N>.npz` (`labels` (N,) = 100 d_R + 10 d_G + d_B, `num_classes`; at
the last step also the `images`, uint8, which the classifier labels again to the same labels) and
`study.json` as mode_study's, plus the classifier's accuracy on real digits and real triples.
At the end of the multirun, `StackedTable` writes table.md into the sweep folder.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn

from ganrun.metrics.features import quantize
from ganrun.metrics.modes import label_metrics
from ganrun.run.mode_study import StudyTable, rescored_with, scored_runs, write_record, write_table

SAMPLE_SEED = 1234  # the latents of the scored samples: the same for every seed, step and method
TRIPLES = 10_000  # real stacked test triples the classifier's joint accuracy is measured on
METRICS = (("modes", "modes (of 1000)", 1), ("reverse_kl", "KL", 2))


def run_job(cfg: DictConfig, run_dir: Path) -> None:
    """Train and score every seed of the study for this job's method."""
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    net = stacked_classifier(cfg)
    accuracy = {"digits": float(net.test_accuracy), "triples": triple_accuracy(net, cfg)}
    print(f"[ganrun study] classifier: {100 * accuracy['digits']:.2f} % of test digits, "
          f"{100 * accuracy['triples']:.2f} % of test triples", flush=True)

    def score(game: Any, seed: int, step: int) -> dict:
        images = samples(game.generator, game.latent_dim, cfg.tricks.latent, int(cfg.study.num_samples))
        result = save_scores(run_dir, seed, step, images, net, keep_images=step == cfg.trainer.steps)
        print(f"[ganrun study] seed {seed} step {step}: {result['modes']:.0f} modes, KL {result['reverse_kl']:.3f}",
              flush=True)
        return result

    scores = scored_runs(cfg, score)  # each seed one run of `ganrun train`'s loop, scored as it passes each step
    write_record(cfg, run_dir, scores, time.perf_counter() - started, METRICS, batched=False, classifier=accuracy)


def stacked_classifier(cfg: DictConfig) -> nn.Module:
    """ganrun's classifier of the dataset's source digits, applied channel by channel (its logits: the
    joint log-probabilities of the 1,000 triples), as `ganrun train`'s metrics get it."""
    from ganrun.experiment import make
    from ganrun.metrics.evaluator import build_evaluator

    metrics_cfg = OmegaConf.merge(cfg.metrics, {"features": "classifier"})
    return build_evaluator(metrics_cfg, cfg.dataset, make=make).net


@torch.no_grad()
def classify(net: nn.Module, images: Tensor, batch_size: int = 1000) -> Tensor:
    """uint8 images (N, 3, R, R) -> their triples (N,): 100 d_0 + 10 d_1 + d_2, each digit the
    classifier's on its channel (the argmax of the summed per-channel log-probabilities)."""
    return torch.cat([net(batch)[1].argmax(dim=1) for batch in images.split(batch_size)])


def triple_accuracy(net: nn.Module, cfg: DictConfig) -> float:
    """The share of real stacked test triples whose three digits the classifier gets all right."""
    from ganrun.experiment import make
    from ganrun.metrics.classifier import as_uint8

    images, labels = as_uint8(make(cfg.dataset, train=False, num_samples=TRIPLES, seed=0))
    return float((classify(net, images) == labels).double().mean())


@torch.no_grad()
def samples(generator: nn.Module, latent_dim: int, prior: str, num: int, batch_size: int = 1000) -> Tensor:
    """`num` samples of G in eval mode from fixed latents (SAMPLE_SEED), as uint8 images (N, C, R, R)."""
    from ganrun.games.gan import generate
    from ganrun.sampling import LATENT_PRIORS

    z = LATENT_PRIORS[prior](num, latent_dim, generator=torch.Generator().manual_seed(SAMPLE_SEED))
    return torch.cat([quantize(generate(generator, batch)) for batch in z.split(batch_size)])


def save_scores(run_dir: Path, seed: int, step: int, images: Tensor, net: nn.Module,
                keep_images: bool) -> dict[str, float]:
    labels = classify(net, images)
    saved = {"labels": labels.numpy().astype(np.int16), "num_classes": np.int64(1000)}
    if keep_images:
        saved["images"] = images.numpy()
    np.savez_compressed(run_dir / f"samples_seed{seed}_step{step}.npz", **saved)
    return {"seed": seed, "step": step, **label_metrics(labels, 1000)}


def rescored(job: Path) -> dict:
    """A stopped job's record recomputed from the labels it saved."""
    return rescored_with(job, lambda saved: label_metrics(torch.from_numpy(saved["labels"]), int(saved["num_classes"])))


def classifier_note(records: list[dict]) -> str:
    """The classifier's test accuracy, as the jobs measured it (one classifier for the whole study)."""
    measured = sorted({(r["classifier"]["digits"], r["classifier"]["triples"]) for r in records if "classifier" in r})
    if not measured:
        return "Classifier accuracy: – (no finished job recorded it)."
    return "ganrun's MNIST classifier, channel by channel: " + "; ".join(
        f"{100 * digits:.2f} % of MNIST test digits, {100 * triples:.2f} % of {TRIPLES:,} stacked test triples "
        "(all three digits right)" for digits, triples in measured) + "."


class StackedTable(StudyTable):
    """Hydra callback of `experiment=stacked_mnist_table2`: table.md with modes and KL, the classifier's accuracy."""

    def write(self, sweep_dir: Path, paper: dict | None, title: str) -> Path:
        return write_table(sweep_dir, paper, title, metrics=METRICS, rescore=rescored, notes=classifier_note)

