"""The training rows of scripts/bench.py: one timed run of ganrun's loop or of the hand-written one.

`measure(job)` trains in this process and returns seconds per step and the peak memory;
`measure_in_child(job)` runs it in a fresh process (`python scripts/bench_train.py JOB_JSON`), so
the peak is that run's alone and compile caches start cold. ganrun's runs call `ganrun.train.run`
itself and are timed from the wall times of its own TensorBoard scalars, between the first logging
step (warm-up and compilation behind it) and the last; the plain loop reports the same instants.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

import plain_dcgan
import plain_lapgan
import plain_mocogan
import plain_unit
from ganrun.config.compose import CONF_DIR
from ganrun.config.checks import validate
from ganrun.config.schemas import register_schemas

# name -> (ganrun overrides, or None for the hand-written loop; what the row is)
VARIANTS = {
    "plain": (None, "hand-written loop (pytorch/examples' DCGAN: BCE on sigmoid, one z batch reused for G; "
                    "game=mocogan: scripts/plain_mocogan.py; game=unit: scripts/plain_unit.py; "
                    "game=lapgan: scripts/plain_lapgan.py)"),
    "ganrun": ([], "ganrun defaults: Algorithm 1, a fresh z batch for G (one more G forward)"),
    "ganrun-reuse": (["trainer.reuse_fake=true"], "ganrun, trainer.reuse_fake=true: G reuses the D step's fakes"),
    "ganrun-loader": (["trainer.data_on_device=false"], "ganrun, trainer.data_on_device=false (DataLoader)"),
    "ganrun-bf16": (["trainer.precision=bf16"], "ganrun, trainer.precision=bf16 (autocast)"),
    "ganrun-fast": (["trainer=fast"], "ganrun, trainer=fast: bf16 + channels_last + torch.compile"),
    "ganrun-fast-reuse": (["trainer=fast", "trainer.reuse_fake=true"], "ganrun, trainer=fast + reuse_fake"),
}
DEFAULT_VARIANTS = {"cpu": "plain,ganrun,ganrun-reuse",
                    "cuda": "plain,ganrun,ganrun-reuse,ganrun-fast,ganrun-fast-reuse"}
def compose_config(overrides: list[str]):
    register_schemas()
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    validate(cfg)
    return cfg


def run_config(job: dict):
    timing = [f"trainer.steps={job['log_every'] + job['steps']}", f"trainer.log_every={job['log_every']}",
              "trainer.sample_every=0", "trainer.checkpoint_every=0", "trainer.progress=off",
              f"trainer.device={job['device']}", "metrics=none"]
    return compose_config(job["overrides"] + (VARIANTS[job["variant"]][0] or []) + timing)


def ganrun_log(cfg, folder: Path) -> list[tuple[int, float]]:
    """(step, wall time) of every logging step of a real `ganrun.train.run`, from its event file."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from ganrun import experiment, loop

    with contextlib.redirect_stdout(io.StringIO()):
        loop.run(cfg, folder)
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    return [(event.step, event.wall_time) for event in events.Scalars("loss/G")]


def one_g_one_d_log(plain_loop):
    """The bench's entry for a hand-written loop of one G against one D (plain_dcgan, plain_lapgan): the
    run's networks, built as ganrun builds them, handed to `plain_loop.train`."""
    def log(cfg, dataset, shape: tuple, device: torch.device) -> list:
        netG = instantiate(cfg.architecture.generator, data_shape=shape)
        netD = instantiate(cfg.architecture.discriminator, data_shape=shape)
        return plain_loop.train(netG, netD, dataset, nz=cfg.architecture.latent_dim,
                                batch_size=cfg.trainer.batch_size, steps=cfg.trainer.steps,
                                log_every=cfg.trainer.log_every, device=device)
    return log


def plain_mocogan_log(cfg, dataset, shape: tuple, device: torch.device) -> list:
    arch = cfg.architecture
    netG = instantiate(arch.generator, data_shape=shape)
    netDI = instantiate(arch.discriminator.image, data_shape=shape)
    netDV = instantiate(arch.discriminator.video, data_shape=shape)
    return plain_mocogan.train(netG, netDI, netDV, dataset, batch_size=cfg.trainer.batch_size,
                               steps=cfg.trainer.steps, log_every=cfg.trainer.log_every, device=device)


def plain_unit_log(cfg, dataset, shape: tuple, device: torch.device) -> list:
    vae = instantiate(cfg.architecture.generator, data_shape=shape)
    netD = instantiate(cfg.architecture.discriminator, data_shape=shape)
    return plain_unit.train(vae, netD, dataset.domains, batch_size=cfg.trainer.batch_size, steps=cfg.trainer.steps,
                            log_every=cfg.trainer.log_every, device=device)


# game -> the hand-written loop its row is compared with (the same networks, data and batch)
PLAIN_LOOPS = {"gan": one_g_one_d_log(plain_dcgan), "mocogan": plain_mocogan_log, "unit": plain_unit_log,
               "lapgan": one_g_one_d_log(plain_lapgan)}


def plain_log(cfg, device: torch.device) -> list[tuple[int, float]]:
    dataset = instantiate(cfg.dataset)
    torch.manual_seed(cfg.seed)
    log = PLAIN_LOOPS[cfg.game.name](cfg, dataset, tuple(dataset.data_shape), device)
    return [(step, stamp) for step, _, _, stamp in log]


def limit_threads(threads: int | None) -> None:
    """torch's intra-op threads and numpy's BLAS pools (torch-fidelity's KID): on a shared machine,
    threads spinning for cores that others hold can slow a step twentyfold."""
    if threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(threads)
        threadpool_limits(limits=threads)


def measure(job: dict) -> dict:
    """One timed run in this process: seconds per step between the first and the last logging step."""
    limit_threads(job["threads"])
    cfg = run_config(job)
    device = torch.device(job["device"])
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with tempfile.TemporaryDirectory() as folder:
        log = plain_log(cfg, device) if job["variant"] == "plain" else ganrun_log(cfg, Path(folder))
    (first, start), (last, end) = log[0], log[-1]
    peak = (torch.cuda.max_memory_allocated(device) if device.type == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)  # Linux: kilobytes
    return {**job, "seconds_per_step": (end - start) / (last - first), "peak_bytes": peak}


def measure_in_child(job: dict) -> dict:
    """`measure` in a fresh Python process: its peak memory and compile caches are its own."""
    out = subprocess.run([sys.executable, __file__, json.dumps(job)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- FLOPs and MFU (CUDA)


def step_flops(job: dict) -> float:
    """FLOPs of one step, counted as the difference of a 2-step and a 1-step run (setup cancels),
    eagerly in fp32 (compile and precision change the speed, not the arithmetic)."""
    from torch.utils.flop_counter import FlopCounterMode

    def count(steps: int) -> int:
        eager = {**job, "steps": steps - 1, "log_every": 1, "overrides": job["overrides"] + [
            "trainer.compile=false", "trainer.precision=fp32"] * (job["variant"] != "plain")}
        cfg, device = run_config(eager), torch.device(job["device"])
        with FlopCounterMode(display=False) as counter, tempfile.TemporaryDirectory() as folder:
            plain_log(cfg, device) if job["variant"] == "plain" else ganrun_log(cfg, Path(folder))
        return counter.get_total_flops()

    return float(count(3) - count(2))


def bf16_matmul_peak(device: torch.device, n: int = 8192, repeats: int = 20) -> float:
    a, b = (torch.randn(n, n, device=device, dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3):
        a @ b
    torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize(device)
    return 2 * n**3 * repeats / (time.perf_counter() - start)


def optimizer_step_times(cfg, repeats: int = 50) -> dict[str, float]:
    """Seconds per Adam step over G's and D's parameters (random gradients), per implementation."""
    shape = (cfg.dataset.channels, cfg.dataset.resolution, cfg.dataset.resolution)
    params = [p for node in (cfg.architecture.generator, cfg.architecture.discriminator)
              for p in instantiate(node, data_shape=shape).parameters()]
    times = {}
    for name, options in (("for-loop", {"foreach": False}), ("foreach", {"foreach": True}), ("fused", {"fused": True})):
        optimizer = torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), **options)
        for p in params:
            p.grad = torch.randn_like(p)
        for _ in range(5):
            optimizer.step()
        start = time.perf_counter()
        for _ in range(repeats):
            optimizer.step()
        times[name] = (time.perf_counter() - start) / repeats
    return times


if __name__ == "__main__":
    print(json.dumps(measure(json.loads(sys.argv[1]))))
