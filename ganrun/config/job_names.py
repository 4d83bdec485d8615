"""Job folder names that never nest: `${ganrun.path_safe:...}` in `hydra.sweep.subdir` (ganrun/conf/train.yaml).

Hydra names a sweep's job folder after its overrides (`hydra.job.override_dirname`) as they were
typed, so a value holding a `/` (`sweep.metric=metrics/FID_classifier`, `dataset.root=/data/mnist`)
makes nested folders, and the summary, which reads the sweep folder's children, finds no job.
`path_safe` percent-encodes what a file name cannot hold (`/` -> `%2F`, `\\` -> `%5C`, control
characters, `%` itself), so the name reads as typed and decodes back with urllib's `unquote`, and a
name longer than a file system allows (255 bytes) is cut and ends with a hash of the whole. No torch.
"""

from __future__ import annotations

import hashlib

from omegaconf import OmegaConf

RESOLVER = "ganrun.path_safe"
MAX_BYTES = 200  # under the 255 bytes of ext4, XFS, APFS and NTFS, leaving room for the job number
UNSAFE = {"%", "/", "\\", "\0"}


def path_safe(text: str) -> str:
    """`text` as one file name (see the module's docstring): the same text when it holds nothing unsafe."""
    safe = "".join(f"%{ord(c):02X}" if c in UNSAFE or ord(c) < 32 or ord(c) == 127 else c for c in str(text))
    if safe in (".", ".."):
        safe = safe.replace(".", "%2E")
    if len(safe.encode()) > MAX_BYTES:
        digest = hashlib.sha256(safe.encode()).hexdigest()[:10]
        cut = safe.encode()[: MAX_BYTES - 12].decode(errors="ignore")
        safe = f"{cut}~{digest}"
    return safe


def register_resolver() -> None:
    """Make `${ganrun.path_safe:...}` resolvable (the CLI, the task and every launcher's worker call this)."""
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, path_safe)
