"""The translation rows of scripts/bench.py: ganrun's pix2pix and CycleGAN steps against the hand-written
loops of scripts/translation_plain.py on the same networks (built from the same config), batch and data.

    OMP_NUM_THREADS=1 python scripts/bench_translation.py --steps 20 --repeats 3

Each run is a fresh process (`python scripts/bench_translation.py --job JSON`) timed between its first and
last logging step (ganrun: from its TensorBoard scalars' wall times, as bench_train.py); runs alternate
plain/ganrun (paired), one thread each; rows at two lengths (steps and 2 x steps) show whether the peak
memory (RSS) grows with the run. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import open_dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_train as bt  # noqa: E402
import translation_plain as plain  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GAMES = {
    "pix2pix": ["experiment=pix2pix_edges2shoes_cpu"],
    "cyclegan": ["experiment=cyclegan_shoes2handbags_cpu", "game.pool_size=50"],
}


def config(job: dict):
    timing = [f"trainer.steps={job['log_every'] + job['steps']}", f"trainer.log_every={job['log_every']}",
              "trainer.sample_every=0", "trainer.checkpoint_every=0", "trainer.progress=off", "trainer.device=cpu",
              "metrics=none", f"dataset.root={job['root']}"]
    cfg = bt.compose_config(GAMES[job["game"]] + timing)
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg


def plain_log(cfg, game: str) -> list[tuple[int, float]]:
    """The hand-written loop on networks instantiated from the same config nodes as ganrun's."""
    torch.manual_seed(cfg.seed)
    train = instantiate(cfg.dataset)
    ca, cb, size = train.shape_a[0], train.shape_b[0], train.crop_size
    arch, batch = cfg.architecture, cfg.trainer.batch_size
    if game == "pix2pix":
        from ganrun.models.patchgan import ConditionalPatchGAN

        g = instantiate(arch.generator, in_channels=ca, out_channels=cb, size=size)
        d = ConditionalPatchGAN(instantiate(arch.discriminator, in_channels=ca + cb, size=size))
        step = plain.pix2pix_step(g, d, train, batch=batch, seed=cfg.seed)
    else:
        gs = [instantiate(arch.generator, in_channels=c, out_channels=o, size=size) for c, o in ((ca, cb), (cb, ca))]
        ds = [instantiate(arch.discriminator, in_channels=c, size=size) for c in (ca, cb)]
        step = plain.cyclegan_step(gs[0], gs[1], ds[0], ds[1], train, batch=batch, seed=cfg.seed,
                                   pool_size=cfg.game.pool_size)
    return plain.timed(step, cfg.trainer.steps, cfg.trainer.log_every)


def measure(job: dict) -> dict:
    torch.set_num_threads(1)
    cfg = config(job)
    with tempfile.TemporaryDirectory() as folder:
        log = plain_log(cfg, job["game"]) if job["variant"] == "plain" else bt.ganrun_log(cfg, Path(folder))
    (first, start), (last, end) = log[0], log[-1]
    return {**job, "seconds_per_step": (end - start) / (last - first),
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def in_child(job: dict) -> dict:
    out = subprocess.run([sys.executable, __file__, "--job", json.dumps(job)], check=True, capture_output=True,
                         text=True, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> list[str]:
    lines = ["| game | steps | hand-written s/step | ganrun s/step | ratio (median of pairs) | peak RSS MiB hand / ganrun |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for game in GAMES:
        for steps in sorted({r["steps"] for r in results}):
            rows = [r for r in results if r["game"] == game and r["steps"] == steps]
            if not rows:
                continue
            by = {v: [r for r in rows if r["variant"] == v] for v in ("plain", "ganrun")}
            ratios = [g["seconds_per_step"] / p["seconds_per_step"] for p, g in zip(by["plain"], by["ganrun"])]
            med = {v: statistics.median(r["seconds_per_step"] for r in by[v]) for v in by}
            peak = {v: max(r["peak_mib"] for r in by[v]) for v in by}
            lines.append(f"| {game} | {steps} | {med['plain']:.3f} | {med['ganrun']:.3f} | "
                         f"{statistics.median(ratios):.3f} | {peak['plain']:.0f} / {peak['ganrun']:.0f} |")
    return lines


def main(argv: list[str] | None = None) -> list[str]:
    p = argparse.ArgumentParser()
    p.add_argument("--job")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--log-every", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--games", default="pix2pix,cyclegan")
    p.add_argument("--root", default=None, help="dataset.root (default: the shared data of each preset)")
    args = p.parse_args(argv)
    if args.job:
        print(json.dumps(measure(json.loads(args.job))))
        return []
    results = []
    for game in args.games.split(","):
        root = args.root or str(SHARED / ("edges2shoes_handbags/shoes" if game == "pix2pix" else "shoes2handbags"))
        for steps in (args.steps, 2 * args.steps):
            for _ in range(args.repeats):
                for variant in ("plain", "ganrun"):  # paired: each ganrun run right after its plain one
                    results.append(in_child({"game": game, "variant": variant, "steps": steps,
                                             "log_every": args.log_every, "root": root}))
    lines = table(results)
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
