"""Benchmark ganrun's training step against the DCGAN loop a user writes by hand, and its FID against torch-fidelity.

    python scripts/bench.py                                  # the default config (digits 8x8, batch 64)
    python scripts/bench.py dataset.resolution=64 dataset.channels=3 trainer.batch_size=256 --device cuda
    python scripts/bench.py --smoke                          # a few seconds: the test suite runs it

Training. Every row trains the DCGAN of the composed config (Hydra overrides as arguments) on the same
data and batch. ganrun's rows call `ganrun.train.run` itself, the loop users run, timed from the wall
times of its own TensorBoard scalars between the first logging step (warm-up and compilation behind
it) and the last. The plain row is scripts/plain_dcgan.py, timed at the same logging steps. Each
run is a fresh process (--in-process: one process, no memory figures), so its peak memory is its
own: RSS on the CPU, allocated bytes on CUDA. Rows run at two lengths (steps, and --long x steps):
equal peaks mean nothing piles up. Rows are interleaved, repeated, and reported as medians. On CUDA,
MFU = counted FLOPs per step / step time / a measured bf16 matmul peak.

FID: see bench_fid.py. Writes a Markdown report (machine, versions, command, tables) to stdout and --out.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

import plain_dcgan
from ganrun.cli import CONF_DIR
from ganrun.config import register_schemas, validate

# name -> (ganrun overrides, or None for the hand-written loop; what the row is)
VARIANTS = {
    "plain": (None, "hand-written loop (pytorch/examples' DCGAN: BCE on sigmoid, one z batch reused for G)"),
    "ganrun": ([], "ganrun defaults: Algorithm 1, a fresh z batch for G (one more G forward)"),
    "ganrun-reuse": (["trainer.reuse_fake=true"], "ganrun, trainer.reuse_fake=true: G reuses the D step's fakes"),
    "ganrun-loader": (["trainer.data_on_device=false"], "ganrun, trainer.data_on_device=false (DataLoader)"),
    "ganrun-bf16": (["trainer.precision=bf16"], "ganrun, trainer.precision=bf16 (autocast)"),
    "ganrun-fast": (["trainer=fast"], "ganrun, trainer=fast: bf16 + channels_last + torch.compile"),
    "ganrun-fast-reuse": (["trainer=fast", "trainer.reuse_fake=true"], "ganrun, trainer=fast + reuse_fake"),
}
DEFAULT_VARIANTS = {"cpu": "plain,ganrun,ganrun-reuse",
                    "cuda": "plain,ganrun,ganrun-reuse,ganrun-fast,ganrun-fast-reuse"}
SMOKE = ["architecture.generator.width=8", "architecture.discriminator.width=8", "trainer.batch_size=16"]


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

    from ganrun import train

    with contextlib.redirect_stdout(io.StringIO()):
        train.run(cfg, folder)
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    return [(event.step, event.wall_time) for event in events.Scalars("loss/G")]


def plain_log(cfg, device: torch.device) -> list[tuple[int, float]]:
    dataset = instantiate(cfg.dataset)
    torch.manual_seed(cfg.seed)
    shape = tuple(dataset.data_shape)
    netG = instantiate(cfg.architecture.generator, data_shape=shape)
    netD = instantiate(cfg.architecture.discriminator, data_shape=shape)
    log = plain_dcgan.train(netG, netD, dataset, nz=cfg.architecture.latent_dim, batch_size=cfg.trainer.batch_size,
                            steps=cfg.trainer.steps, log_every=cfg.trainer.log_every, device=device)
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
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], check=True, capture_output=True,
                         text=True)
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


# ---------------------------------------------------------------- report


def machine(device: torch.device) -> list[str]:
    import torch_fidelity

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    lines = [f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- CPU: {cpu}, {os.cpu_count()} cores; torch threads: {torch.get_num_threads()}",
             f"- python {platform.python_version()}, torch {torch.__version__}, "
             f"torch-fidelity {torch_fidelity.__version__}"]
    if device.type == "cuda":
        lines.append(f"- GPU: {torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}")
    return lines


def train_table(results: list[dict], variants: list[str], batch: int, mfu_peak: float | None,
                flops: dict[str, float]) -> str:
    plain = statistics.median(r["seconds_per_step"] for r in results if r["variant"] == "plain")
    lengths = sorted({r["steps"] for r in results})
    memory = " | ".join(f"peak MiB, {n} steps" for n in lengths)
    lines = [f"| row | what | ms/step | img/s | step time / plain's | {memory} | MFU |",
             "| --- | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in lengths) + " | ---: |"]
    for name in variants:
        rows = [r for r in results if r["variant"] == name]
        step = statistics.median(r["seconds_per_step"] for r in rows)
        peaks = [max(r["peak_bytes"] for r in rows if r["steps"] == n) for n in lengths]
        isolated = all(r["isolated"] for r in rows)  # one process for every run: its peak says nothing per row
        peaks_text = " | ".join(f"{p / 2**20:.0f}" if isolated else "—" for p in peaks)
        mfu = f"{flops[name] / step / mfu_peak:.1%}" if mfu_peak and name in flops else "—"
        lines.append(f"| `{name}` | {VARIANTS[name][1]} | {step * 1e3:.2f} | {batch / step:.0f} | "
                     f"{step / plain:.3f} | {peaks_text} | {mfu} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of ganrun's config (dataset, widths, batch)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--variants", help=f"comma-separated rows from {', '.join(VARIANTS)}")
    parser.add_argument("--steps", type=int, default=200, help="timed steps of the short run")
    parser.add_argument("--long", type=int, default=4, help="the long run times this many times --steps")
    parser.add_argument("--log-every", type=int, default=25, help="logging interval; the first one is warm-up")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads in every run (default: torch's)")
    parser.add_argument("--in-process", action="store_true", help="no subprocesses (no memory figures)")
    parser.add_argument("--fid-samples", type=int, default=10_000, help="0: no FID section")
    parser.add_argument("--fid-features", default="inception", choices=["inception", "classifier"])
    parser.add_argument("--inception-weights", help="torch-fidelity's Inception file (default: the torch hub cache)")
    parser.add_argument("--smoke", action="store_true", help="tiny widths and runs: seconds")
    parser.add_argument("--out", type=Path, help="also write the report here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(json.loads(args.worker))))
        return ""
    if args.smoke:
        args.overrides = SMOKE + args.overrides
        args.steps, args.long, args.log_every, args.repeats, args.in_process = 10, 2, 5, 1, True
        args.fid_samples, args.fid_features = min(args.fid_samples, 100), "classifier"
    limit_threads(args.threads)
    device = torch.device(args.device)
    variants = (args.variants or DEFAULT_VARIANTS.get(device.type, DEFAULT_VARIANTS["cpu"])).split(",")
    if "plain" not in variants:
        variants.insert(0, "plain")
    load_before = os.getloadavg()

    results = []
    for repeat in range(args.repeats):
        for steps in (args.steps, args.steps * args.long):
            for name in variants[repeat % len(variants):] + variants[:repeat % len(variants)]:  # rotate the order
                job = {"variant": name, "overrides": args.overrides, "steps": steps, "log_every": args.log_every,
                       "device": str(device), "threads": args.threads}
                result = measure(job) if args.in_process else measure_in_child(job)
                results.append({**result, "isolated": not args.in_process})
                print(f"{name:18s} {steps:5d} steps: {result['seconds_per_step'] * 1e3:8.2f} ms/step", file=sys.stderr)
    cfg = compose_config(args.overrides)
    mfu_peak, flops = None, {}
    if device.type == "cuda":
        mfu_peak = bf16_matmul_peak(device)
        eager = {"ganrun-fast": "ganrun", "ganrun-fast-reuse": "ganrun-reuse"}  # same arithmetic
        counted = {v: step_flops({"variant": v, "overrides": args.overrides, "device": str(device), "threads": None})
                   for v in {eager.get(v, v) for v in variants}}
        flops = {v: counted[eager.get(v, v)] for v in variants}

    shape = f"{cfg.dataset.channels}x{cfg.dataset.resolution}x{cfg.dataset.resolution}"
    report = ["# ganrun benchmark", "", *machine(device),
              f"- load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}; "
              f"after training rows: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
              f"- command: `python scripts/bench.py {' '.join(argv if argv is not None else sys.argv[1:])}`", "",
              f"## Training step: {cfg.architecture.name} (G width {cfg.architecture.generator.width}, "
              f"D width {cfg.architecture.discriminator.width}) on {cfg.dataset.name} {shape}, batch "
              f"{cfg.trainer.batch_size}, {device.type}", "",
              f"Median of {args.repeats} repeats x 2 run lengths; each run warms up for {args.log_every} steps.", "",
              train_table(results, variants, cfg.trainer.batch_size, mfu_peak, flops)]
    if mfu_peak:
        report += ["", f"MFU against a measured bf16 matmul peak of {mfu_peak / 1e12:.0f} TFLOP/s."]
    if args.fid_samples:
        import bench_fid

        weights_note = "weights from --inception-weights or the torch hub cache"
        weights = args.inception_weights
        if args.fid_features == "inception" and weights is None:
            from ganrun.metrics import save_random_weights
            from ganrun.metrics.inception import resolve_weights
            from ganrun.config import ConfigError

            try:
                resolve_weights(None)
            except ConfigError:  # offline: the same network with random weights times the same
                weights = str(save_random_weights(Path(tempfile.gettempdir()) / "bench-random-inception.pth"))
                weights_note = "random weights: no download here; the same network and arithmetic"
        rows = bench_fid.fid_rows(cfg, samples=args.fid_samples, features=args.fid_features, weights=weights,
                                  device=device)
        report += ["", f"## FID throughput, {device.type}", "",
                   bench_fid.fid_table(rows, args.fid_features, weights_note)]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return text


if __name__ == "__main__":
    main()
