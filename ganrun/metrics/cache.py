"""Real features on disk, so re-evaluation computes only the generated side.

The key holds everything the features depend on: the dataset node (less `download` and `train`),
the split, the number of samples, the subset seed, and the feature network with its weights hash.
The file name leads with the readable parts; the hash of the whole key ends it.

Where (`cache_dir`): `metrics.cache_dir` when set, else `$GANRUN_CACHE_DIR`, else
`$XDG_CACHE_HOME/ganrun`, else `~/.cache/ganrun`: one cache per user, whatever folder a run starts in.
How (`filling`, `read`, `store`): a process fills a cache file holding an exclusive lock on
`<file>.lock`, so two runs (two jobs of a sweep) needing the same file at once compute it once: the
second waits, then reads it. Files are written atomically (safe_io); one that cannot be read (truncated,
corrupt, another format) is computed again with a warning; one that cannot be written (a full disk, a
read-only cache) is used from memory with a warning. The metric classifier's file (classifier.py) too.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from ganrun.safe_io import WriteError, atomic_write

IGNORED = ("download", "train")  # how a dataset is fetched or which split: the split is keyed apart


def real_key(dataset_cfg: DictConfig, *, split: str, num_samples: int, seed: int, digest: str) -> dict:
    dataset = OmegaConf.to_container(dataset_cfg, resolve=True)
    for key in IGNORED:
        dataset.pop(key, None)
    return {"dataset": dataset, "split": split, "num_samples": num_samples, "seed": seed, "features": digest}


def cache_path(configured: str | Path | None, key: dict) -> Path:
    data = key["dataset"]
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    size = f"{data['resolution']}px_" if data.get("resolution") is not None else ""
    name = f"real_{data.get('name', 'dataset')}_{key['split']}_{size}{key['num_samples']}_{digest}.pt"
    return cache_dir(configured) / name


def cache_dir(configured: str | Path | None = None) -> Path:
    """The cache folder: `configured` (metrics.cache_dir), $GANRUN_CACHE_DIR, $XDG_CACHE_HOME/ganrun, ~/.cache/ganrun."""
    if configured:
        return Path(configured).expanduser()
    variable = os.environ.get("GANRUN_CACHE_DIR") or os.environ.get("GANRUN_CACHE")  # the latter: its old name
    if variable:
        return Path(variable).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "ganrun"


@contextmanager
def filling(path: Path) -> Iterator[None]:
    """Hold `<path>.lock` exclusively (waiting for another process filling the same file); without a
    writable cache folder, go on unlocked (nothing will be stored there anyway)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        warnings.warn(f"cache folder {path.parent} is not usable ({error.strerror}): computing without a cache; "
                      "set metrics.cache_dir or GANRUN_CACHE_DIR to a writable folder", stacklevel=3)
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for stale in path.parent.glob(f".{path.name}.*.tmp"):  # of a writer killed mid-write: all write locked
            stale.unlink(missing_ok=True)
        yield
    finally:
        os.close(fd)  # releases the lock


def read(path: Path, required: tuple[str, ...]) -> dict[str, Any] | None:
    """The cache file's record, or None when there is none or it cannot be read (warned: recomputed)."""
    if not path.is_file():
        return None
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(record, dict) or not all(name in record for name in required):
            raise ValueError(f"not a ganrun cache record (no {', '.join(required)})")
        return record
    except Exception as error:  # noqa: BLE001 - torch raises many types for a bad file
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:120]
        warnings.warn(f"cache file {path} cannot be read ({type(error).__name__}: {first}): computing it again",
                      stacklevel=3)
        return None


def store(path: Path, record: dict[str, Any]) -> str:
    """Write `record` atomically (a WriteError is only warned: the caller has it in memory); returns the
    sha256 of its bytes, the same as the file's."""
    buffer = io.BytesIO()
    torch.save(record, buffer)
    data = buffer.getvalue()
    try:
        atomic_write(path, data)
    except WriteError as error:
        warnings.warn(f"{error}: the cache is not updated, this run goes on", stacklevel=3)
    return hashlib.sha256(data).hexdigest()


def cached_features(path: Path, key: dict, compute: Callable[[], Tensor]) -> tuple[Tensor, bool]:
    """(features, hit): the file's features when its key matches, else `compute()` saved atomically."""
    with filling(path):
        record = read(path, ("key", "features"))
        if record is not None and record["key"] == key:
            return record["features"], True
        features = compute()
        store(path, {"key": key, "features": features})
    return features, False
