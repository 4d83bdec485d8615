"""Mode coverage on the 2-D mixtures: ns, unrolled and pacgan, each at its defaults, on ring and grid.

For each method and dataset: train with `ganrun.train.run` (the CLI's loop, in process), draw 2,500
samples from the final G (eval mode) and score them with `ganrun.metrics.modes.mode_metrics`, the
VEEGAN / PacGAN protocol: modes captured, % high-quality samples (within 3 std of a mode), and the
reverse KL of the mode histogram. Prints a Markdown table (docs/mode_collapse.md holds one run).

    python scripts/mode_collapse.py                      # all six runs, seed 0
    python scripts/mode_collapse.py --methods ns --datasets ring --seeds 0 1 --steps 500
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from omegaconf import open_dict

from ganrun import experiment, loop
from ganrun.games.gan import generate
from ganrun.config.compose import CONF_DIR
from ganrun.config.checks import validate
from ganrun.config.schemas import register_schemas
from ganrun.metrics.modes import mode_metrics
from ganrun.sampling import LATENT_PRIORS

# Each method as a user would run it: the plain non-saturating GAN on the mlp family, and the
# two presets with their papers' settings.
METHODS = {
    "ns": ["architecture=mlp", "objective=ns"],
    "unrolled": ["experiment=unrolled_ring"],
    "pacgan": ["experiment=pacgan_grid"],
}
QUIET = ["trainer.device=cpu", "trainer.progress=off", "trainer.sample_every=0", "trainer.checkpoint_every=0",
         "trainer.log_every=500", "metrics=none"]


def configure(method: str, dataset: str, seed: int, steps: int | None) -> object:
    overrides = [*METHODS[method], f"dataset={dataset}", f"seed={seed}", *QUIET]
    overrides += [f"trainer.steps={steps}"] if steps else []
    register_schemas()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    validate(cfg)
    with open_dict(cfg):
        cfg.pop("hydra", None)
    return cfg, overrides


def measure(method: str, dataset: str, seed: int, steps: int | None, num_points: int) -> dict:
    cfg, overrides = configure(method, dataset, seed, steps)
    built = {}
    real_build = loop.build

    def keep(cfg, device, **kw):
        built["exp"] = real_build(cfg, device, **kw)
        return built["exp"]

    loop.build = keep
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            loop.run(cfg, Path(run_dir))
    finally:
        loop.build = real_build
    seconds = time.perf_counter() - started
    exp = built["exp"]
    z = LATENT_PRIORS[cfg.tricks.latent](num_points, exp.game.latent_dim, generator=torch.Generator().manual_seed(1234))
    points = generate(exp.generator, z)
    scores = mode_metrics(points, exp.game.dataset.modes, exp.game.dataset.std)
    return {"method": method, "dataset": dataset, "seed": seed, "steps": cfg.trainer.steps, "seconds": seconds,
            "command": "ganrun train " + " ".join(o for o in overrides if o not in QUIET), **scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=None, help="default: each config's trainer.steps")
    parser.add_argument("--num-points", type=int, default=2500)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 on a shared machine)")
    args = parser.parse_args()
    # One thread: on a shared 2-core machine, two OpenMP threads per process spin against the other
    # processes and ran ~15x slower (measured: 30 ns steps on the ring took 37 s with 2 threads, 2.4 s with 1).
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    print("| dataset | method | seed | steps | modes | high quality % | reverse KL | train s | command |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for dataset in args.datasets:
        for method in args.methods:
            for seed in args.seeds:
                r = measure(method, dataset, seed, args.steps, args.num_points)
                total = 8 if dataset == "ring" else 25
                print(f"| {dataset} | {method} | {seed} | {r['steps']} | {r['modes']:.0f} / {total} | {r['hq']:.1f} | "
                      f"{r['reverse_kl']:.3f} | {r['seconds']:.0f} | `{r['command']}` |", flush=True)


if __name__ == "__main__":
    main()
