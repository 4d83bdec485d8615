"""Every argument of every command is checked for its type and range: one line, exit 2, no traceback,
nothing written; a value with spaces split by the shell gets a hint on quoting."""

from __future__ import annotations

import sys

import pytest

from ganrun import cli, loop
from tests.conftest import tiny_config

SAMPLE = {  # argument -> the line it must print
    "num=0": "num=0 is out of range: it must be between 1 and 100000 (e.g. num=1)",
    "num=-3": "num=-3 is out of range: it must be between 1 and 100000 (e.g. num=1)",
    "num=abc": "num=abc is not an integer (e.g. num=1)",
    "num=2.5": "num=2.5 is not an integer (e.g. num=1)",
    "seed=1.5": "seed=1.5 is not an integer (e.g. seed=1)",
    "seed=-1": "seed=-1 is out of range: it must be between 0 and 9223372036854775807 (e.g. seed=1)",
    "interpolate=maybe": "interpolate=maybe: use true or false",
    "device=gpu": "device=gpu is unknown: use one of auto, cpu, cuda, mps (or cuda:N)",
}
EVAL = {
    "metrics.num_samples=abc": "metrics.num_samples=abc: Value 'abc' of type 'str' could not be converted to Integer",
    "metrics.num_sample=5": "metrics.num_sample is not a key of the checkpoint's config (a typo?)",
    "dataset.resolution=big": "dataset.resolution=big: must be an integer, like dataset.resolution=8",
    "metrics.num_samples=5": "metrics.num_samples=5 is too few: IS needs 10 splits, and FID is meaningless below a "
                             "few thousand (use 10000)",
    "dataset=mnist": "dataset=mnist: a checkpoint is evaluated with its own dataset; change its keys "
                     "(dataset.KEY=VALUE), or evaluate samples with fake=FOLDER dataset=NAME",
    "device=tpu": "device=tpu is unknown: use one of auto, cpu, cuda, mps (or cuda:N)",
}


@pytest.fixture(scope="module")
def step(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    loop.run(tiny_config("dataset=digits", "trainer.steps=1"), folder)
    return folder / "checkpoints" / "step_00000001.pt"


def answer(*argv: str, capsys) -> tuple[int, list[str]]:
    saved = sys.argv
    try:
        cli.main(list(argv))
    except SystemExit as exit_:
        return exit_.code, capsys.readouterr().err.strip().splitlines()
    finally:
        sys.argv = saved
    return 0, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("argument", SAMPLE)
def test_every_sample_argument_is_checked(argument, step, tmp_path, capsys):
    code, lines = answer("sample", f"checkpoint={step}", f"out={tmp_path / 'x.png'}", argument, capsys=capsys)
    assert (code, lines) == (2, [f"ganrun: error: {SAMPLE[argument]}"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argument", EVAL)
def test_every_eval_argument_is_checked(argument, step, tmp_path, capsys):
    code, lines = answer("eval", f"checkpoint={step}", f"out={tmp_path / 'm.json'}", argument, capsys=capsys)
    assert (code, lines) == (2, [f"ganrun: error: {EVAL[argument]}"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("override,line", [
    ("seed=1.5", "seed=1.5: Value '1.5' of type 'float' could not be converted to Integer (e.g. seed=0)"),
    ("seed=true", "seed=True: Value 'True' of type 'bool' could not be converted to Integer (e.g. seed=0)"),
    ("conditional=2", "conditional=2 must be true or false"),
])
def test_the_root_keys_have_a_schema(override, line, tmp_path, capsys):
    code, lines = answer("train", override, f"hydra.run.dir={tmp_path / 'run'}", capsys=capsys)
    assert (code, lines) == (2, [f"ganrun: error: {line}"])
    assert list(tmp_path.iterdir()) == []


def test_a_path_with_spaces_split_by_the_shell_gets_a_quoting_hint(tmp_path, capsys):
    code, lines = answer("train", f"dataset.root={tmp_path}/my", "images", "dataset=image_folder", capsys=capsys)
    assert code == 2 and len(lines) == 1
    assert lines[0] == ("ganrun: error: Error parsing override 'images': overrides look like key=value, and a value "
                        "with spaces or special characters needs quotes, e.g. 'hydra.run.dir=\"my runs/a\"' "
                        "(see ganrun train --help)")
    code, lines = answer("train", f'dataset.root="{tmp_path}/my images (1)"', "dataset=image_folder", capsys=capsys)
    assert lines[0].startswith(f"ganrun: error: dataset.root={tmp_path}/my images (1) does not exist")  # read whole
