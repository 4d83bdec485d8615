"""Progress: a tqdm bar on a terminal, plain log lines otherwise (CI logs, cluster jobs, pipes)."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm

SHOWN = ("loss/D", "loss/G")


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    """Steps/s, ETA and the current losses, updated only when the trainer logs (no per-step sync)."""

    def __init__(self, total: int, start: int = 0, mode: str = "auto", stream=sys.stderr):
        self.total, self.start, self.stream = total, start, stream
        self.mode = ("bar" if stream.isatty() else "lines") if mode == "auto" else mode
        self.started = time.perf_counter()
        self.bar = tqdm(total=total, initial=start, dynamic_ncols=True, unit="step", file=stream) \
            if self.mode == "bar" else None

    def update(self, step: int, scalars: dict[str, float]) -> None:
        shown = {name: scalars[name] for name in SHOWN if name in scalars}
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            self.bar.set_postfix({k.split("/")[1]: f"{v:.3f}" for k, v in shown.items()}, refresh=True)
        elif self.mode == "lines":
            elapsed = time.perf_counter() - self.started
            rate = (step - self.start) / elapsed if elapsed > 0 else 0.0
            eta = (self.total - step) / rate if rate > 0 else 0.0
            losses = " ".join(f"{name} {value:.4f}" for name, value in shown.items())
            print(f"[ganrun] step {step}/{self.total} ({100 * step / self.total:.0f}%) "
                  f"{rate:.1f} steps/s ETA {_duration(eta)} | {losses}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
