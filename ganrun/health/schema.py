"""The `health` config group's schema and checks (no torch: the CLI runs them before the import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class HealthConfig:
    enabled: bool = True  # false: no diagnosis at all
    warmup: int = 200  # steps before any check (G starts collapsed and D starts ahead)
    window: int = 5  # logging steps a symptom must last
    gap: float = 4.0  # D wins when mean D(x) - D(G(z)) (D's raw output: logits for ns/minimax) stays above this ...
    # ... while loss/G rises over the window
    gradient_fraction: float = 0.01  # G's gradient vanishes below this fraction of its early median
    diversity_fraction: float = 0.5  # collapse: sample diversity (or 2-D mode coverage) below this fraction of the real's
    divergence_factor: float = 20.0  # divergence: |loss| or grad norm above this many times its early median ...
    divergence_floor: float = 1.0  # ... (an early median below the floor counts as the floor)
    patience: int = 3  # oscillation: evaluations without the metric improving ...
    tolerance: float = 0.02  # ... by this fraction of its best
    amplitude: float = 0.25  # ... while loss/G swings with at least this spread / mean


def validate_health(cfg: Any, error: type[Exception]) -> None:
    """Raise `error` naming the first `health.*` value out of range."""
    for key in ("window", "patience"):
        if cfg[key] < 1:
            raise error(f"health.{key}={cfg[key]} must be >= 1")
    for key in ("warmup", "gap", "gradient_fraction", "diversity_fraction", "divergence_floor", "tolerance",
                "amplitude"):
        if cfg[key] < 0:
            raise error(f"health.{key}={cfg[key]} must be >= 0")
    if cfg.divergence_factor <= 1:
        raise error(f"health.divergence_factor={cfg.divergence_factor} must be > 1 (e.g. 20)")
