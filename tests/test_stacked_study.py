"""The Stacked MNIST study (ganrun/run/stacked_study.py, experiment=stacked_mnist_table2): the preset's
values, modes and KL on hand-made labels, the saved .npz against an independent recomputation, and
the table on a fake sweep folder. In-process and without MNIST: a toy classifier, a tiny generator."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

import ganrun
from ganrun.metrics.classifier import ClassifierFeatures
from ganrun.metrics.modes import label_metrics
from ganrun.models.dcgan import Generator
from ganrun.run.mode_study import STUDY_FILE
from ganrun.run.stacked_study import StackedTable, classify, rescored, samples, save_scores
from tests.conftest import compose_config


def test_the_preset_composes_with_the_papers_values():
    for pack, method, batch in ((1, "PacDCGAN1", 64), (2, "PacDCGAN2", 128)):
        cfg = compose_config(["experiment=stacked_mnist_table2", f"tricks.pack={pack}"])
        assert (cfg.study.method, cfg.trainer.batch_size, cfg.tricks.pack) == (method, batch, pack)
        assert (cfg.dataset.name, cfg.dataset.channels, cfg.architecture.name, cfg.objective.name) == \
               ("stacked_mnist", 3, "dcgan", "ns")
        assert (cfg.optimizer.lr, list(cfg.optimizer.betas), cfg.architecture.latent_dim, cfg.tricks.latent) == \
               (2e-4, [0.5, 0.999], 100, "uniform")
        assert (cfg.study.num_samples, cfg.metrics.enabled, cfg.study.job._target_, cfg.sweep.metric) == \
               (26000, False, "ganrun.run.stacked_study.run_job", "metrics/modes")
    assert (cfg.trainer.steps, list(cfg.study.seeds), list(cfg.study.score_steps)) == (2000, [0, 1, 2], [500, 1000])
    assert (cfg.dataset.resolution, cfg.architecture.generator.width, cfg.architecture.discriminator.width) == \
           (16, 16, 16)
    hydra = OmegaConf.load(Path(ganrun.__file__).parent / "conf" / "experiment" / "stacked_mnist_table2.yaml").hydra
    assert (hydra.mode, hydra.sweeper.params["tricks.pack"]) == ("MULTIRUN", "1,2")
    assert hydra.callbacks.study_table._target_ == "ganrun.run.stacked_study.StackedTable"
    paper = compose_config(["experiment=stacked_mnist_table2", "study.budget=paper"])
    assert (paper.trainer.steps, len(paper.study.seeds), paper.dataset.resolution,
            paper.architecture.generator.width) == (100_000, 10, 32, 64)


def test_modes_and_kl_of_hand_made_labels():
    labels = torch.tensor([0, 0, 0, 5, 5, 999])  # p = 1/2, 1/3, 1/6 on three of 1,000 triples
    expected_kl = 0.5 * math.log(500) + (1 / 3) * math.log(1000 / 3) + (1 / 6) * math.log(1000 / 6)
    result = label_metrics(labels, 1000)
    assert result["modes"] == 3.0
    torch.testing.assert_close(torch.tensor(result["reverse_kl"], dtype=torch.float64),
                               torch.tensor(expected_kl, dtype=torch.float64), rtol=1e-12, atol=1e-12)
    assert label_metrics(torch.arange(1000).repeat(26), 1000) == {"modes": 1000.0, "reverse_kl": 0.0}
    assert label_metrics(torch.full((7,), 42), 1000) == {"modes": 1.0, "reverse_kl": pytest.approx(math.log(1000))}
    with pytest.raises(ValueError, match="past num_classes"):
        label_metrics(torch.tensor([1000]), 1000)


class LastDigit(nn.Module):
    """A toy digit classifier: a channel's digit is the last decimal digit of its top-left pixel's uint8 level."""

    def forward(self, x):  # x (N, 1, R, R) in [-1, 1], from uint8 levels
        digit = ((x[:, 0, 0, 0] + 1) * 127.5).round().long() % 10  # (N,)
        return x.flatten(1), nn.functional.one_hot(digit, 10).float() * 10


def toy_classifier() -> ClassifierFeatures:
    return ClassifierFeatures(LastDigit(), "toy", 0.5, per_channel=True)


def test_each_channel_is_one_digit_of_the_triple():
    levels = torch.tensor([[3, 0, 9], [247, 117, 31]], dtype=torch.uint8)  # channel 0 the hundreds
    images = levels[:, :, None, None].expand(2, 3, 4, 4)
    assert classify(toy_classifier(), images, batch_size=1).tolist() == [309, 771]


def independent(path) -> dict[str, float]:
    """Modes and KL(p || uniform over 1,000) in numpy, from the saved file alone."""
    labels = np.load(path)["labels"].astype(np.int64)
    p = np.bincount(labels, minlength=1000) / len(labels)
    p = p[p > 0]
    return {"modes": float(len(np.unique(labels))), "reverse_kl": float((p * np.log(1000 * p)).sum())}


def approx(scores: dict[str, float]) -> dict:
    return {key: pytest.approx(value, rel=1e-12, abs=1e-12) for key, value in scores.items()}


def test_the_saved_npz_gives_the_same_modes_and_kl(tmp_path):
    torch.manual_seed(0)
    generator = Generator(100, (3, 8, 8), width=4)
    images = samples(generator, 100, "uniform", 300, batch_size=128)
    assert images.dtype == torch.uint8 and images.shape == (300, 3, 8, 8)
    assert torch.equal(images, samples(generator, 100, "uniform", 300, batch_size=128))  # fixed latents, eval mode
    net = toy_classifier()
    score = save_scores(tmp_path, 3, 40, images, net, keep_images=True)
    path = tmp_path / "samples_seed3_step40.npz"
    assert score == {"seed": 3, "step": 40, **approx(independent(path))} and score["modes"] > 10
    saved = np.load(path)
    assert torch.equal(classify(net, torch.from_numpy(saved["images"])), torch.from_numpy(saved["labels"]).long())
    save_scores(tmp_path, 3, 20, images, net, keep_images=False)  # a step before the last: labels only
    assert sorted(np.load(tmp_path / "samples_seed3_step20.npz").files) == ["labels", "num_classes"]
    (tmp_path / ".hydra").mkdir()
    (tmp_path / ".hydra" / "config.yaml").write_text("study: {method: PacDCGAN2}\ndataset: {name: stacked_mnist}\n")
    record = rescored(tmp_path)  # a stopped job: its record from the saved labels
    assert record["method"] == "PacDCGAN2" and math.isnan(record["seconds"])
    assert record["scores"] == [{"seed": 3, "step": 20, **approx(independent(tmp_path / "samples_seed3_step20.npz"))},
                                {"seed": 3, "step": 40, **approx(independent(path))}]


def fake_job(folder, method, rows, seconds, classifier=(0.9877, 0.9581)):
    folder.mkdir(parents=True)
    record = {"method": method, "dataset": "stacked_mnist", "batched": False,
              "classifier": {"digits": classifier[0], "triples": classifier[1]}, "seconds": seconds,
              "scores": [{"seed": seed, "step": step, "modes": m, "reverse_kl": kl} for seed, step, m, kl in rows]}
    (folder / STUDY_FILE).write_text(json.dumps(record))


def test_the_table_of_a_fake_sweep_folder(tmp_path):
    fake_job(tmp_path / "0_PacDCGAN1", "PacDCGAN1", [(0, 500, 80, 6.0), (1, 500, 100, 5.0), (2, 500, 120, 4.0),
                                                     (0, 1000, 300, 4.5), (1, 1000, 360, 4.1), (2, 1000, 420, 3.7)], 61.4)
    fake_job(tmp_path / "1_PacDCGAN2", "PacDCGAN2", [(0, 1000, 500, 2.25)], 130.0)
    stopped = tmp_path / "2_PacDCGAN3"  # no study.json: rescored from its labels
    (stopped / ".hydra").mkdir(parents=True)
    (stopped / ".hydra" / "config.yaml").write_text("study: {method: PacDCGAN3}\ndataset: {name: stacked_mnist}\n")
    np.savez(stopped / "samples_seed0_step10.npz", labels=np.array([1, 1, 2, 3], dtype=np.int16),
             num_classes=np.int64(1000))
    path = StackedTable().write(tmp_path, {"stacked_mnist": {"PacDCGAN1": None, "PacDCGAN2": [99.0, 0.5]}}, "T")
    kl = 0.5 * math.log(500) + 0.5 * math.log(250)  # p = 1/2, 1/4, 1/4
    assert path.read_text() == (
        "# T\n\n"
        "ganrun's MNIST classifier, channel by channel: 98.77 % of MNIST test digits, 95.81 % of 10,000 "
        "stacked test triples (all three digits right).\n\n"
        "| dataset | method | steps | seeds | modes (of 1000) | KL | paper: modes (of 1000) | paper: KL | wall s |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        "| stacked_mnist | PacDCGAN1 | 500 | 3 | 100.0 ± 11.5 | 5.00 ± 0.58 | – | – | 61 |\n"
        "| stacked_mnist | PacDCGAN1 | 1000 | 3 | 360.0 ± 34.6 | 4.10 ± 0.23 | – | – | 61 |\n"
        "| stacked_mnist | PacDCGAN2 | 1000 | 1 | 500.0 ± 0.0 | 2.25 ± 0.00 | 99.0 | 0.5 | 130 |\n"
        f"| stacked_mnist | PacDCGAN3 | 10 | 1 | 3.0 ± 0.0 | {kl:.2f} ± 0.00 | – | – | – |\n")
