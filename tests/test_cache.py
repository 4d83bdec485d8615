"""The metric caches: in the user's cache folder, written atomically, filled once when two runs need the
same file at once, and a corrupt file computed again with a warning."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

from ganrun.metrics import cache, classifier


def test_the_cache_folder_is_the_users_unless_a_setting_or_variable_says_otherwise(monkeypatch, tmp_path):
    for name in ("GANRUN_CACHE_DIR", "GANRUN_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "ganrun"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir(None) == tmp_path / "xdg" / "ganrun"
    monkeypatch.setenv("GANRUN_CACHE_DIR", str(tmp_path / "env"))
    assert cache.cache_dir() == tmp_path / "env"
    assert cache.cache_dir(str(tmp_path / "set")) == tmp_path / "set"  # metrics.cache_dir wins


def test_a_corrupt_cache_file_is_computed_again_with_a_warning(tmp_path):
    path = tmp_path / "real_x.pt"
    path.write_bytes(b"half a file")
    with pytest.warns(UserWarning, match=f"cache file {path} cannot be read .*: computing it again"):
        features, hit = cache.cached_features(path, {"k": 1}, lambda: torch.ones(3))
    assert not hit and torch.equal(features, torch.ones(3))
    again, hit = cache.cached_features(path, {"k": 1}, lambda: torch.zeros(3))
    assert hit and torch.equal(again, torch.ones(3))  # rewritten whole: read back, not computed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real_x.pt", "real_x.pt.lock"]  # no temporary file


def tiny_labelled(n: int = 40) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.rand(n, 1, 8, 8, generator=generator) * 2 - 1, torch.arange(n) % 4)


def test_a_corrupt_classifier_is_trained_again_with_a_warning(tmp_path):
    data = tiny_labelled()
    options = dict(key="tiny", num_classes=4, cache_dir=tmp_path, device=torch.device("cpu"), steps=2)
    first = classifier.load_or_train(data, data, **options)
    path = tmp_path / "classifier_tiny.pt"
    assert classifier.load_or_train(data, data, **options).digest == first.digest  # a hit
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(UserWarning, match=f"cache file {path} cannot be read"):
        again = classifier.load_or_train(data, data, **options)
    for name, weights in first.net.state_dict().items():  # trained again, seeded: the same network
        assert torch.equal(again.net.state_dict()[name], weights), name
    assert classifier.load_or_train(data, data, **options).digest == again.digest  # and stored again


def test_two_runs_filling_the_same_cache_file_at_once_compute_it_once(tmp_path):
    path, calls, results = tmp_path / "real_y.pt", [], {}

    def compute() -> torch.Tensor:
        calls.append(threading.current_thread().name)
        time.sleep(0.3)  # long enough for the other one to arrive while this one computes
        return torch.arange(4.0)

    def job(name: str) -> None:
        results[name] = cache.cached_features(path, {"k": 2}, compute)

    threads = [threading.Thread(target=job, args=(name,), name=name) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1  # the second waited for the first, then read its file
    assert sorted(hit for _, hit in results.values()) == [False, True]
    assert all(torch.equal(features, torch.arange(4.0)) for features, _ in results.values())


def test_an_unwritable_cache_is_warned_and_the_features_are_used_from_memory(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    path = tmp_path / "a_file" / "cache" / "real_z.pt"
    with pytest.warns(UserWarning) as caught:
        features, hit = cache.cached_features(path, {"k": 3}, lambda: torch.ones(2))
    assert torch.equal(features, torch.ones(2)) and not hit
    messages = [str(w.message) for w in caught]
    assert any(m.startswith(f"cache folder {path.parent} is not usable") for m in messages), messages
    assert any(m.startswith(f"cannot write {path}") for m in messages), messages
