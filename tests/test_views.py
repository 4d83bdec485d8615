"""TensorBoard views (ganrun/views.py, the writer), sweep run names, one-line warnings and `ganrun report`,
read back with TensorBoard's own reader and Python's HTML parser."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hparams_metadata

from ganrun import errors
from ganrun.commands.report import ReportError, write_report
from ganrun.commands.train import name_runs_by_varying_keys
from ganrun.games.base import Histogram, Visual
from ganrun.run import views
from ganrun.run.sweeps import fixed_keys
from ganrun.run.writer import RunWriter


def test_upscale_repeats_each_pixel_by_the_smallest_factor_reaching_256():
    image = torch.arange(6.0).reshape(1, 2, 3)
    big = views.upscale(image)  # 256 / 3 -> factor 86
    assert big.shape == (1, 172, 258)
    torch.testing.assert_close(big[0, 85, 85:87], torch.tensor([0.0, 1.0]))  # a sharp edge, no blending
    torch.testing.assert_close(big[0, 86, 0], torch.tensor(3.0))
    assert views.upscale(torch.zeros(3, 300, 300)).shape == (3, 300, 300)


def test_a_digits_grid_is_at_least_256_pixels_wide():
    grid = views.image_grid(torch.zeros(64, 1, 8, 8))  # make_grid: 8 x 8 + 9 x 2 padding = 82 px
    assert grid.shape == (3, 328, 328)  # x 4


def test_the_scatter_extent_depends_on_the_real_data_only():
    assert views.scatter_extent(torch.tensor([[2.04, 0.0], [0.0, -1.0]])) == 3.0  # 1.25 x 2.04 = 2.55 -> 3.0
    assert views.scatter_extent(torch.tensor([[4.1, 4.0]])) == 5.5  # 5.125 -> 5.5


def test_the_scatter_plot_draws_modes_on_top_samples_and_axes():
    modes = torch.tensor([[0.0, 0.0]])
    image = views.scatter_image(torch.tensor([[0.0, 0.0]] * 10), modes, 3.0, modes)
    assert image.shape == (3, views.SCATTER_PIXELS, views.SCATTER_PIXELS)
    inner = views.SCATTER_PIXELS - views.MARGIN - views.MARGIN // 2
    cx, cy = views.MARGIN + inner / 2, views.MARGIN // 2 + inner / 2
    pixel = (image[:, round(cy), round(cx + 9)] * 255).round()  # on the mode's ring, right of the centre
    torch.testing.assert_close(pixel, torch.tensor(views.MODE_COLOUR, dtype=torch.float32))
    centre = (image[:, round(cy), round(cx)] * 255).round()  # the sample's dot inside the ring
    torch.testing.assert_close(centre, torch.tensor(views.FAKE_COLOUR, dtype=torch.float32))
    frame = image[:, views.MARGIN // 2, views.MARGIN + 200]  # the top edge of the frame is black
    torch.testing.assert_close(frame, torch.zeros(3))


def test_the_writer_logs_the_new_views_that_tensorboards_reader_finds(tmp_path):
    writer = RunWriter(tmp_path, hparams={"objective.name": "ns", "optimizer.lr": 2e-4, "seed": 1}, varying={"seed"})
    writer.start({"samples/real": Visual(torch.rand(16, 1, 8, 8) * 2 - 1, nrow=4)})
    writer.scalars(1, {"loss/D": 1.3, "loss/G": 0.7, "D/real": 0.1, "grad_norm/D": 0.5, "lr/D": 2e-4})
    writer.visuals(1, {"samples/fixed": Visual(torch.zeros(16, 1, 8, 8), nrow=4),
                       "D/real_outputs": Histogram(torch.randn(8)), "D/fake_outputs": Histogram(torch.randn(8))})
    writer.text("health", "step 1: D is winning", 1)
    writer.scalars(1, {"metrics/FID_classifier": 12.0, "metrics/IS_classifier": 2.0, "metrics/modes": 9.0})
    writer.close()
    events = EventAccumulator(str(tmp_path), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    tags = events.Tags()
    assert {"samples/real", "samples/fixed"} <= set(tags["images"])
    assert events.Images("samples/real")[0].width == 294  # 4 x 8 + 5 x 2 padding = 42 px, x 7 (>= 256)
    assert {"D/real_outputs", "D/fake_outputs"} <= set(tags["histograms"])
    assert "lr/D" in tags["scalars"]
    plugins = events.PluginTagToContent("custom_scalars")
    assert list(plugins) == ["custom_scalars__config__"]
    experiment = hparams_metadata.parse_experiment_plugin_data(
        events.PluginTagToContent(hparams_metadata.PLUGIN_NAME)[hparams_metadata.EXPERIMENT_TAG])
    assert [m.name.tag for m in experiment.metric_infos] == [  # the first 5 are shown by default
        "metrics/FID_classifier", "metrics/modes", "loss/G", "loss/D", "metrics/IS_classifier"]
    assert [(h.name, h.differs) for h in experiment.hparam_infos] == [  # what a sweep varies first
        ("seed", True), ("objective.name", False), ("optimizer.lr", False)]
    assert "health/tensorboard_text" in tags["tensors"] or "health/text_summary" in tags["tensors"]


def test_sweep_runs_are_named_by_the_keys_that_vary():
    overrides = ["architecture=mlp", "dataset=ring", "objective=ns,hinge", "seed=range(2)", "metrics.every=0"]
    assert fixed_keys(overrides) == ["architecture", "dataset", "metrics.every"]
    args = name_runs_by_varying_keys([*overrides, "-m"], ["dataset.root", "trainer.device"])
    assert args[-1] == ("hydra.job.config.override_dirname.exclude_keys="
                        "['dataset.root','trainer.device','architecture','dataset','metrics.every']")
    assert name_runs_by_varying_keys(overrides, ["x"]) == overrides  # a single run: untouched


def test_warnings_print_as_one_line(capsys):
    own = errors.format_warning(UserWarning("FID is biased\nbelow 2048"), UserWarning,
                                str(Path(errors.__file__).parent / "metrics" / "evaluator.py"), 117)
    assert own == "ganrun: warning: FID is biased below 2048"
    other = errors.format_warning(DeprecationWarning("old"), DeprecationWarning, "/x/site-packages/y.py", 3)
    assert other == "ganrun: warning: old (DeprecationWarning from y.py:3)"
    previous = warnings.showwarning
    try:
        errors.one_line_warnings()
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = errors.show_warning  # catch_warnings restores the hook it found
            warnings.warn("something odd")
    finally:
        warnings.showwarning = previous
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ganrun: warning: something odd (UserWarning from ")


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.sources, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.sources += [value for name, value in attrs if name in ("src", "href")]

    def handle_data(self, data):
        self.text.append(data)


def test_the_report_is_one_self_contained_page(tmp_path):
    run = tmp_path / "run"
    writer = RunWriter(run, hparams={"seed": 0})
    real = torch.rand(4, 2)
    writer.start({"samples/real": Visual(real[:0], reference=real)})
    for step in (1, 2, 3):
        writer.scalars(step, {"loss/D": 1.0 / step, "loss/G": float(step), "D/real": 0.5, "D/fake": -0.5})
    writer.visuals(3, {"samples/scatter": Visual(torch.zeros(4, 2), reference=real)})
    writer.scalars(3, {"metrics/modes": 7.0})
    writer.close()
    (run / "config.yaml").write_text("seed: 0\nhealth:\n  enabled: true\n")
    (run / "health.jsonl").write_text('{"step": 3, "kind": "d_winning", "title": "D is winning", '
                                      '"evidence": "a gap", "remedy": "label smoothing"}\n')
    out = write_report(run)
    page = Page()
    page.feed(out.read_text())
    text = " ".join(page.text)
    assert page.tags.count("svg") == 3 and page.tags.count("img") == 2  # D, losses, metrics/modes; real and latest plots
    assert all(source.startswith("data:image/png;base64,") for source in page.sources)  # nothing external
    assert "D is winning" in text and "label smoothing" in text and "seed: 0" in text and "modes" in text
    sweep = write_report(tmp_path, tmp_path / "sweep.html")
    assert "<h2>Runs</h2>" in sweep.read_text()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReportError, match="empty holds no run"):
        write_report(tmp_path / "empty")
    with pytest.raises(ReportError, match="nothing is not a folder"):
        write_report(tmp_path / "nothing")


def test_ganrun_report_on_a_folder_without_a_run_is_one_line_and_exit_2(tmp_path, capsys):
    from ganrun import cli

    with pytest.raises(SystemExit) as stopped:
        cli.main(["report", str(tmp_path)])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().startswith(f"ganrun: error: {tmp_path} holds no run")
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no headless browser here (Debian: apt-get install chromium)")
def test_the_report_renders_in_headless_chromium(tmp_path):
    run = tmp_path / "run"
    writer = RunWriter(run, hparams={"seed": 0})
    writer.start({"samples/real": Visual(torch.rand(4, 1, 8, 8) * 2 - 1, nrow=2)})
    for step in (1, 2):
        writer.scalars(step, {"loss/D": 1.0, "loss/G": float(step)})
    writer.close()
    page = write_report(run)
    browser = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()]
    dom = subprocess.run(browser, capture_output=True, text=True, timeout=120).stdout  # the DOM the browser built
    assert dom.count("<svg") == 1 and dom.count('src="data:image/png;base64,') == 1 and "loss/D vs loss/G" in dom
