"""Record a run's scalar series for tests/test_health.py: the tags the detectors read, from its event files.

    python scripts/record_health_series.py RUN_FOLDER NAME "the ganrun train command that made it"

writes tests/data/health/NAME.json ({"command": ..., "series": {tag: [[step, value], ...]}}).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ganrun.health.replay import read_series

KEPT = ("D/", "loss/", "grad_norm/", "health/", "metrics/")


def main(run_dir: str, name: str, command: str) -> None:
    series = {tag: [[step, float(f"{value:.6g}")] for step, value in points]
              for tag, points in sorted(read_series(Path(run_dir)).items()) if tag.startswith(KEPT)}
    out = Path(__file__).resolve().parents[1] / "tests" / "data" / "health" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"command": command, "series": series}, separators=(",", ":")) + "\n")
    print(f"{out}: {len(series)} tags")


if __name__ == "__main__":
    main(*sys.argv[1:4])
