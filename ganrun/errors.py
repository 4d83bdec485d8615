"""What can go wrong for a user, and the exit code each ends with. Imports nothing of ganrun, so every
module can raise these without an import cycle.

| code | meaning |
| 0 | done |
| 1 | a bug or an unexpected error (a traceback) |
| 2 | a mistake in the command line or the config: one line, nothing written |
| 3 | a NaN or Inf stopped training (trainer.on_nan=stop) |
| 4 | a sweep finished and some of its jobs failed |
| 5 | a file could not be written (disk full, read-only, deleted folder): one line, nothing half-written |
| 130 / 143 | SIGINT / SIGTERM: checkpointed, then stopped |
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO

EXIT_USAGE = 2
EXIT_NONFINITE = 3
EXIT_SWEEP_FAILED = 4
EXIT_WRITE = 5


class ConfigError(ValueError):
    """A mistake in the user's config or arguments: printed as one line, exit code 2."""


class UsageError(ConfigError):
    """A mistake on the command line of a command (an unknown argument, a missing value): exit code 2."""


class NonFiniteError(RuntimeError):
    """Training met a NaN or Inf and stopped (run/guard.py): one line, exit code EXIT_NONFINITE."""


class WriteError(Exception):
    """A file could not be written (safe_io.py): one line naming it and the cause, exit code EXIT_WRITE."""

    def __init__(self, path: object, error: OSError) -> None:
        import errno

        self.path, self.error = path, error
        code = errno.errorcode.get(error.errno, "") if error.errno else ""
        reason = error.strerror or str(error) or type(error).__name__
        super().__init__(f"cannot write {path}: {reason}{f' ({code})' if code else ''}")


def debugging() -> bool:
    """HYDRA_FULL_ERROR=1 or GANRUN_DEBUG=1: show tracebacks instead of one-line errors."""
    return os.environ.get("HYDRA_FULL_ERROR") == "1" or os.environ.get("GANRUN_DEBUG") == "1"


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print one line and exit with `code`; in debug mode, re-raise the exception being handled."""
    if debugging() and sys.exc_info()[0] is not None:
        raise
    print(f"ganrun: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def warn(message: str) -> None:
    """ganrun's own warnings: one line on stderr."""
    print(f"ganrun: warning: {message}", file=sys.stderr, flush=True)


PACKAGE = str(Path(__file__).resolve().parent)


def format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int) -> str:
    """A Python warning as one line: ganrun's own as their message; other packages' with their category
    and place (never Python's default format, which adds the source line that raised it)."""
    text = " ".join(str(message).split()) or category.__name__
    if str(Path(filename).resolve()).startswith(PACKAGE):
        return f"ganrun: warning: {text}"
    return f"ganrun: warning: {text} ({category.__name__} from {Path(filename).name}:{lineno})"


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: TextIO | None = None, line: str | None = None) -> None:
    """A `warnings.showwarning` printing `format_warning`'s line to stderr."""
    stream: Any = file if file is not None else sys.stderr
    try:
        print(format_warning(message, category, filename, lineno), file=stream, flush=True)
    except (OSError, ValueError):  # a closed stream: as Python's own hook, drop the warning
        pass


def one_line_warnings() -> None:
    """Every warning of this process through `show_warning` (the CLI calls it first)."""
    warnings.showwarning = show_warning
