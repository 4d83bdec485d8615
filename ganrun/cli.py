"""`ganrun <command> [overrides]`: the command line.

`train` is a Hydra app. Before Hydra creates a run folder (and before torch is imported, which takes
seconds), the overrides of every job are composed and validated here, so a mistake answers within
about a second with one line and exit code 2, and leaves nothing on disk.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
USAGE = """usage: ganrun <command> [overrides] [hydra flags]

commands:
  train      train a GAN: ganrun train dataset=mnist architecture=dcgan objective=lsgan
             ganrun train --help lists every config group and option; -m runs a sweep
  eval       metrics of a checkpoint or of a folder/.npz of samples: ganrun eval checkpoint=PATH
  sample     write samples of a checkpoint: ganrun sample checkpoint=PATH num=64 out=grid.png
  summarize  the table of a sweep: ganrun summarize outputs/sweeps/<folder>
  report     one self-contained HTML page of a run or sweep: ganrun report outputs/runs/<folder>
"""
EXIT_USAGE = 2
EXIT_NONFINITE = 3  # trainer.on_nan: a NaN or Inf stopped training (SIGTERM/SIGINT: 143/130, preemption.py)


class UsageError(Exception):
    """A user mistake, reported as one line (no traceback) with exit code 2."""


class NonFiniteError(RuntimeError):
    """Training met a NaN or Inf and stopped (guard.py): one line, exit code EXIT_NONFINITE."""


def fail(message: str) -> None:
    """Print one line and exit 2; HYDRA_FULL_ERROR=1 or GANRUN_DEBUG=1 re-raise for the traceback."""
    debug = os.environ.get("HYDRA_FULL_ERROR") == "1" or os.environ.get("GANRUN_DEBUG") == "1"
    if debug and sys.exc_info()[0] is not None:
        raise
    print(f"ganrun: error: {message}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def describe(error: BaseException) -> str:
    """One line from Hydra's and OmegaConf's multi-line composition errors."""
    from hydra.errors import MissingConfigException, OverrideParseException

    text = str(error)
    if isinstance(error, MissingConfigException) and "Available options in" in text:
        missing = text.split("Could not find '")[1].split("'")[0]  # e.g. objective/foo
        group, _, option = missing.rpartition("/")
        options = [line.strip() for line in text.split("Available options in")[1].splitlines()[1:]
                   if line.startswith("\t") and "provider=" not in line]
        return f"{group} has no option '{option}': choose one of {', '.join(options)} (e.g. {group}={options[0]})"
    if isinstance(error, OverrideParseException):
        return f"{text.splitlines()[0]}: overrides look like key=value (see ganrun train --help)"
    cause = error.__cause__ or error.__context__
    if cause is not None and "Error merging override" in text:
        override = text.rpartition("override ")[2]
        return f"{override}: {str(cause).splitlines()[0]}"
    if "Could not override" in text and "To append" in text:
        key = text.split("'")[1]
        return f"{key} is not a config key (a typo?): ganrun train --cfg job lists every key"
    return text.strip().splitlines()[0]


def split_args(args: list[str]) -> tuple[list[str], list[str]]:
    overrides = [a for a in args if not a.startswith("-")]
    flags = [a for a in args if a.startswith("-")]
    return overrides, flags


def job_overrides(overrides: list[str], multirun: bool) -> list[list[str]]:
    """The override list of every job a basic sweep would launch (one list for a single run)."""
    if not multirun:
        return [overrides]
    if any(o.startswith("hydra/sweeper=") for o in overrides):
        return [[o for o in overrides if "," not in o and "(" not in o]]  # other sweepers: check the fixed part
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    batches = BasicSweeper.split_arguments(parsed, max_batch_size=None)
    return [list(job) for batch in batches for job in batch]


def check_train_overrides(args: list[str]) -> list[str]:
    """Compose and validate every job of `ganrun train args`; exit 2 with one line on the first error.
    Returns the keys a run folder's name leaves out (hydra.job.config.override_dirname.exclude_keys)."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf, open_dict

    from ganrun.config import ConfigError, register_schemas, validate
    from ganrun.resume import check_output_folder, check_run_folder

    overrides, flags = split_args(args)
    multirun = "-m" in flags or "--multirun" in flags
    register_schemas()
    excluded: list[str] = []
    try:
        jobs = job_overrides(overrides, multirun)
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            for job in jobs:
                cfg = compose(config_name="train", overrides=job, return_hydra_config=True)
                output = Path(OmegaConf.select(cfg, "hydra.sweep.dir" if multirun else "hydra.run.dir"))
                excluded = list(cfg.hydra.job.config.override_dirname.exclude_keys)
                with open_dict(cfg):
                    cfg.pop("hydra")
                missing = sorted(OmegaConf.missing_keys(cfg))
                if missing:
                    raise ConfigError(f"{missing[0]} must be set (e.g. {missing[0]}=/path/to/data)")
                OmegaConf.resolve(cfg)
                validate(cfg)
                # Before Hydra writes there: writable, and a run it would continue has this config.
                check_output_folder(output) if multirun else check_run_folder(output, cfg)
    except Exception as error:  # noqa: BLE001 - every composition error becomes one line
        fail(describe(error) if not isinstance(error, ConfigError) else str(error))
    return excluded


def name_runs_by_varying_keys(args: list[str], excluded: list[str]) -> list[str]:
    """`args` plus, for a basic sweep, the override that leaves its fixed keys out of run folder names."""
    overrides, flags = split_args(args)
    multirun = "-m" in flags or "--multirun" in flags
    if not multirun or any(o.startswith("hydra.job.config.override_dirname") for o in overrides):
        return args
    from ganrun.sweeps import fixed_keys

    keys = ",".join(f"'{key}'" for key in dict.fromkeys([*excluded, *fixed_keys(overrides)]))
    return [*args, f"hydra.job.config.override_dirname.exclude_keys=[{keys}]"]


def train(args: list[str]) -> None:
    passthrough = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc"}
    informative = passthrough.intersection(args) or any(a.startswith("--info") for a in args)
    if not informative:
        args = name_runs_by_varying_keys(args, check_train_overrides(args))
    torchrun = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not informative
    if torchrun:
        if "-m" in args or "--multirun" in args:
            fail("under torchrun ganrun trains one run on every process: sweep without torchrun (see README, Sweeps)")
        from ganrun import distributed  # imports torch

        overrides, flags = split_args(args)
        args = [*distributed.one_run_folder(overrides), *flags]
    from ganrun.app import train_app
    from ganrun.sweeps import exit_code_of_last_sweep

    sys.argv = ["ganrun train", *args]
    train_app()
    if torchrun:
        distributed.stop()
    if exit_code_of_last_sweep():  # the sweep finished, but some of its jobs failed (summary.md says which)
        sys.exit(exit_code_of_last_sweep())


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    from ganrun import console

    console.install()  # warnings as one line: `ganrun: warning: ...`
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return
    command, args = argv[0], argv[1:]
    if command == "train":
        train(args)
        return
    from ganrun import commands  # eval, sample, summarize: plain key=value arguments

    handler = getattr(commands, command, None)
    if handler is None or command.startswith("_"):
        fail(f"unknown command '{command}': use one of train, eval, sample, summarize, report")
    try:
        handler(args)
    except UsageError as error:
        fail(str(error))


if __name__ == "__main__":
    main()
