"""`ganrun turing checkpoint=PATH [num=50] [port=8000] [seed=0] [report=true]`: the Turing page.

The first call prepares the study in `<run folder>/turing/` (`num` real images of the run's dataset
and `num` samples of the checkpoint's generator, its EMA copy when the run kept one), then serves it
on http://127.0.0.1:PORT until Ctrl-C, which prints the report. Later calls serve the same study (its
answers kept). `report=true` prints the report and serves nothing. See humaneval.py.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from ganrun.errors import UsageError


def study_folder(checkpoint: Path) -> Path:
    """<run>/turing for <run>/checkpoints/step_N.pt; beside the file for a checkpoint elsewhere."""
    parent = checkpoint.resolve().parent
    return (parent.parent if parent.name == "checkpoints" else parent) / "turing"


def print_report(report: dict) -> None:
    for name, r in report.items():
        if r["answers"]:
            print(f"{name}: {r['answers']} answers, error rate {r['error_rate']:.3f} "
                  f"(95% CI {r['ci95'][0]:.3f}-{r['ci95'][1]:.3f}), fakes called real "
                  f"{r['fake_called_real'] if r['fake_called_real'] is not None else '-'}, median {r['median_ms']:.0f} ms")
        else:
            print(f"{name}: no answers yet")


def prepare_study(folder: Path, checkpoint: str, num: int, seed: int, overrides: list[str]) -> None:
    import torch

    from ganrun.commands.common import checkpoint_config, load_generator
    from ganrun.config.checks import is_conditional
    from ganrun.humaneval import prepare
    from ganrun.metrics.inspection import images_and_labels
    from ganrun.sampling import GeneratorInputs

    saved, cfg = checkpoint_config(checkpoint, overrides)
    dataset, generator = load_generator(saved, cfg, "cpu")
    if len(dataset.data_shape) != 3:
        raise UsageError(f"dataset={cfg.dataset.name} has no images to show (2-D points)")
    real, _ = images_and_labels(dataset, num, seed=seed)
    inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim,
                             dataset.num_classes if is_conditional(cfg) else None, torch.device("cpu"))
    torch.manual_seed(seed)
    with torch.no_grad():
        fake = generator(*inputs(len(real)))
    prepare(folder, real, fake, seed=seed)
    print(f"prepared {len(real)} real and {len(fake)} generated images in {folder}")


def main(args: list[str]) -> None:
    from ganrun.commands.common import parse

    own, overrides = parse(args, {"checkpoint", "num", "port", "seed", "report"}, required={"checkpoint"})
    checkpoint = Path(own["checkpoint"])
    if not checkpoint.is_file():
        raise UsageError(f"checkpoint={checkpoint}: no such file")
    try:
        num, port, seed = int(own.get("num", 50)), int(own.get("port", 8000)), int(own.get("seed", 0))
    except ValueError as error:
        raise UsageError(f"num, port and seed are integers: {error}") from error
    if num < 1 or not 0 <= port < 65536:
        raise UsageError(f"num={num} must be >= 1 and port={port} in 0-65535")
    folder = study_folder(checkpoint)
    from ganrun.humaneval import Study
    from ganrun.humaneval_server import serve

    if own.get("report", "false").lower() == "true":
        if not (folder / "key.json").is_file():
            raise UsageError(f"no study in {folder} yet: run ganrun turing checkpoint={checkpoint} first")
        report = Study(folder).report()
        print_report(report)
        print(json.dumps(report), file=sys.stderr)
        return
    if not (folder / "key.json").is_file():
        prepare_study(folder, str(checkpoint), num, seed, overrides)
    study = Study(folder)
    try:
        server = serve(study, port)
    except OSError as error:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}; try port=0 (any free port)") from error
    print(f"Turing page: http://127.0.0.1:{server.server_address[1]}/  (answers in {study.answers_path}; Ctrl-C stops)")
    # Ctrl-C (SIGINT) stops the server even where the parent left SIGINT ignored, as a shell does for a
    # job started in the background: Python then keeps the ignore instead of raising KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print_report(study.report())
