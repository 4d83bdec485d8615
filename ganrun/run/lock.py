"""One writer per run folder: an exclusive `flock` on `<run folder>/.ganrun.lock`, taken before anything
is written there.

The lock file holds who took it (`pid N on HOST since TIME`). A second process that finds the lock
held is refused with one line naming the holder (exit 2) and changes nothing: it only opened the
file. The kernel drops a `flock` when its holder dies, however it dies, so a lock is never stuck; a
holder that ended cleanly empties the file, so finding a name in a lock that nobody holds means the
previous process was killed (kill -9, the OOM killer, a lost node): the lock is taken over with a
warning. The same process asking again for a folder it holds gets it (the CLI takes the lock before
Hydra writes, the task asks again). Imports nothing of ganrun but its error class; no torch.

`ganrun train` takes it in the CLI, before Hydra creates `.hydra/` (single runs; under torchrun,
rank 0 alone); each job of a sweep takes its own job folder's at its start.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Callable

from ganrun.errors import ConfigError

LOCK_NAME = ".ganrun.lock"
_held: dict[Path, int] = {}  # run folder -> the open, locked file descriptor


class RunFolderBusy(ConfigError):
    """Another process holds the run folder's lock: one line, exit 2."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _gone(text: str) -> bool:
    """Whether the lock file's line names a process of this host that is no longer running."""
    words = text.split()
    return (len(words) >= 4 and words[0] == "pid" and words[1].isdigit() and words[3] == socket.gethostname()
            and not _alive(int(words[1])))


def acquire(run_dir: str | Path) -> Path:
    """Lock `run_dir` (creating it) for this process; RunFolderBusy when another process holds it."""
    run_dir = Path(run_dir).absolute()
    if run_dir in _held:
        return run_dir / LOCK_NAME
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        if _gone(holder):  # forked children (e.g. DataLoader workers) share the lock until they exit
            holder += " (not running, but a child process of it still holds the lock)"
        raise RunFolderBusy(f"run folder {run_dir} is in use by {holder}: wait for that run to end, or train in "
                            "another folder (hydra.run.dir=...)") from None
    previous = os.pread(fd, 4096, 0).decode(errors="replace").strip()
    if previous:
        state = "is no longer running" if _gone(previous) else "no longer holds it"
        print(f"ganrun: warning: taking over the stale lock of run folder {run_dir}: {previous} {state} "
              "(killed before it could release it)", file=sys.stderr, flush=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    record = f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n".encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
    except OSError:  # a full disk: the lock itself holds; only its label is missing
        pass
    _held[run_dir] = fd
    if len(_held) == 1:
        atexit.register(release_all)
    return path


def hold(run_dir: str | Path, fail: Callable[[str], None], share: Callable[[Any], Any] | None = None) -> None:
    """The CLI's call: take the lock, or `fail(one line)`. Under torchrun (`share` sends rank 0's value to
    every rank) rank 0 alone takes it, and every rank fails when it could not."""
    refused = None
    if share is None or int(os.environ.get("RANK", "0")) == 0:
        try:
            acquire(run_dir)
        except RunFolderBusy as error:
            refused = str(error)
    if share is not None:
        refused = share(refused)
    if refused:
        fail(refused)


def release(run_dir: str | Path) -> None:
    """Empty the lock file (a clean end) and drop the lock; nothing when this process does not hold it."""
    fd = _held.pop(Path(run_dir).absolute(), None)
    if fd is None:
        return
    try:
        os.ftruncate(fd, 0)
    except OSError:  # the folder was deleted or the disk is read-only now: the kernel drops the lock anyway
        pass
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def release_all() -> None:
    for run_dir in list(_held):
        release(run_dir)
