"""The diagnosis and the TensorBoard views in a real (tiny) training run, read back with TensorBoard's reader."""

from __future__ import annotations

import json

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

from ganrun import loop
from tests.conftest import tiny_config


def events_of(run_dir) -> EventAccumulator:
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0, "histograms": 0, "tensors": 0})
    events.Reload()
    return events


def test_a_run_logs_the_views_and_reports_a_forced_finding(tmp_path, capsys):
    # diversity_fraction=2: any sample diversity is below twice the real data's, so collapse is reported
    cfg = tiny_config("trainer.steps=3", "health.warmup=0", "health.diversity_fraction=2.0")
    loop.run(cfg, tmp_path)
    events = events_of(tmp_path)
    tags = events.Tags()
    assert {"samples/real", "samples/fixed"} <= set(tags["images"])
    assert events.Images("samples/real")[0].step == 0 and events.Images("samples/fixed")[0].width >= 256
    assert {"D/real_outputs", "D/fake_outputs"} <= set(tags["histograms"])
    assert {"lr/D", "lr/G", "health/diversity"} <= set(tags["scalars"])
    assert list(events.PluginTagToContent("custom_scalars")) == ["custom_scalars__config__"]
    assert hparams_metadata.EXPERIMENT_TAG in events.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
    assert "health/text_summary" in tags["tensors"]
    found = [json.loads(line) for line in (tmp_path / "health.jsonl").read_text().splitlines()]
    assert [(f["step"], f["kind"]) for f in found] == [(1, "mode_collapse")]  # once, though it lasts
    err = capsys.readouterr().err
    assert err.count("ganrun: warning: step 1: mode collapse: health/diversity = ") == 1


def test_health_enabled_false_logs_no_diagnosis(tmp_path):
    cfg = tiny_config("trainer.steps=2", "health.enabled=false", "health.warmup=0", "health.diversity_fraction=2.0")
    loop.run(cfg, tmp_path)
    assert not (tmp_path / "health.jsonl").exists()
    assert "health/diversity" not in events_of(tmp_path).Tags()["scalars"]


def test_a_two_d_run_draws_its_real_modes_and_covers_them(tmp_path):
    cfg = tiny_config("dataset=ring", "trainer.steps=2", architecture="mlp")
    loop.run(cfg, tmp_path)
    events = events_of(tmp_path)
    assert {"samples/real", "samples/scatter"} <= set(events.Tags()["images"])
    assert {"health/diversity", "health/mode_coverage"} <= set(events.Tags()["scalars"])
