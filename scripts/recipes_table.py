"""Mean, standard deviation and per-seed values of a metric over the runs of each sweep folder given.

    python scripts/recipes_table.py outputs/sweeps/dcgan_mnist outputs/sweeps/sngan_mnist --metric FID_classifier

Each sweep folder holds one run per seed (`ganrun train -m ... seed=0,1,2`); a run's value is the last
line of its metrics.jsonl. Prints one Markdown table row per folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def final_values(sweep: Path, metric: str) -> list[float]:
    values = []
    for lines in sorted(sweep.glob("*/metrics.jsonl")):
        last = json.loads(lines.read_text().strip().splitlines()[-1])
        values.append(float(last[metric]))
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--metric", default="FID_classifier")
    args = parser.parse_args(argv)
    print(f"| sweep | runs | {args.metric} mean ± std | per seed |\n| --- | --- | --- | --- |")
    for sweep in args.sweeps:
        values = final_values(sweep, args.metric)
        if not values:
            print(f"| {sweep.name} | 0 | – | no metrics.jsonl |")
            continue
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        seeds = ", ".join(f"{v:.2f}" for v in values)
        print(f"| {sweep.name} | {len(values)} | {statistics.mean(values):.2f} ± {spread:.2f} | {seeds} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
