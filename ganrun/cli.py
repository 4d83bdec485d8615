"""`ganrun <command> [arguments]`: the one entry point. Commands come from the table below, each a
module of ganrun/commands/ with `main(args)`; a mistake in any of them is one line and exit code 2."""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import NamedTuple


class Command(NamedTuple):
    module: str
    summary: str


COMMANDS = {
    "train": Command("ganrun.commands.train",
                     "train a GAN: ganrun train dataset=mnist architecture=dcgan objective=lsgan\n"
                     "             ganrun train --help lists every config group and option; -m runs a sweep"),
    "eval": Command("ganrun.commands.evaluate",
                    "metrics of a checkpoint or of a folder/.npz of samples: ganrun eval checkpoint=PATH"),
    "sample": Command("ganrun.commands.sample",
                      "write samples of a checkpoint: ganrun sample checkpoint=PATH num=64 out=grid.png"),
    "translate-grid": Command("ganrun.commands.translate_grid",
                              "a grid of held-out images translated by a checkpoint's game (CoGAN's latent search):\n"
                              "             ganrun translate-grid checkpoint=PATH out=t.png steps=500 source=A"),
    "latents": Command("ganrun.commands.latents",
                       "arithmetic and slerp strips on a sample sheet's latents: ganrun latents sheet=S.latents.npz "
                       "expr=\"3+7-12\" out=F.png"),
    "turing": Command("ganrun.commands.turing",
                      "a Turing test page on 127.0.0.1 for a checkpoint: ganrun turing checkpoint=PATH [port=8000]"),
    "summarize": Command("ganrun.commands.summarize",
                         "the table of a sweep: ganrun summarize outputs/sweeps/<folder>"),
    "report": Command("ganrun.commands.report",
                      "one self-contained HTML page of a run or a sweep: ganrun report outputs/runs/<folder>"),
    "translate": Command("ganrun.commands.translate",
                         "apply a translation checkpoint's G to images: ganrun translate checkpoint=PATH input=DIR out=DIR"),
}
USAGE_LINE = f"usage: ganrun {{{','.join(COMMANDS)}}} [key=value ...] (ganrun --help)"


def usage() -> str:
    lines = [USAGE_LINE.split(" (")[0], "", "commands:"]
    lines += [f"  {name:<10} {command.summary}" for name, command in COMMANDS.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    from ganrun.errors import EXIT_WRITE, ConfigError, WriteError, fail, one_line_warnings

    one_line_warnings()  # `ganrun: warning: ...`, never Python's format with a source excerpt
    argv = sys.argv[1:] if argv is None else argv
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # a user's own objectives and models, as `python -m` would find them
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(), end="")
        return
    name, args = argv[0], argv[1:]
    if name not in COMMANDS:
        fail(f"unknown command '{name}': {USAGE_LINE}")
    try:
        import_module(COMMANDS[name].module).main(args)
    except ConfigError as error:  # UsageError too: a mistake in the arguments
        fail(str(error))
    except WriteError as error:  # an output could not be written (disk full, read-only): nothing half-written
        fail(str(error), EXIT_WRITE)


if __name__ == "__main__":
    main()
