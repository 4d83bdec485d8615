"""Human evaluation (the Russian deck: "show them to real people - a Turing test"), HYPE-infinity style
(Zhou et al. 2019): raters see real and generated images one at a time, in random order, with no time
limit, and answer real or fake; the figure is their error rate (fakes called real plus reals called
fake, over all answers) with a 95% confidence interval. 50% = indistinguishable from real data.

A study lives in one folder (`<run folder>/turing/`): `images/<id>.png` under random ids, `key.json`
(id -> "real" | "fake", never sent to the page) and `answers.jsonl`, one line per answer (rater,
image, truth, answer, milliseconds from the image being shown to the answer, wall time). Each rater
has their own random order (seeded by the study's seed and the rater's name) and sees each image once.
The server (humaneval_server.py, the standard library's http.server) is bound to 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import secrets
import statistics
import threading
import time
from pathlib import Path

from torch import Tensor

ANSWERS = ("real", "fake")


def wilson_interval(errors: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson's score interval for a binomial proportion errors / total (95% for the default z):
    (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n); (0, 1) with no answers."""
    if total == 0:
        return 0.0, 1.0
    p, n = errors / total, total
    centre, spread = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n)), min(1.0, (centre + spread) / (1 + z * z / n))


def prepare(folder: Path, real: Tensor, fake: Tensor, seed: int = 0) -> dict[str, str]:
    """Write the study's images (N, C, H, W in [-1, 1]) under random ids and its key; returns the key."""
    from torchvision.utils import save_image

    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    key: dict[str, str] = {}
    for truth, batch in (("real", real), ("fake", fake)):
        for image in batch:
            name = secrets.token_hex(6)
            save_image(image, images / f"{name}.png", normalize=True, value_range=(-1, 1))
            key[name] = truth
    (folder / "key.json").write_text(json.dumps({"seed": seed, "key": key}, indent=1) + "\n")
    return key


class Study:
    """The images, the key and the answers of one study folder; thread-safe appends."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        record = json.loads((self.folder / "key.json").read_text())
        self.seed, self.key = record["seed"], record["key"]
        self.answers_path = self.folder / "answers.jsonl"
        self.lock = threading.Lock()

    def answers(self) -> list[dict]:
        if not self.answers_path.is_file():
            return []
        return [json.loads(line) for line in self.answers_path.read_text().splitlines() if line.strip()]

    def order(self, rater: str) -> list[str]:
        """This rater's order of the images: a permutation seeded by the study's seed and the name."""
        ids = sorted(self.key)
        digest = hashlib.sha256(f"{self.seed}:{rater}".encode()).hexdigest()
        random.Random(int(digest[:16], 16)).shuffle(ids)
        return ids

    def next_image(self, rater: str) -> tuple[str | None, int]:
        """(the rater's next unanswered image or None when done, how many they have answered)."""
        seen = {a["image"] for a in self.answers() if a["rater"] == rater}
        remaining = [i for i in self.order(rater) if i not in seen]
        return (remaining[0] if remaining else None), len(seen)

    def record(self, rater: str, image: str, answer: str, milliseconds: float) -> dict:
        """Append one answer; ValueError for an unknown image or answer (an image answered twice by
        the same rater keeps its first answer only: the second is refused)."""
        if image not in self.key:
            raise ValueError(f"unknown image {image!r}")
        if answer not in ANSWERS:
            raise ValueError(f"answer must be real or fake, got {answer!r}")
        if not (math.isfinite(milliseconds) and milliseconds >= 0):
            raise ValueError(f"the time to answer must be a number of milliseconds >= 0, got {milliseconds}")
        with self.lock:
            if any(a["rater"] == rater and a["image"] == image for a in self.answers()):
                raise ValueError(f"{rater} has already answered {image}")
            entry = {"rater": rater, "image": image, "truth": self.key[image], "answer": answer,
                     "ms": round(float(milliseconds), 1), "time": time.time()}
            with open(self.answers_path, "a") as lines:
                lines.write(json.dumps(entry) + "\n")
        return entry

    def report(self) -> dict:
        """Per rater and for everyone: answers, error rate with its 95% Wilson interval, the error on
        fakes (fakes called real: HYPE's fooling rate) and on reals, and the median time per answer."""
        answers = self.answers()
        groups = {"all": answers} | {r: [a for a in answers if a["rater"] == r] for r in sorted({a["rater"] for a in answers})}
        return {name: summary(group) for name, group in groups.items()}


def summary(answers: list[dict]) -> dict:
    errors = sum(a["answer"] != a["truth"] for a in answers)
    low, high = wilson_interval(errors, len(answers))
    fakes = [a for a in answers if a["truth"] == "fake"]
    reals = [a for a in answers if a["truth"] == "real"]
    return {"answers": len(answers), "error_rate": errors / len(answers) if answers else None,
            "ci95": [low, high],
            "fake_called_real": sum(a["answer"] == "real" for a in fakes) / len(fakes) if fakes else None,
            "real_called_fake": sum(a["answer"] == "fake" for a in reals) / len(reals) if reals else None,
            "median_ms": statistics.median(a["ms"] for a in answers) if answers else None}
