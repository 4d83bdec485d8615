"""Real features on disk, so re-evaluation computes only the generated side.

The key holds everything the features depend on: the dataset node (less `download` and `train`),
the split, the number of samples, the subset seed, and the feature network with its weights hash.
The file name leads with the readable parts; the hash of the whole key ends it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

IGNORED = ("download", "train")  # how a dataset is fetched or which split: the split is keyed apart


def real_key(dataset_cfg: DictConfig, *, split: str, num_samples: int, seed: int, digest: str) -> dict:
    dataset = OmegaConf.to_container(dataset_cfg, resolve=True)
    for key in IGNORED:
        dataset.pop(key, None)
    return {"dataset": dataset, "split": split, "num_samples": num_samples, "seed": seed, "features": digest}


def cache_path(cache_dir: str | Path, key: dict) -> Path:
    data = key["dataset"]
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    size = f"{data['resolution']}px_" if data.get("resolution") is not None else ""
    name = f"real_{data.get('name', 'dataset')}_{key['split']}_{size}{key['num_samples']}_{digest}.pt"
    return Path(cache_dir) / name


def cached_features(path: Path, key: dict, compute: Callable[[], Tensor]) -> tuple[Tensor, bool]:
    """(features, hit): the file's features when its key matches, else `compute()` saved atomically."""
    if path.is_file():
        record = torch.load(path, map_location="cpu", weights_only=True)
        if record.get("key") == key:
            return record["features"], True
    features = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save({"key": key, "features": features}, partial)
    os.replace(partial, path)
    return features, False
