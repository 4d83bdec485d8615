"""The `metrics` config node: its schema and checks live in ganrun/config.py with the other groups'."""

from ganrun.config import FEATURES, SPLITS, MetricsConfig, validate_metrics

__all__ = ["FEATURES", "SPLITS", "MetricsConfig", "validate_metrics"]
