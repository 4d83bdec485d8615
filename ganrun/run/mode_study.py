"""2-D mode-collapse studies (PacGAN Table 1, VEEGAN's): one Hydra job per method and mixture trains
every seed of `study.seeds` (together, on the batched path, when it replays the run exactly; else one
after another with the CLI's loop), scores 2,500 samples of each seed at each step of
`study.score_steps`, and saves them; at the end of the multirun, `StudyTable` writes the table (mean
and standard error over seeds, the paper's numbers beside) into the sweep folder.

Job folder: `samples_seed<S>_step<N>.npz` (points, modes, std: enough to recompute every metric) and
`study.json` {"method", "dataset", "seconds", "scores": [{"seed", "step", "modes", "hq", "reverse_kl"}]}.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from ganrun.run.seed_table import mean_and_error

STUDY_FILE = "study.json"
TABLE_FILE = "table.md"
METRICS = (("modes", "modes", 1), ("hq", "high quality %", 1), ("reverse_kl", "reverse KL", 2))


def score_steps(cfg: DictConfig) -> list[int]:
    steps = sorted({int(s) for s in (cfg.study.get("score_steps") or []) if int(s) < cfg.trainer.steps})
    return [*steps, int(cfg.trainer.steps)]


def save_scores(run_dir: Path, seed: int, step: int, points: np.ndarray, dataset: Any) -> dict[str, float]:
    from ganrun.run.batched_study import score

    np.savez(run_dir / f"samples_seed{seed}_step{step}.npz", points=points, modes=dataset.modes.numpy(),
             std=np.float64(dataset.std))
    return {"seed": seed, "step": step, **score(points, dataset)}


def run_job(cfg: DictConfig, run_dir: Path) -> None:
    """Train and score every seed of the study for this job's method and mixture."""
    from ganrun.errors import ConfigError
    from ganrun.run.batched import check_supported

    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        check_supported(cfg)
        batched = True
    except ConfigError:
        batched = False
    started = time.perf_counter()
    scores = (_batched(cfg, run_dir) if batched else _separate(cfg, run_dir))
    seconds = time.perf_counter() - started
    record = {"method": cfg.study.method, "dataset": cfg.dataset.name, "batched": batched,
              "seconds": round(seconds, 1), "scores": scores}
    (run_dir / STUDY_FILE).write_text(json.dumps(record, indent=1))
    final = [s for s in scores if s["step"] == cfg.trainer.steps]
    means = {f"metrics/{key}": float(np.mean([s[key] for s in final])) for key, _, _ in METRICS}
    (run_dir / "final.json").write_text(json.dumps({"step": int(cfg.trainer.steps), "scalars": means}, indent=1))


def _batched(cfg: DictConfig, run_dir: Path) -> list[dict]:
    from ganrun.run.batched_study import Trained, build_batched, samples_of

    runs, built = build_batched(cfg, list(cfg.study.seeds))
    scores, done = [], 0
    for step in score_steps(cfg):
        runs.train(step - done)
        done = step
        runs.finish()  # copies each seed's weights into its own modules; training goes on from the stack
        for seed, game in zip(cfg.study.seeds, built):
            trained = Trained(seed, game.generator, game.dataset, game.latent_dim)
            scores.append(save_scores(run_dir, seed, step, samples_of(trained), game.dataset))
        print(f"[ganrun study] step {step}: " + ", ".join(f"seed {s['seed']} {s['modes']:.0f} modes {s['hq']:.1f}% hq"
                                                          for s in scores[-len(built):]), flush=True)
    return scores


def _separate(cfg: DictConfig, run_dir: Path) -> list[dict]:
    """Seeds the batched path cannot replay (e.g. Unrolled GAN): `ganrun train`'s loop per seed, each seed
    scored at every step of `score_steps` as its run passes it. Scoring leaves the run's trajectory as it
    is: the samples come in eval mode (no batch-norm update) from latents of their own generator (no
    draw from the run's random stream), so step N's scores are those of a run stopped at N."""
    from ganrun import loop

    scores: list[dict] = []
    real_build = loop.build
    for seed in cfg.study.seeds:
        loop.build = _scoring(real_build, int(seed), set(score_steps(cfg)), run_dir, scores)
        try:
            with tempfile.TemporaryDirectory() as scratch:
                loop.run(OmegaConf.merge(cfg, {"seed": int(seed)}), Path(scratch))
        finally:
            loop.build = real_build
    return scores


def _scoring(build: Any, seed: int, steps: set[int], run_dir: Path, scores: list[dict]) -> Any:
    """`loop.build` whose game also scores its generator after `end_step(step)` for each step in `steps`."""
    from ganrun.run.batched_study import Trained, samples_of

    def scored_build(*args: Any, **kwargs: Any) -> Any:
        exp = build(*args, **kwargs)
        game, end_step = exp.game, exp.game.end_step

        def end_step_and_score(step: int) -> dict:
            terms = end_step(step)
            if step in steps:  # after both updates of this step: the generator of a run of `step` steps
                trained = Trained(seed, game.generator, game.dataset, game.latent_dim)
                scores.append(save_scores(run_dir, seed, step, samples_of(trained), game.dataset))
                last = scores[-1]
                print(f"[ganrun study] seed {seed} step {step}: {last['modes']:.0f} modes {last['hq']:.1f}% hq",
                      flush=True)
            return terms

        game.end_step = end_step_and_score
        return exp

    return scored_build


# ---------------------------------------------------------------- the table


def collect(sweep_dir: Path) -> list[dict]:
    """Every job's study.json in a sweep folder; a job stopped before its end (no study.json) is
    rescored from the samples it saved (its wall time unknown: NaN)."""
    records = []
    for job in sorted(p for p in Path(sweep_dir).iterdir() if p.is_dir()):
        if (job / STUDY_FILE).is_file():
            records.append(json.loads((job / STUDY_FILE).read_text()))
        elif any(job.glob("samples_seed*_step*.npz")) and (job / ".hydra" / "config.yaml").is_file():
            records.append(rescored(job))
    return records


def rescored(job: Path) -> dict:
    """A job's record recomputed from its saved samples (`mode_metrics` on each .npz)."""
    import torch

    from ganrun.metrics.modes import mode_metrics

    cfg = OmegaConf.load(job / ".hydra" / "config.yaml")
    scores = []
    for path in sorted(job.glob("samples_seed*_step*.npz")):
        seed, step = (int(part) for part in path.stem.removeprefix("samples_seed").split("_step"))
        saved = np.load(path)
        metrics = mode_metrics(torch.from_numpy(saved["points"]), torch.from_numpy(saved["modes"]), float(saved["std"]))
        scores.append({"seed": seed, "step": step, **metrics})
    return {"method": str(cfg.study.method), "dataset": str(cfg.dataset.name), "seconds": math.nan, "scores": scores}


def table(records: list[dict], paper: dict | None) -> str:
    """Markdown: one row per (dataset, method, step), each metric as mean ± s.e. over seeds, the paper's beside."""
    paper = paper or {}
    header = ["dataset", "method", "steps", "seeds"] + [name for _, name, _ in METRICS] + \
             [f"paper: {name}" for _, name, _ in METRICS] + ["wall s"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for record in records:
        for step in sorted({s["step"] for s in record["scores"]}):
            rows = [s for s in record["scores"] if s["step"] == step]
            ours = []
            for key, _, digits in METRICS:
                mean, error = mean_and_error([float(r[key]) for r in rows])
                ours.append(f"{mean:.{digits}f} ± {error:.{digits}f}")
            theirs = paper.get(record["dataset"], {}).get(record["method"])
            theirs = [str(v) for v in theirs] if theirs else ["–"] * len(METRICS)
            lines.append("| " + " | ".join([record["dataset"], record["method"], str(step), str(len(rows)), *ours,
                                            *theirs, wall(record["seconds"])]) + " |")
    return "\n".join(lines) + "\n"


def wall(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds:.0f}"


def write_table(sweep_dir: Path, paper: dict | None, title: str = "") -> Path:
    path = Path(sweep_dir) / TABLE_FILE
    path.write_text((f"# {title}\n\n" if title else "") + table(collect(sweep_dir), paper))
    return path


class StudyTable(Callback):
    """Hydra callback of a study preset: its table.md in the sweep folder when the multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        paper = OmegaConf.to_container(config.study.paper, resolve=True) if config.study.get("paper") else None
        path = write_table(Path(config.hydra.sweep.dir), paper, title=config.study.get("name", ""))
        print(path.read_text())
