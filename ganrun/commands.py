"""The commands besides `train`: plain `key=value` arguments, no Hydra app of their own."""

from __future__ import annotations
