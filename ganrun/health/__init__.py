"""Live training diagnosis: detectors over the scalars a run logs (detectors.py), the monitor that runs
them at logging points and reports each finding once (monitor.py), sample diversity (diversity.py)."""

from ganrun.health.detectors import DETECTORS, Finding
from ganrun.health.schema import HealthConfig, validate_health

__all__ = ["DETECTORS", "Finding", "HealthConfig", "validate_health"]
