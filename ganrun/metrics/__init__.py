"""Evaluation: IS, FID, KID, precision/recall on Inception or classifier features, and mode coverage.

`build_evaluator(metrics_cfg, dataset_cfg, device)` is the entry point (evaluator.py). Nothing here
imports the training code. The names below load on first use (the `metrics` schema and its checks
live with the other groups' in ganrun/config/).
"""

from importlib import import_module

_EXPORTS = {
    "build_evaluator": "evaluator", "ImageEvaluator": "evaluator", "PointEvaluator": "evaluator",
    "quantize": "features", "save_random_weights": "inception",
    "mode_metrics": "modes", "precision_recall": "scores",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ganrun.metrics' has no attribute '{name}'")
    return getattr(import_module(f"ganrun.metrics.{_EXPORTS[name]}"), name)
