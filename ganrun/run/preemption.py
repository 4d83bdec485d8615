"""Preemption: SIGTERM or SIGINT ends a run after the current step, with a checkpoint.

The handler only records the signal. The loop finishes the step it is in, writes a checkpoint at that
step, flushes TensorBoard, and `finish` exits with 128 + the signal's number, the code a shell gives
a process that signal ended: 143 for SIGTERM, 130 for SIGINT. The code is not 0 on purpose: the run
is not finished, and submitit writes a job's result only when the task returns, so an exit leaves
the job unfinished, to be run again (requeued) with the same command and run folder, which continues
from the checkpoint. A second Ctrl-C stops at once, without a checkpoint.

Under submitit (hydra-submitit-launcher, or any task submitit runs), submitit itself owns the
preemption signal: USR2 on Slurm, or $SUBMITIT_PREEMPT_SIGNAL; its handler requeues the job and
exits with -1 (255), but saves nothing of ours. When that signal already has a Python handler,
ganrun takes it too: the step is finished and the checkpoint written first, then submitit's handler
is called, so it requeues and exits as it would have. Progress since the last periodic checkpoint is
not lost.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

EXIT_SIGNALLED = 128  # + the signal number
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _submitit_signal() -> signal.Signals | None:
    """Submitit's preemption signal, when a Python handler (submitit's) is already installed for it."""
    name = os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2").upper().removeprefix("SIG")
    number = getattr(signal, f"SIG{name}", None)
    if number is None or number in STOP_SIGNALS:
        return None
    handler = signal.getsignal(number)
    return number if callable(handler) and handler is not signal.default_int_handler else None


class StopSignals:
    """Installed at the start of the loop; `requested` becomes true when a stop signal arrives."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.previous: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only
        preempt = _submitit_signal()
        for number in (*STOP_SIGNALS, *([preempt] if preempt else [])):
            self.previous[number] = signal.signal(number, self._handle)

    @property
    def requested(self) -> bool:
        return self.received is not None

    def _handle(self, number: int, frame: Any) -> None:
        if self.received is not None and number == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.received = number
        print(f"ganrun: {signal.Signals(number).name} received: stopping after this step, with a checkpoint "
              "(Ctrl-C again to stop at once, without one)", file=sys.stderr, flush=True)

    def restore(self) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def finish(self, step: int, checkpoint: Path | None, finished: bool) -> None:
        """After the loop: restore the handlers; if a signal stopped the run before its last step, hand
        over to submitit's handler (which requeues and exits) or exit with 128 + the signal's number."""
        self.restore()
        if self.received is None or finished:  # a signal during the last step: the run is complete anyway
            return
        name = signal.Signals(self.received).name
        print(f"ganrun: stopped by {name} after step {step}; checkpoint {checkpoint}; run the same command "
              "(same hydra.run.dir) to continue", file=sys.stderr, flush=True)
        handler = self.previous.get(self.received)
        if self.received not in STOP_SIGNALS and callable(handler):
            handler(self.received, None)  # submitit: requeue, then sys.exit(-1)
        sys.exit(EXIT_SIGNALLED + self.received)
