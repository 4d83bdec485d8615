"""Translation metrics: exact L1/PSNR/SSIM/cycle values and the names TranslationMetrics reports."""

from __future__ import annotations

import math

import torch
from torch.testing import assert_close

from ganrun.metrics.classifier import ClassifierFeatures, SmallCNN
from ganrun.metrics.translation import TranslationMetrics, cycle_error, paired_scores


def test_paired_scores_exact():
    outputs = torch.zeros(2, 3, 16, 16)  # quantized to 128 -> 128/255
    targets = torch.ones(2, 3, 16, 16)  # 255 -> 1
    scores = paired_scores(outputs, targets)
    assert math.isclose(scores["L1"], 127 / 255, rel_tol=1e-6)
    assert math.isclose(scores["PSNR"], 20 * math.log10(255 / 127), rel_tol=1e-5)
    same = paired_scores(targets * 0.3, targets * 0.3)
    assert math.isclose(same["SSIM"], 1.0, rel_tol=1e-6) and same["L1"] == 0.0
    # SSIM of constant images c1, c2: luminance term (2 m1 m2 + C1) / (m1^2 + m2^2 + C1), C1 = 0.01^2
    m1, m2, c1 = 128 / 255, 1.0, 1e-4
    assert math.isclose(scores["SSIM"], (2 * m1 * m2 + c1) / (m1 ** 2 + m2 ** 2 + c1), rel_tol=1e-4)


def test_cycle_error_exact():
    real = torch.full((1, 1, 2, 2), -1.0)  # 0
    assert math.isclose(cycle_error(real, torch.full((1, 1, 2, 2), 1.0)), 1.0)
    assert cycle_error(real, real) == 0.0


def test_translation_metrics_names_and_identity_translator():
    torch.manual_seed(0)
    net = ClassifierFeatures(SmallCNN(3, 2), "test", 1.0)
    a = torch.rand(12, 3, 16, 16) * 2 - 1
    metrics = TranslationMetrics(net, a, a.clone(), paired=True, device=torch.device("cpu"), batch_size=5,
                                 kid_subsets=2, kid_subset_size=6)
    identity = lambda x: x  # noqa: E731
    scores = metrics(identity, identity)
    assert set(scores) == {"A2B/FID_classifier", "A2B/KID_classifier", "A2B/L1", "A2B/PSNR", "A2B/SSIM",
                           "B2A/FID_classifier", "B2A/KID_classifier", "A2B2A/L1", "B2A2B/L1"}
    assert scores["A2B/L1"] == 0.0 and scores["A2B2A/L1"] == 0.0 and scores["B2A2B/L1"] == 0.0
    assert abs(scores["A2B/FID_classifier"]) < 1e-3  # outputs = the target domain's own images
    shifted = metrics(lambda x: -x)
    assert shifted["A2B/FID_classifier"] > 1e-2 and "B2A/FID_classifier" not in shifted
    assert_close(torch.tensor(shifted["A2B/L1"]), (metrics.translate(lambda x: -x, a) - a).div(2).abs().mean(),
                 atol=2 / 255, rtol=0)
