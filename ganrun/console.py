"""Warnings on the console as one line each: `ganrun: warning: MESSAGE`, never Python's default format
(`path.py:117: UserWarning: ...` followed by the source line that raised it)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

PACKAGE = str(Path(__file__).resolve().parent)


def format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int) -> str:
    """One line: ganrun's own warnings as their message; other packages' with their category and place."""
    text = " ".join(str(message).split()) or category.__name__
    if str(Path(filename).resolve()).startswith(PACKAGE):
        return f"ganrun: warning: {text}"
    return f"ganrun: warning: {text} ({category.__name__} from {Path(filename).name}:{lineno})"


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
    """A `warnings.showwarning` that prints `format_warning`'s line to stderr."""
    stream: Any = file if file is not None else sys.stderr
    try:
        print(format_warning(message, category, filename, lineno), file=stream, flush=True)
    except (OSError, ValueError):  # a closed stream: as Python's own hook, drop the warning
        pass


def install() -> None:
    """Every warning of this process through `show_warning` (the CLI calls it first)."""
    warnings.showwarning = show_warning
