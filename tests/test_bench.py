"""scripts/bench.py --smoke: the benchmark runs end to end (training rows and FID) and writes its report.

No timing is asserted here: the figures live in docs/benchmarks.md with the command that made them.
"""

from __future__ import annotations

import importlib
import re
import sys
from functools import partial

import pytest
import torch

from ganrun.metrics import classifier
from tests.conftest import REPO


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    for name in ("bench", "bench_train", "bench_fid", "plain_dcgan", "plain_lapgan"):
        sys.modules.pop(name, None)
    threads = torch.get_num_threads()
    yield importlib.import_module("bench")
    torch.set_num_threads(threads)  # --threads sets it for the process


def test_smoke_run_writes_the_training_and_fid_tables(bench, monkeypatch, tmp_path):
    # The FID rows need ganrun's digit classifier; 20 training steps instead of 600 (it is timed, not judged).
    monkeypatch.setattr(classifier, "train", partial(classifier.train, steps=20))
    out = tmp_path / "report.md"
    report = bench.main(["--smoke", "--threads", "1", "--out", str(out)])

    assert out.read_text() == report
    assert "- command: `python scripts/bench.py --smoke --threads 1 --out" in report
    found = re.findall(r"^\| `([\w-]+)` \| [^|]+ \| ([\d.]+) \| (\d+) \| ([\d.]+) \|", report, re.M)
    rows = {name: (float(ms), float(images), float(ratio)) for name, ms, images, ratio in found}
    assert set(rows) == {"plain", "ganrun", "ganrun-reuse"}
    assert rows["plain"][2] == 1.0  # the reference row
    for ms, images_per_second, ratio in rows.values():
        assert ms > 0 and ratio > 0
        assert images_per_second == pytest.approx(16 / (ms / 1e3), rel=0.01, abs=1)  # batch 16 in smoke runs
    assert re.search(r"^\| fused \| [\d.]+ \|$", report, re.M)  # the Adam step section
    assert "| ganrun (`build_evaluator` + `evaluate_samples`) |" in report
    assert "| torch-fidelity (`calculate_metrics`, fid+kid+isc+prc) |" in report
    assert re.search(r"^\| ganrun / torch-fidelity \| [\d.]+x \| \| [\d.]+x \| \|$", report, re.M)


def test_lapgan_row_runs_against_its_hand_written_loop(bench):
    report = bench.main(["--in-process", "--steps", "4", "--long", "1", "--log-every", "2", "--repeats", "1",
                         "--threads", "1", "--variants", "ganrun", "--no-optimizer", "--fid-samples", "0", *bench.SMOKE,
                         "game=lapgan", "dataset.resolution=16", "architecture.generator.hidden=16",
                         "architecture.discriminator.hidden=16"])
    assert "- model: lapgan game, lapgan (G width 8, D width 8) on digits 1x16x16, batch 16" in report
    found = dict(re.findall(r"^\| `([\w-]+)` \| [^|]+ \| [\d.]+ \| \d+ \| ([\d.]+) \|", report, re.M))
    assert set(found) == {"plain", "ganrun"} and float(found["plain"]) == 1.0 and float(found["ganrun"]) > 0
