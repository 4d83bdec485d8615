"""Data-parallel training under `torchrun`, and which device a run takes.

`torchrun --nproc_per_node=N -m ganrun train ...` starts N copies of ganrun; each reads its own
batches, and after every backward pass the gradients are averaged over all of them, so every copy
takes the same optimizer step and the weights stay identical. Gradients are averaged here rather
than by `torch.nn.parallel.DistributedDataParallel` because DDP only syncs gradients accumulated by
one `.backward()` per forward: it does not support the double backward of WGAN-GP's and DRAGAN's
gradient penalties, nor a generator step run through a discriminator frozen with
`requires_grad_(False)` (stylegan2-ada-pytorch averages its gradients by hand for the same reasons).

Rank 0 alone writes (run folder, TensorBoard, checkpoints); `trainer.batch_size` is per process, so
the effective batch is N times larger. Nothing here does anything in a single process.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
from torch import nn


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def start() -> None:
    """Join the process group torchrun describes in the environment: NCCL for CUDA tensors, gloo for
    CPU tensors (both where there is CUDA, so trainer.device=cpu works there too)."""
    if launched_by_torchrun() and not dist.is_initialized():
        backend = "gloo"
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            backend = "cpu:gloo,cuda:nccl"
        dist.init_process_group(backend, timeout=timedelta(minutes=30))


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def active() -> bool:
    return dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def is_main() -> bool:
    """Whether this process writes: the only one, or rank 0 of a torchrun group."""
    return rank() == 0


def share_from_main(value: Any) -> Any:
    """Rank 0's `value` on every rank (e.g. the run folder, which holds a timestamp)."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_state(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank, so all start from the same weights."""
    if active():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def seed_per_rank(seed: int, step: int) -> None:
    """Give every rank its own latent noise from `step` on (a resumed run restored rank 0's RNG on all)."""
    if active():
        torch.manual_seed((seed * 1_000_003 + step) * 1_000_003 + rank())


def average_gradients(module: nn.Module) -> None:
    """Replace each gradient by its mean over the ranks: one all-reduce of all of them, flattened."""
    if not active():
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def auto_device() -> torch.device:
    """`trainer.device=auto`: the CPU without CUDA; else one GPU per process.

    Under torchrun, rank r takes GPU LOCAL_RANK. Jobs of a sweep run side by side by a parallel
    launcher (joblib) spread over the GPUs by job number: job n takes GPU n mod (number of GPUs).
    A job given its own GPUs by a scheduler (SLURM sets CUDA_VISIBLE_DEVICES) sees one and takes it.
    """
    if not torch.cuda.is_available():
        return torch.device("cpu")
    if "LOCAL_RANK" in os.environ:
        return torch.device(f"cuda:{int(os.environ['LOCAL_RANK'])}")
    job_num = _sweep_job_number()
    if job_num is not None:
        return torch.device(f"cuda:{job_num % torch.cuda.device_count()}")
    return torch.device("cuda")


def _sweep_job_number() -> int | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return int(HydraConfig.get().job.num)


class Silent:
    """Stands in for the writer and the progress bar on ranks > 0: every call does nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def one_run_folder(overrides: list[str]) -> list[str]:
    """`overrides` for this rank of a torchrun group: every rank gets rank 0's run folder.

    Hydra names a run folder after the time it starts, so N ranks would make N folders. Rank 0
    resolves the name and sends it to the others, which also leave Hydra's .hydra/ and log file to
    rank 0 (they log to the console).
    """
    start()
    run_dir = None
    if is_main():
        from omegaconf import OmegaConf

        from ganrun.config.compose import compose_config

        cfg = compose_config(overrides, with_hydra=True)
        run_dir = str(OmegaConf.select(cfg, "hydra.run.dir"))
    run_dir = share_from_main(run_dir)
    overrides = [o for o in overrides if not o.startswith("hydra.run.dir=")] + [f"hydra.run.dir='{run_dir}'"]
    if not is_main():
        overrides += ["hydra.output_subdir=null", "hydra/job_logging=stdout"]
    return overrides
