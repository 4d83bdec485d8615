"""Writes that either happen completely or fail in one line: a full disk loses nothing.

`atomic_write(path, data)` writes to a temporary file beside `path` (named `.<name>.<pid>.tmp`, so
two processes writing the same file never share one), fsyncs it, renames it over `path` and fsyncs
the folder: readers see the old file or the whole new one. Any OSError on the way (ENOSPC, EDQUOT,
EROFS, EACCES, a folder deleted under it, ...) removes the temporary file and raises `WriteError`,
whose message names the file and the cause in one line; the CLI prints it and exits with EXIT_WRITE.
`writing(path)` turns the OSErrors of any other write (an event file, an appended line) into the same
`WriteError`. No torch here; imports only ganrun.errors.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Union

from ganrun.errors import EXIT_WRITE, WriteError  # noqa: F401 - the exit code callers look up here too

Data = Union[bytes, str, Callable[..., None]]  # bytes, text, or a function writing into a binary file


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # the folder itself is gone or read-only: nothing is left to remove there
        pass


def fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (best effort where a file system cannot fsync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Recording:
    """A binary file that remembers the OSError of a failed write: torch.save reports a full disk as
    `RuntimeError: [enforce fail at inline_container.cc] unexpected pos`, the cause lost."""

    def __init__(self, file: Any) -> None:
        self.file, self.error = file, None

    def write(self, data: Any) -> int:
        try:
            return self.file.write(data)
        except OSError as error:
            self.error = error
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)


def atomic_write(path: str | Path, data: Data) -> Path:
    """Write `data` to `path` all or nothing (see the module's docstring); WriteError on any OSError."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as raw:
            file = _Recording(raw)
            if callable(data):
                data(file)
            else:
                file.write(data.encode() if isinstance(data, str) else data)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temporary, path)  # atomic on POSIX
    except OSError as error:
        _remove(temporary)
        raise WriteError(path, error) from error
    except BaseException as error:  # anything else (a TypeError, Ctrl-C): no half file left either
        _remove(temporary)
        failed = locals().get("file")
        if isinstance(failed, _Recording) and failed.error is not None:  # torch.save: its RuntimeError hides it
            raise WriteError(path, failed.error) from error
        raise
    fsync_folder(path.parent)
    return path


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Any OSError in the block becomes a WriteError naming `path`."""
    try:
        yield
    except OSError as error:
        raise WriteError(path, error) from error


def append_line(path: str | Path, line: str) -> None:
    """Append one line (e.g. to metrics.jsonl); a failed append leaves the file as it was."""
    path = Path(path)
    with writing(path):
        size = path.stat().st_size if path.exists() else 0
        try:
            with open(path, "a") as file:
                file.write(line.rstrip("\n") + "\n")
        except OSError:
            try:
                os.truncate(path, size)  # drop a partial line
            except OSError:
                pass
            raise


def quiet_writer_threads() -> None:
    """TensorBoard writes events from a thread that, on an OSError, prints a traceback and dies; the same
    error is raised again in the main thread at the next write or flush (which `writing` turns into one
    line). Silence only that thread's OSErrors, once per process."""
    if getattr(threading.excepthook, "_ganrun", False):
        return
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, OSError) and type(args.thread).__name__ == "_AsyncWriterThread":
            return
        previous(args)

    hook._ganrun = True  # type: ignore[attr-defined]
    threading.excepthook = hook
