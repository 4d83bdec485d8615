"""One rank of the torchrun test (tests/test_sweeps.py): `ganrun train ...`, then this rank's final weights.

    torchrun --standalone --nproc_per_node=2 tests/ddp_worker.py OUT_DIR [overrides]

Saves OUT_DIR/rank<R>.pt with the generator's and discriminator's parameters as training left them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from ganrun import experiment, loop
from ganrun.cli import main

built = {}
real_build = loop.build


def recording_build(cfg, device, **kw):
    built["exp"] = real_build(cfg, device, **kw)
    return built["exp"]


loop.build = recording_build  # run() looks build up in its module when it is called
out_dir, overrides = Path(sys.argv[1]), sys.argv[2:]  # before `ganrun train` rewrites sys.argv for Hydra
main(["train", *overrides])
exp = built["exp"]
weights = {f"{name}.{key}": value.detach().clone() for name, module in (("G", exp.generator), ("D", exp.discriminator))
           for key, value in module.named_parameters()}
torch.save(weights, out_dir / f"rank{os.environ['RANK']}.pt")
