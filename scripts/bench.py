"""Benchmark ganrun's training step against the DCGAN loop a user writes by hand, and its FID against torch-fidelity.

    python scripts/bench.py                                  # the default config (digits 8x8, batch 64)
    python scripts/bench.py dataset.resolution=64 dataset.channels=3 trainer.batch_size=256 --device cuda
    python scripts/bench.py --smoke                          # a few seconds: the test suite runs it
    python scripts/bench.py game=mocogan dataset.root=../shared/data dataset.resolution=32 dataset.frames=8 \
        dataset.num_digits=1 dataset.size=2000 trainer.batch_size=16 architecture.generator.width=16 \
        architecture.discriminator.image.width=16 architecture.discriminator.video.width=16 --variants ganrun \
        --no-optimizer --fid-samples 0
                                                             # MoCoGAN vs scripts/plain_mocogan.py
    python scripts/bench.py game=unit dataset.root=../shared/data dataset.download=false dataset.resolution=32 \
        architecture.generator.width=8 architecture.discriminator.width=8 architecture.latent_dim=16 \
        trainer.batch_size=32 --variants ganrun --no-optimizer --fid-samples 0 --threads 1
                                                             # UNIT vs scripts/plain_unit.py

Training. Every row trains the DCGAN of the composed config (Hydra overrides as arguments) on the same
data and batch. ganrun's rows call `ganrun.train.run` itself, the loop users run, timed from the wall
times of its own TensorBoard scalars between the first logging step (warm-up and compilation behind
it) and the last. The plain row is scripts/plain_dcgan.py, timed at the same logging steps. Each
run is a fresh process (--in-process: one process, no memory figures), so its peak memory is its
own: RSS on the CPU, allocated bytes on CUDA. Rows run at two lengths (steps, and --long x steps):
equal peaks mean nothing piles up. Rows are interleaved, repeated, and reported as medians. On CUDA,
MFU = counted FLOPs per step / step time / a measured bf16 matmul peak.

Also the Adam step alone (for-loop, foreach, fused) over the same networks' parameters, and FID:
see bench_fid.py. Writes a Markdown report (machine, versions, command, tables) to stdout and --out.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import torch

import bench_train as bt

SMOKE = ["architecture.generator.width=8", "architecture.discriminator.width=8", "trainer.batch_size=16"]


# ---------------------------------------------------------------- report


def load_average() -> str:
    """Other jobs on this machine: the figures are only as quiet as this."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def network_widths(arch) -> str:
    """'G width 64, D width 64', or for a game with several Ds (MoCoGAN) each D's width by name."""
    d = arch.discriminator
    parts = [f"D width {d.width}"] if "width" in d else [f"D_{name} width {node.width}" for name, node in d.items()]
    return ", ".join([f"G width {arch.generator.width}", *parts])


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
    # The load of a shared machine drifts: every run of a row comes right after a run of the plain loop
    # (same length), and the row's ratio is the median of its runs' ratios to those plain runs.
    plain = {r["pair"]: r["seconds_per_step"] for r in results if r["variant"] == "plain"}
    lengths = sorted({r["steps"] for r in results})
    memory = " | ".join(f"peak MiB, {n} steps" for n in lengths)
    lines = [f"| row | what | ms/step | img/s | step time / plain's (paired) | {memory} | MFU |",
             "| --- | --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in lengths) + " | ---: |"]
    for name in variants:
        rows = [r for r in results if r["variant"] == name]
        step = statistics.median(r["seconds_per_step"] for r in rows)
        ratio = statistics.median(r["seconds_per_step"] / plain[r["pair"]] for r in rows)
        peaks = [max(r["peak_bytes"] for r in rows if r["steps"] == n) for n in lengths]
        isolated = all(r["isolated"] for r in rows)  # one process for every run: its peak says nothing per row
        peaks_text = " | ".join(f"{p / 2**20:.0f}" if isolated else "—" for p in peaks)
        mfu = f"{flops[name] / step / mfu_peak:.1%}" if mfu_peak and name in flops else "—"
        lines.append(f"| `{name}` | {bt.VARIANTS[name][1]} | {step * 1e3:.2f} | {batch / step:.0f} | "
                     f"{ratio:.3f} | {peaks_text} | {mfu} |")
    return "\n".join(lines)


def training_section(args: argparse.Namespace, cfg, device: torch.device) -> list[str]:
    variants = (args.variants or bt.DEFAULT_VARIANTS.get(device.type, bt.DEFAULT_VARIANTS["cpu"])).split(",")
    if "plain" not in variants:
        variants.insert(0, "plain")
    results = []
    others = [name for name in variants if name != "plain"]
    for repeat in range(args.repeats):
        for steps in (args.steps, args.steps * args.long):
            for name in others[repeat % len(others):] + others[:repeat % len(others)]:  # rotate the order
                pair = len(results)
                for row in ("plain", name):  # each run right after a plain one: their ratio sees one load
                    job = {"variant": row, "overrides": args.overrides, "steps": steps, "log_every": args.log_every,
                           "device": str(device), "threads": args.threads}
                    result = bt.measure(job) if args.in_process else bt.measure_in_child(job)
                    results.append({**result, "pair": pair, "isolated": not args.in_process})
                    print(f"{row:18s} {steps:5d} steps: {result['seconds_per_step'] * 1e3:8.2f} ms/step",
                          file=sys.stderr)
    mfu_peak, flops = None, {}
    if device.type == "cuda":
        mfu_peak = bt.bf16_matmul_peak(device)
        eager = {"ganrun-fast": "ganrun", "ganrun-fast-reuse": "ganrun-reuse"}  # the same arithmetic
        counted = {v: bt.step_flops({"variant": v, "overrides": args.overrides, "device": str(device),
                                     "threads": None}) for v in {eager.get(v, v) for v in variants}}
        flops = {v: counted[eager.get(v, v)] for v in variants}
    lines = ["", f"## Training step, {device.type}", "",
             f"Median of {args.repeats} repeats x 2 run lengths, each run after a run of the plain loop (the ratio "
             f"is to that run); each run warms up for {args.log_every} steps.", "",
             train_table(results, variants, cfg.trainer.batch_size, mfu_peak, flops)]
    if mfu_peak:
        lines += ["", f"MFU against a measured bf16 matmul peak of {mfu_peak / 1e12:.0f} TFLOP/s."]
    return lines + [""]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of ganrun's config (dataset, widths, batch)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--variants", help=f"comma-separated rows from {', '.join(bt.VARIANTS)}")
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
    parser.add_argument("--no-train", action="store_true", help="only the optimizer and FID sections")
    parser.add_argument("--no-optimizer", action="store_true", help="no Adam section (it builds DCGAN-shaped nets)")
    parser.add_argument("--out", type=Path, help="also write the report here")
    parser.add_argument("--translation", action="store_true",
                        help="also the pix2pix and CycleGAN rows (scripts/bench_translation.py, one thread, CPU)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.overrides = SMOKE + args.overrides
        args.steps, args.long, args.log_every, args.repeats, args.in_process = 10, 2, 5, 1, True
        args.fid_samples, args.fid_features = min(args.fid_samples, 100), "classifier"
    bt.limit_threads(args.threads)
    device = torch.device(args.device)
    cfg = bt.compose_config(args.overrides)
    load_before = load_average()
    shape = f"{cfg.dataset.channels}x{cfg.dataset.resolution}x{cfg.dataset.resolution}"
    report = ["# ganrun benchmark", "", *machine(device),
              f"- command: `python scripts/bench.py {' '.join(argv if argv is not None else sys.argv[1:])}`",
              f"- model: {cfg.game.name} game, {cfg.architecture.name} ({network_widths(cfg.architecture)}) on "
              f"{cfg.dataset.name} {shape}, batch {cfg.trainer.batch_size}"]
    if not args.no_train:
        report += training_section(args, cfg, device)
    report += [f"- load average (1, 5, 15 min) at the start: {load_before}"
               + ("" if args.no_train else f"; after the training rows: {load_average()}")]
    if not args.no_optimizer:
        times = bt.optimizer_step_times(cfg)
        report += ["", f"## Adam step over G's and D's parameters, {device.type}", "",
                   "| implementation | ms/step |", "| --- | ---: |",
                   *(f"| {name} | {seconds * 1e3:.3f} |" for name, seconds in times.items())]
    if args.fid_samples:
        import bench_fid

        weights = args.inception_weights
        weights_note = ("ganrun's small CNN trained on the dataset, registered in torch-fidelity as a feature "
                        "extractor" if args.fid_features == "classifier" else "torch-fidelity's weights file")
        if args.fid_features == "inception" and weights is None:
            from ganrun.errors import ConfigError
            from ganrun.metrics import save_random_weights
            from ganrun.metrics.inception import resolve_weights

            try:
                resolve_weights(None)
            except ConfigError:  # offline: the same network with random weights times the same
                weights = str(save_random_weights(Path(tempfile.gettempdir()) / "bench-random-inception.pth"))
                weights_note = "random weights: no download here; the same network and arithmetic"
        rows = bench_fid.fid_rows(cfg, samples=args.fid_samples, features=args.fid_features, weights=weights,
                                  device=device)
        report += ["", f"## FID throughput, {device.type}", "",
                   bench_fid.fid_table(rows, args.fid_features, weights_note)]
        report += ["", f"- load average (1, 5, 15 min) after the FID rows: {load_average()}"]
    if args.translation:
        import bench_translation

        report += ["", "## Translation: ganrun's step vs the hand-written loop (one thread, paired runs)", "",
                   *bench_translation.main(["--steps", str(args.steps), "--log-every", str(args.log_every),
                                            "--repeats", str(args.repeats)])]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return text


if __name__ == "__main__":
    main()
