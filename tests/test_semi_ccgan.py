"""game=semi and game=ccgan: CC-GAN's in-painting (the composition, the masks, CC-GAN2's low-resolution
input) and the game's losses on hand-made values; two steps through the real loop writing the
masked | filled | real grid; same seed twice -> the same weights; stopped and resumed -> bitwise the
uninterrupted run; `ganrun eval` reporting D's test accuracy; the Turing report from recorded answers."""

import json
import math

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn
from torch.testing import assert_close

from ganrun import loop
from ganrun.errors import UsageError
from ganrun.games.ccgan import ContextConditional, context, fill, low_resolution, square_masks
from ganrun.run import checkpoint
from tests.conftest import tiny_config
from tests.tiny_runs import one_thread  # noqa: F401  (module-wide: one thread, bitwise comparisons)

RUNS = {  # name -> overrides (dataset=digits, 8x8, as every tiny run)
    "semi": ["game=semi"],
    "supervised": ["game=semi", "game.adversarial=false"],
    "ccgan": ["game=ccgan", "game.inpainter.width=4"],
}


def config(run: str, *overrides: str):
    return tiny_config(*RUNS[run], "game.labels.fraction=0.05", "trainer.checkpoint_every=1", *overrides)


def test_the_composition_keeps_every_context_pixel_and_only_fills_the_hole():
    torch.manual_seed(0)
    x, output = torch.randn(5, 3, 8, 8), torch.randn(5, 3, 8, 8)
    mask = square_masks(5, 8, 4, torch.device("cpu"))
    assert mask.shape == (5, 1, 8, 8) and torch.equal(mask.sum((1, 2, 3)), torch.full((5,), 16.0))
    for m in mask[:, 0]:  # one 4x4 square of ones: its rows and columns are contiguous runs of 4
        rows, cols = m.any(1).nonzero().flatten(), m.any(0).nonzero().flatten()
        assert torch.equal(rows, torch.arange(rows[0], rows[0] + 4)) and torch.equal(cols, torch.arange(cols[0], cols[0] + 4))
    filled = fill(x, mask, output)
    hole = mask.expand_as(x).bool()
    assert torch.equal(filled[~hole], x[~hole]) and torch.equal(filled[hole], output[hole])
    assert torch.equal(context(x, mask)[hole], torch.zeros(5 * 3 * 16)) and torch.equal(context(x, mask)[~hole], x[~hole])
    one = torch.zeros(1, 1, 4, 4)
    one[..., 1:3, 2:4] = 1
    assert_close(fill(torch.full((1, 1, 4, 4), 2.0), one, torch.full((1, 1, 4, 4), -1.0)),
                 torch.tensor([[[[2.0, 2, 2, 2], [2, 2, -1, -1], [2, 2, -1, -1], [2, 2, 2, 2]]]]))


def test_cc_gan2_low_resolution_copy_is_the_4x4_block_means():
    from ganrun.experiment import build

    x = torch.arange(64.0).view(1, 1, 8, 8)
    low = low_resolution(x)
    means = torch.tensor([[13.5, 17.5], [45.5, 49.5]])  # e.g. the top left block: rows 0-3 x cols 0-3
    assert_close(low[0, 0], means.repeat_interleave(4, 0).repeat_interleave(4, 1))
    game = build(tiny_config(*RUNS["ccgan"], "game.low_resolution=true", "game.labels.fraction=0.05"),
                 torch.device("cpu")).game
    assert game.generator.in_channels == 2  # the masked image and its low-resolution copy
    mask = torch.zeros(1, 1, 8, 8)
    mask[..., :4, :4] = 1
    assert_close(game.generator_input(x, mask), torch.cat([context(x, mask), low], dim=1))
    assert torch.isfinite(game.generator_loss(game.next_batch())[0])
    from ganrun.errors import ConfigError

    for bad, message in (("game.hole=0", "must leave a hole of 1 to 7 pixels"), ("game.labels.fraction=0", "must be in")):
        with pytest.raises(ConfigError, match=message):
            build(tiny_config(*RUNS["ccgan"], bad), torch.device("cpu"))


class SumBody(nn.Module):
    """D's features: the sum of each image's pixels (N, 1)."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(()))

    def features(self, x):
        return x.sum((1, 2, 3))[:, None]


def test_cc_gan_losses_on_a_hand_made_d_and_in_painter():
    """Real images of zeros, a 2x2 hole in 4x4 images, G writes 1 everywhere: x_I has four 1s, D's
    features (pixel sums) are 0 for real and 4 for in-painted images; class logits l = (f, 0)."""
    zeros = torch.zeros(3, 1, 4, 4)
    batches = iter([(zeros, torch.full((3,), -1))] * 2)
    labelled = iter([(zeros[:2], torch.tensor([0, 1]))] * 2)
    game = ContextConditional(generator=nn.Identity(), body=SumBody(), num_classes=2, batches=batches,
                              labelled=labelled, batch_size=3, test=None, fixed=None, hole=2, low_res=False,
                              grid_images=(zeros, square_masks(3, 4, 2, torch.device("cpu"))))
    with torch.no_grad():
        game.logits(zeros)  # LazyLinear's width
        game.discriminator["classes"].weight.copy_(torch.tensor([[1.0], [0.0]]))
        game.discriminator["classes"].bias.zero_()
    game.G = lambda seen: torch.ones_like(seen)
    batch = game.next_batch()
    assert_close(game.fakes(batch[0]).sum((1, 2, 3)), torch.full((3,), 4.0))
    # G: -log D(x_I), Z = e^4 + 1, D = Z / (Z + 1)
    z_fake = math.exp(4) + 1
    g_loss, _ = game.generator_loss(batch)
    assert_close(g_loss, torch.tensor(math.log((z_fake + 1) / z_fake)))
    # D: real logits (0, 0): Z = 2, -log D(x) = log(3/2) for the 5 real images; -log(1 - D(x_I)) = log(Z + 1);
    # the two labelled images (classes 0 and 1) each have p(y|x) = 1/2
    d_loss, terms = game.discriminator_loss(batch)
    assert_close(terms["class_nll"], torch.tensor(math.log(2)))
    assert_close(terms["unsupervised"], torch.tensor(math.log(1.5) + math.log(z_fake + 1)))
    assert_close(d_loss, torch.tensor(math.log(2) + math.log(1.5) + math.log(z_fake + 1)))


def test_the_supervised_baseline_trains_d_on_the_labels_alone_and_leaves_g(tmp_path):
    from ganrun.experiment import build
    from ganrun.run.state import seed_everything

    cfg = config("supervised")
    game = build(cfg, torch.device("cpu")).game
    unlabelled, x, y = game.next_batch()
    assert unlabelled is None and (y >= 0).all() and len(y) == 8  # 5% of 1797 digits: 9 a class
    loss, terms = game.discriminator_loss((unlabelled, x, y))
    assert_close(loss, nn.functional.cross_entropy(game.logits(x), y)) and set(terms) == {"class_nll"}
    loop.run(cfg, tmp_path)
    saved = checkpoint.load(checkpoint.latest(tmp_path / "checkpoints"))
    seed_everything(cfg.seed)  # as the loop seeds before it builds
    initial = build(cfg, torch.device("cpu")).generator.state_dict()
    for name, value in initial.items():  # G's loss is a constant: its weights never moved
        assert_close(saved["generator"][name], value, rtol=0, atol=0)


@pytest.mark.parametrize("run", sorted(RUNS))
def test_two_steps_same_seed_twice_and_resume_bitwise(run, tmp_path):
    whole, again, parts = tmp_path / "whole", tmp_path / "again", tmp_path / "parts"
    loop.run(config(run), whole)
    if run.startswith("ccgan"):
        events = EventAccumulator(str(whole))
        events.Reload()
        assert "samples/inpainting" in events.Tags()["images"]
    loop.run(config(run), again)                         # the same seed again
    loop.run(config(run, "trainer.steps=1"), parts)      # stopped after step 1 ...
    loop.run(config(run), parts)                         # ... and continued from its checkpoint
    reference = checkpoint.load(checkpoint.latest(whole / "checkpoints"))
    for other in (again, parts):
        saved = checkpoint.load(checkpoint.latest(other / "checkpoints"))
        assert saved["step"] == reference["step"] == 2 and saved.keys() == reference.keys()
        for part in reference.keys() - {"format", "config", "rng"}:  # weights, optimizers, both data streams
            assert_close(saved[part], reference[part], rtol=0, atol=0, msg=lambda m: f"{part}: {m}")
        assert_close(saved["rng"]["torch"], reference["rng"]["torch"], rtol=0, atol=0)


def test_eval_reports_d_test_accuracy_as_the_run_logged_it_and_sample_refuses_in_one_line(tmp_path):
    from ganrun.commands import evaluate, sample

    cfg = config("ccgan", "metrics=default", "metrics.every=0")
    loop.run(cfg, tmp_path / "run")
    logged = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    evaluate.main([f"checkpoint={checkpoint.latest(tmp_path / 'run' / 'checkpoints')}", f"out={tmp_path / 'm.json'}",
                   "device=cpu"])
    reported = json.loads((tmp_path / "m.json").read_text())
    assert reported["classifier_accuracy"] == logged["classifier_accuracy"]
    with pytest.raises(UsageError, match="game=ccgan draws nothing from noise: G in-paints real images"):
        sample.main([f"checkpoint={checkpoint.latest(tmp_path / 'run' / 'checkpoints')}", f"out={tmp_path / 's.png'}"])
    assert not (tmp_path / "s.png").exists()


def test_turing_report_gives_the_error_rate_and_its_interval_from_recorded_answers(tmp_path, capsys):
    from ganrun.commands import turing
    from ganrun.humaneval import Study, prepare

    (tmp_path / "checkpoints").mkdir()
    step = tmp_path / "checkpoints" / "step_00000001.pt"
    step.write_bytes(b"")  # report=true reads only the study
    key = prepare(tmp_path / "turing", torch.zeros(2, 1, 4, 4), torch.ones(2, 1, 4, 4))
    study, wrong = Study(tmp_path / "turing"), 0
    for image, truth in sorted(key.items()):  # ann gets one of four wrong
        answer = truth if wrong else {"real": "fake", "fake": "real"}[truth]
        wrong = 1
        study.record("ann", image, answer, 900.0)
    turing.main([f"checkpoint={step}", "report=true"])
    out = capsys.readouterr()
    # Wilson's 95% interval for 1 error in 4: (0.0456, 0.6994)
    assert "all: 4 answers, error rate 0.250 (95% CI 0.046-0.699)" in out.out
    assert json.loads(out.err.strip().splitlines()[-1])["ann"]["error_rate"] == 0.25
