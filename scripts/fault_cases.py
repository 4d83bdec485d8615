"""The faults injected from outside for docs/bad_inputs.md (scripts/bad_inputs.py calls `fault_rows`): a
second writer, a stale lock, a full disk, a read-only disk, a checkpoint folder deleted mid-run,
SIGTERM in setup and at the end, a corrupt metric cache, and the arguments of `eval` and `sample`.

Each row: (what was done, exit code, what ganrun printed on stderr). Runs the CLI in subprocesses.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.test_arguments import EVAL, SAMPLE
from tests.tiny_runs import ENV, RUN, cli_args

HOLDER = "import sys; from ganrun.run.lock import acquire; acquire(sys.argv[1]); print('held', flush=True); sys.stdin.read()"
FILE_LIMIT = 16_000  # bytes: RLIMIT_FSIZE makes a larger write fail as a full disk does (EFBIG, not ENOSPC)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ganrun", *args]


def run(args: list[str], cwd: Path, limit: int | None = None, env: dict | None = None) -> tuple[int, str]:
    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(args, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=600,
                            preexec_fn=small_files if limit else None)
    return result.returncode, result.stderr.strip()


def signalled(args: list[str], cwd: Path, marker: str, action) -> tuple[int, str]:
    """Run, and call `action(process)` once a stdout line starts with `marker`."""
    process = subprocess.Popen(args, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith(marker):
            action(process)
            break
    _, stderr = process.communicate(timeout=600)
    return process.returncode, stderr.strip()


def train(*overrides: str) -> list[str]:
    return command("train", *cli_args(*RUN, *overrides))


def fault_rows(inputs: Path, work: Path, arguments: bool = True) -> list[tuple[str, int, str]]:
    """Every row; `arguments=False` leaves out the eval/sample argument table (tests/test_arguments.py)."""
    rows = []
    step = inputs / "run" / "checkpoints" / "step_00000002.pt"
    for table, name in ((SAMPLE, "sample"), (EVAL, "eval")) if arguments else ():
        for argument in table:
            out = "out=<work>/x.png" if name == "sample" else "out=<work>/m.json"
            code, err = run(command(name, f"checkpoint={step}", out.replace("<work>", str(work)), argument), work)
            rows.append((f"ganrun {name} checkpoint=<inputs>/run/.../step_00000002.pt {out} {argument}", code, err))
    for overrides in (["seed=1.5"], ["conditional=maybe"], ["hydra.run.dir=/tmp/my", "runs/x"]):
        code, err = run(train(*overrides), work)
        rows.append((f"ganrun train {' '.join(overrides)}", code, err))

    busy = work / "busy"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(busy)], env=ENV, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    code, err = run(train(f"hydra.run.dir={busy}"), work)
    holder.communicate("")
    rows.append(("a second `ganrun train` into a run folder in use (a double submit)", code, err))

    stale = work / "stale"
    stale.mkdir()
    (stale / ".ganrun.lock").write_text(f"pid 999999 on {socket.gethostname()} since 2026-11-30T00:00:00+0000\n")
    code, err = run(train(f"hydra.run.dir={stale}"), work)
    rows.append(("a lock left by a killed run (pid 999999, not running)", code, err))

    code, err = run(train("trainer.steps=4", "trainer.checkpoint_every=2", f"hydra.run.dir={work}/full"), work,
                    limit=FILE_LIMIT)
    rows.append((f"a full disk (every file limited to {FILE_LIMIT} bytes: RLIMIT_FSIZE)", code, err))
    code, err = run(command("sample", f"checkpoint={step}", "num=4000", f"out={work}/big.npz", "device=cpu"), work,
                    limit=FILE_LIMIT)
    rows.append((f"`ganrun sample num=4000` on a full disk ({FILE_LIMIT} bytes a file)", code, err))

    readonly = work / "readonly"
    readonly.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(readonly)],
                             capture_output=True).returncode == 0
    if mounted:
        code, err = run(train(f"hydra.run.dir={readonly}/run"), work)
        subprocess.run(["umount", str(readonly)])
        rows.append(("an output folder on a read-only file system", code, err))

    def delete_checkpoints(process):
        import shutil

        shutil.rmtree(work / "deleted" / "checkpoints")

    code, err = signalled(train("trainer.steps=80", "trainer.checkpoint_every=5", "trainer.log_every=1",
                                f"hydra.run.dir={work}/deleted"), work, "[ganrun] step 50", delete_checkpoints)
    left = sorted(p.name for p in (work / "deleted" / "checkpoints").iterdir())
    rows.append((f"the checkpoint folder deleted at step ~50 of a run continued to 80 (left after: {left})", code, err))

    code, err = signalled(train("dataset._target_=tests.faults.slow_ring", f"hydra.run.dir={work}/setup"), work,
                          "ganrun-test: building", lambda p: p.send_signal(signal.SIGTERM))
    rows.append(("SIGTERM during setup (while the dataset is built)", code, err))
    code, err = signalled(train("trainer.steps=30", "trainer.log_every=1", "metrics=default", "metrics.every=0",
                                "metrics.num_points=200000", f"hydra.run.dir={work}/end"), work,
                          "[ganrun] step 30/30", lambda p: p.send_signal(signal.SIGTERM))
    rows.append(("SIGTERM during the end-of-run metrics (after the last step's log line)", code, err))

    cache = work / "cache"
    cache.mkdir()
    (cache / "classifier_digits_8px_1ch.pt").write_bytes(b"not a torch file")
    code, err = run(command("train", *cli_args("architecture=dcgan", "dataset=digits", "architecture.generator.width=8",
                                               "architecture.discriminator.width=8", "metrics=default",
                                               "metrics.num_samples=100", "metrics.kid_subset_size=50",
                                               "metrics.kid_subsets=2"), f"hydra.run.dir={work}/cached"),
                    work, env={**ENV, "GANRUN_CACHE_DIR": str(cache)})
    rows.append(("a corrupt metric classifier in the cache", code, err))
    return rows


if __name__ == "__main__":  # the faults alone, as a markdown table: PYTHONPATH=. python scripts/fault_cases.py
    import contextlib
    import tempfile

    from tests.tiny_runs import make_inputs

    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        with contextlib.redirect_stdout(sys.stderr):
            made = make_inputs(root / "inputs")
        (root / "work").mkdir()
        print("| what was done | exit | what ganrun prints (stderr) |\n| --- | --- | --- |")
        for shown, code, stderr in fault_rows(made, root / "work", arguments="--arguments" in sys.argv):
            text = stderr.replace(str(made), "<inputs>").replace(str(root / "work"), "<work>")
            text = text.replace("|", "\\|").replace("\n", "<br>")
            shown = shown.replace(str(made), "<inputs>").replace(str(root / "work"), "<work>")
            print(f"| {shown} | {code} | {text} |", flush=True)
