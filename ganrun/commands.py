"""The commands besides `train`: plain `key=value` arguments, no Hydra app of their own."""

from __future__ import annotations


def summarize(args: list[str]) -> None:
    """`ganrun summarize <sweep folder> [metric=TAG] [direction=minimize|maximize]`: the sweep's table."""
    from ganrun.sweeps import summarize_command

    summarize_command(args)
