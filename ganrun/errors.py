"""What can go wrong for a user, and the exit code each ends with. Imports nothing of ganrun, so every
module can raise these without an import cycle.

| code | meaning |
| 0 | done |
| 1 | a bug or an unexpected error (a traceback) |
| 2 | a mistake in the command line or the config: one line, nothing written |
| 3 | a NaN or Inf stopped training (trainer.on_nan=stop) |
| 4 | a sweep finished and some of its jobs failed |
| 130 / 143 | SIGINT / SIGTERM: checkpointed, then stopped |
"""

from __future__ import annotations

import os
import sys

EXIT_USAGE = 2
EXIT_NONFINITE = 3
EXIT_SWEEP_FAILED = 4


class ConfigError(ValueError):
    """A mistake in the user's config or arguments: printed as one line, exit code 2."""


class UsageError(ConfigError):
    """A mistake on the command line of a command (an unknown argument, a missing value): exit code 2."""


class NonFiniteError(RuntimeError):
    """Training met a NaN or Inf and stopped (run/guard.py): one line, exit code EXIT_NONFINITE."""


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
