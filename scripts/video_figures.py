"""docs/video.md's figures through ganrun's own commands: `ganrun train`, `ganrun eval`, `ganrun sample`.

    python scripts/video_figures.py run NAME experiment=mocogan_cpu dataset.root=../shared/data ...
        ganrun train (hydra.run.dir=outputs/video/NAME), then ganrun eval of its last checkpoint and
        ganrun sample of a GIF (a conditional run: one GIF per action, label=K) into --out
    python scripts/video_figures.py real NAME experiment=mocogan_cpu dataset.root=../shared/data ...
        the reference rows: real clips of the train split, and the same clips frozen on their first
        frame, each written to an .npz and scored by `ganrun eval fake=...`; on labelled clips also the
        frame classifier's action accuracy (majority over a clip's frames) on the held-out test clips
        (other actors: a clip and its mirror on one side) -- ganrun's evaluator called directly, since
        `ganrun eval fake=` takes no labels; and a GIF of real clips (one per action)

Each row goes to OUT/figures.jsonl as one JSON line (name, the command's overrides, its metrics, wall
and CPU seconds of the training, the load average). Run with OMP_NUM_THREADS=1 and `nice -n 10`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def ganrun(*args: str) -> str:
    """`python -m ganrun ARGS` with this checkout first on the path; its stdout (stops on failure)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    print("+ ganrun " + " ".join(args), file=sys.stderr, flush=True)
    result = subprocess.run([sys.executable, "-m", "ganrun", *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE)
    if result.returncode != 0:
        sys.exit(f"ganrun {args[0]} failed with exit code {result.returncode}")
    return result.stdout


def evaluated(*args: str) -> dict:
    """`ganrun eval ARGS out=...` -> its metrics."""
    out = REPO / "outputs" / "video" / f"eval_{os.getpid()}_{time.monotonic_ns()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    ganrun("eval", *args, f"out={out}", "device=cpu")
    return json.loads(out.read_text())


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def record(out: Path, row: dict) -> None:
    row = {**row, "load_average": os.getloadavg()}
    print(json.dumps(row))
    with open(out / "figures.jsonl", "a") as file:
        file.write(json.dumps(row) + "\n")


def trained(name: str, overrides: list[str], out: Path) -> None:
    run_dir = REPO / "outputs" / "video" / name
    start, cpu = time.time(), children_cpu_seconds()
    ganrun("train", *overrides, f"hydra.run.dir={run_dir}", "metrics.enabled=false")
    wall, cpu = time.time() - start, children_cpu_seconds() - cpu
    checkpoint = sorted((run_dir / "checkpoints").glob("step_*.pt"))[-1]
    metrics = evaluated(f"checkpoint={checkpoint}", *(o for o in overrides if o.startswith("metrics.")))
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(run_dir / "config.yaml")
    if cfg.conditional:  # one GIF per action: every clip of it asks for that action
        for label in range(cfg.dataset.num_classes):
            ganrun("sample", f"checkpoint={checkpoint}", "num=16", f"label={label}", f"out={out / f'{name}_{label}.gif'}")
    else:
        ganrun("sample", f"checkpoint={checkpoint}", "num=16", f"out={out / f'{name}.gif'}")
    record(out, {"name": name, "overrides": overrides, "train_wall_s": round(wall), "train_cpu_s": round(cpu),
                 **metrics})


def eval_overrides(cfg) -> list[str]:
    """`ganrun eval fake=` takes `dataset=NAME` and dataset.*/metrics.* keys, not an experiment: the
    composed config's dataset and metrics spelled out."""
    keys = [f"{group}.{key}={'null' if value is None else value}" for group in ("dataset", "metrics")
            for key, value in cfg[group].items() if key not in ("_target_", "name") and not isinstance(value, dict)]
    return [f"dataset={cfg.dataset.name}", *keys]


def real(name: str, overrides: list[str], out: Path) -> None:
    import numpy as np
    import torch

    from ganrun.config.compose import job_config
    from ganrun.experiment import make
    from ganrun.metrics.video import build_video_evaluator, real_clips
    from ganrun.videos import write_gif

    cfg = job_config([o for o in overrides if not o.startswith("hydra.")])
    train_set = make(cfg.dataset, train=True)
    clips = real_clips(train_set, cfg.metrics.num_samples, seed=1)  # the reference is metrics.split's clips
    folder = REPO / "outputs" / "video"
    folder.mkdir(parents=True, exist_ok=True)
    for what, sample in (("real", clips), ("static", clips[:, :, :1].expand_as(clips).contiguous())):
        np.savez(folder / f"{name}_{what}.npz", samples=sample.numpy())
        metrics = evaluated(f"fake={folder / f'{name}_{what}.npz'}", *eval_overrides(cfg))
        record(out, {"name": f"{name}_{what}", "overrides": overrides, **metrics})
    if not train_set.num_classes:
        write_gif(out / f"{name}.gif", clips[:16])
        return
    test_set = make(cfg.dataset, train=False)
    evaluator = build_video_evaluator(cfg.metrics, cfg.dataset, "cpu", make=make)
    every = [test_set[i] for i in range(len(test_set))]
    held_out, labels = torch.stack([c for c, _ in every]), torch.stack([y for _, y in every])
    scores = evaluator.evaluate_clips(held_out, labels)
    record(out, {"name": f"{name}_held_out", "overrides": overrides, "clips": len(held_out),
                 "held_out_action_accuracy": scores["action_accuracy"],
                 "frame_classifier_test_accuracy": evaluator.net.test_accuracy})
    for label in range(train_set.num_classes):  # 16 held-out clips of each action
        write_gif(out / f"{name}_{label}.gif", held_out[labels == label][:: max(1, int((labels == label).sum()) // 16)][:16])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["run", "real"])
    parser.add_argument("name")
    parser.add_argument("overrides", nargs="+", help="ganrun train's overrides (experiment=..., dataset.root=...)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "video")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    (trained if args.what == "run" else real)(args.name, args.overrides, args.out)


if __name__ == "__main__":
    main()
