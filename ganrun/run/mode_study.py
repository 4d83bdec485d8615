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
from typing import Any, Callable

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
    write_record(cfg, run_dir, scores, time.perf_counter() - started, METRICS, batched=batched)


def write_record(cfg: DictConfig, run_dir: Path, scores: list[dict], seconds: float, metrics: tuple,
                 **extra: Any) -> None:
    """study.json (the job's method, mixture, wall time, every score, `extra`) and final.json (each
    metric's mean over the seeds at the last step, which the sweep's summary reads)."""
    record = {"method": cfg.study.method, "dataset": cfg.dataset.name, **extra,
              "seconds": round(seconds, 1), "scores": scores}
    (run_dir / STUDY_FILE).write_text(json.dumps(record, indent=1))
    final = [s for s in scores if s["step"] == cfg.trainer.steps]
    means = {f"metrics/{key}": float(np.mean([s[key] for s in final])) for key, _, _ in metrics}
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
    scored at every step of `score_steps` as its run passes it (`scored_runs`)."""
    from ganrun.run.batched_study import Trained, samples_of

    def score(game: Any, seed: int, step: int) -> dict:
        trained = Trained(seed, game.generator, game.dataset, game.latent_dim)
        result = save_scores(run_dir, seed, step, samples_of(trained), game.dataset)
        print(f"[ganrun study] seed {seed} step {step}: {result['modes']:.0f} modes {result['hq']:.1f}% hq", flush=True)
        return result

    return scored_runs(cfg, score)


def scored_runs(cfg: DictConfig, score: Callable[[Any, int, int], dict]) -> list[dict]:
    """Each seed of `study.seeds` trained by `ganrun train`'s loop, `score(game, seed, step)` called for
    each step of `score_steps` as the run passes it; the scores in order. Scoring must leave the run's
    trajectory as it is: samples in eval mode (no batch-norm update) from latents of their own generator
    (no draw from the run's random stream), so step N's scores are those of a run stopped at N."""
    from ganrun import loop

    scores: list[dict] = []
    real_build = loop.build
    for seed in cfg.study.seeds:
        loop.build = _scoring(real_build, int(seed), set(score_steps(cfg)), score, scores)
        try:
            with tempfile.TemporaryDirectory() as scratch:
                loop.run(OmegaConf.merge(cfg, {"seed": int(seed)}), Path(scratch))
        finally:
            loop.build = real_build
    return scores


def _scoring(build: Any, seed: int, steps: set[int], score: Callable[[Any, int, int], dict], scores: list[dict]) -> Any:
    """`loop.build` whose game also scores its generator after `end_step(step)` for each step in `steps`."""

    def scored_build(*args: Any, **kwargs: Any) -> Any:
        exp = build(*args, **kwargs)
        game, end_step = exp.game, exp.game.end_step

        def end_step_and_score(step: int) -> dict:
            terms = end_step(step)
            if step in steps:  # after both updates of this step: the generator of a run of `step` steps
                scores.append(score(game, seed, step))
            return terms

        game.end_step = end_step_and_score
        return exp

    return scored_build


# ---------------------------------------------------------------- the table


def collect(sweep_dir: Path, rescore: Callable[[Path], dict] | None = None) -> list[dict]:
    """Every job's study.json in a sweep folder; a job stopped before its end (no study.json) is
    rescored from the samples it saved (`rescore(job)`, default `rescored`; its wall time unknown: NaN)."""
    records = []
    for job in sorted(p for p in Path(sweep_dir).iterdir() if p.is_dir()):
        if (job / STUDY_FILE).is_file():
            records.append(json.loads((job / STUDY_FILE).read_text()))
        elif any(job.glob("samples_seed*_step*.npz")) and (job / ".hydra" / "config.yaml").is_file():
            records.append((rescore or rescored)(job))
    return records


def rescored(job: Path) -> dict:
    """A job's record recomputed from its saved samples (`mode_metrics` on each .npz)."""
    import torch

    from ganrun.metrics.modes import mode_metrics

    def metrics(saved: Any) -> dict[str, float]:
        return mode_metrics(torch.from_numpy(saved["points"]), torch.from_numpy(saved["modes"]), float(saved["std"]))

    return rescored_with(job, metrics)


def rescored_with(job: Path, metrics: Callable[[Any], dict[str, float]]) -> dict:
    """A job's record from its `samples_seed<S>_step<N>.npz` files, `metrics(np.load(file))` for each."""
    cfg = OmegaConf.load(job / ".hydra" / "config.yaml")
    scores = []
    for path in sorted(job.glob("samples_seed*_step*.npz")):
        seed, step = (int(part) for part in path.stem.removeprefix("samples_seed").split("_step"))
        scores.append({"seed": seed, "step": step, **metrics(np.load(path))})
    return {"method": str(cfg.study.method), "dataset": str(cfg.dataset.name), "seconds": math.nan, "scores": scores}


def table(records: list[dict], paper: dict | None, metrics: tuple = METRICS) -> str:
    """Markdown: one row per (dataset, method, step), each of `metrics` ((key, column, digits), ...) as
    mean ± s.e. over seeds, the paper's beside."""
    paper = paper or {}
    header = ["dataset", "method", "steps", "seeds"] + [name for _, name, _ in metrics] + \
             [f"paper: {name}" for _, name, _ in metrics] + ["wall s"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for record in records:
        for step in sorted({s["step"] for s in record["scores"]}):
            rows = [s for s in record["scores"] if s["step"] == step]
            ours = []
            for key, _, digits in metrics:
                mean, error = mean_and_error([float(r[key]) for r in rows])
                ours.append(f"{mean:.{digits}f} ± {error:.{digits}f}")
            theirs = (paper.get(record["dataset"]) or {}).get(record["method"])
            theirs = [str(v) for v in theirs] if theirs else ["–"] * len(metrics)
            lines.append("| " + " | ".join([record["dataset"], record["method"], str(step), str(len(rows)), *ours,
                                            *theirs, wall(record["seconds"])]) + " |")
    return "\n".join(lines) + "\n"


def wall(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds:.0f}"


def write_table(sweep_dir: Path, paper: dict | None, title: str = "", *, metrics: tuple = METRICS,
                rescore: Callable[[Path], dict] | None = None,
                notes: Callable[[list[dict]], str] | None = None) -> Path:
    """table.md in the sweep folder: the title, `notes(records)` (a paragraph above the table), the table."""
    records = collect(sweep_dir, rescore)
    head = (f"# {title}\n\n" if title else "") + (f"{notes(records)}\n\n" if notes else "")
    path = Path(sweep_dir) / TABLE_FILE
    path.write_text(head + table(records, paper, metrics))
    return path


class StudyTable(Callback):
    """Hydra callback of a study preset: its table.md in the sweep folder when the multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        paper = OmegaConf.to_container(config.study.paper, resolve=True) if config.study.get("paper") else None
        path = self.write(Path(config.hydra.sweep.dir), paper, config.study.get("name", ""))
        print(path.read_text())

    def write(self, sweep_dir: Path, paper: dict | None, title: str) -> Path:
        return write_table(sweep_dir, paper, title)
