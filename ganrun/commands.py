"""The commands besides `train`, with plain `key=value` arguments:

    ganrun eval checkpoint=PATH [out=FILE.json] [metrics.KEY=VALUE ...]
    ganrun eval fake=FOLDER_OR_NPZ dataset=NAME [dataset.KEY=VALUE ...] [metrics.KEY=VALUE ...]
    ganrun sample checkpoint=PATH num=N out=FILE.png|FILE.npz [interpolate=true] [seed=S]
    ganrun summarize SWEEP_FOLDER [metric=TAG] [direction=minimize|maximize]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ganrun.cli import CONF_DIR, UsageError


def parse(args: list[str], allowed: set[str], required: set[str] = frozenset()) -> tuple[dict[str, str], list[str]]:
    """Split `key=value` arguments into this command's own keys and config overrides (dotted keys)."""
    own, overrides = {}, []
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            raise UsageError(f"'{arg}' is not key=value")
        if key in allowed:
            own[key] = value
        elif key.startswith(("metrics.", "dataset.")) or key in ("dataset", "metrics"):
            overrides.append(arg)
        else:
            raise UsageError(f"unknown argument '{key}': use {', '.join(sorted(allowed))} or metrics.*/dataset.*")
    missing = required - own.keys()
    if missing:
        raise UsageError(f"missing {', '.join(sorted(missing))}=...")
    return own, overrides


def _checkpoint_config(path: str, overrides: list[str]):
    from omegaconf import OmegaConf

    from ganrun import checkpoint
    from ganrun.config import ConfigError, validate

    try:
        saved = checkpoint.load(path)
        cfg = OmegaConf.merge(OmegaConf.create(saved["config"]), OmegaConf.from_dotlist(overrides))
        validate(cfg)
    except ConfigError as error:
        raise UsageError(str(error)) from error
    return saved, cfg


def load_generator(saved, cfg, device="cpu"):
    """The checkpoint's generator (its EMA copy when the run kept one), in eval mode."""
    from ganrun import train
    from ganrun.config_family import model_options

    dataset = train.make(cfg.dataset)
    g_options, _ = model_options(cfg, dataset.num_classes)  # a conditional G takes the labels too
    generator = train.make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape), **g_options)
    weights = saved.get("ema_generator") or saved["generator"]
    generator.load_state_dict({k.removeprefix("module."): v for k, v in weights.items() if k != "n_averaged"})
    return dataset, generator.to(device).eval()


def _write_json(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(f".{out.name}.tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    temporary.replace(out)


def _load_fake(path: Path, channels: int | None):
    import numpy as np
    import torch
    from torchvision.io import ImageReadMode, decode_image

    if path.suffix == ".npz":
        with np.load(path) as archive:
            if "samples" not in archive:
                raise UsageError(f"{path} has no array named 'samples' (N x C x H x W in [-1, 1], or N x 2)")
            return torch.from_numpy(archive["samples"]).float()
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"))
    if not files:
        raise UsageError(f"{path} holds no images (.png/.jpg) and is not an .npz of samples")
    mode = ImageReadMode.GRAY if channels == 1 else ImageReadMode.RGB
    images = [decode_image(str(f), mode=mode).float() / 127.5 - 1 for f in files]
    return torch.stack(images)


def eval(args: list[str]) -> None:  # noqa: A001 - the command's name
    from ganrun.config_family import is_conditional
    from ganrun.metrics import build_evaluator
    from ganrun.sampling import GeneratorInputs
    from ganrun import train

    from ganrun import commands_inspect

    own, overrides = parse(args, {"checkpoint", "fake", "out", "device"} | commands_inspect.KEYS)
    device = train.resolve_device(own.get("device", "auto"))
    if "checkpoint" in own:
        saved, cfg = _checkpoint_config(own["checkpoint"], overrides)
        commands_inspect.check(own, cfg)
        dataset, generator = load_generator(saved, cfg, device)
        out = Path(own.get("out", str(Path(own["checkpoint"]).with_suffix(".metrics.json"))))
        results = {}
        if not commands_inspect.requested(own) or cfg.metrics.enabled:  # the usual metrics, unless only extras
            evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=train.make)
            inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim,  # the run's prior (and labels)
                                     dataset.num_classes if is_conditional(cfg) else None, device)
            results = evaluator(lambda n: generator(*inputs(n)))
        results |= commands_inspect.evaluate(own, saved, cfg, dataset, generator, device, out)
        results = {"checkpoint": own["checkpoint"], "step": saved["step"], **results}
    elif "fake" in own:
        cfg = compose_for_fake(overrides)
        samples = _load_fake(Path(own["fake"]), cfg.dataset.get("channels"))
        evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=train.make)
        try:
            results = {"fake": own["fake"], **evaluator.evaluate_samples(samples)}
        except ValueError as error:  # e.g. samples of another shape than the dataset's
            raise UsageError(f"{own['fake']}: {error}") from error
        out = Path(own.get("out", "metrics.json"))
    else:
        raise UsageError("give checkpoint=PATH or fake=FOLDER_OR_NPZ")
    for name, value in results.items():
        print(f"{name}: {value}")
    _write_json(results, out)
    print(f"written to {out}", file=sys.stderr)


def compose_for_fake(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    from ganrun.config import ConfigError, register_schemas, validate

    register_schemas()
    try:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            cfg = compose(config_name="train", overrides=overrides)
        validate(cfg)
    except ConfigError as error:
        raise UsageError(str(error)) from error
    except Exception as error:  # noqa: BLE001 - composition errors become one line
        from ganrun.cli import describe

        raise UsageError(describe(error)) from error
    return cfg


def slerp(a, b, t):
    """Spherical interpolation between latents (White 2016; the seeds: interpolate on a great circle)."""
    import torch

    a_unit, b_unit = a / a.norm(dim=-1, keepdim=True), b / b.norm(dim=-1, keepdim=True)
    omega = torch.acos((a_unit * b_unit).sum(-1, keepdim=True).clamp(-1, 1))
    sin = torch.sin(omega)
    return torch.where(sin.abs() < 1e-6, (1 - t) * a + t * b,
                       (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin)


def sample(args: list[str]) -> None:
    import torch
    from torchvision.utils import save_image

    from ganrun import train
    from ganrun.commands_latents import save_sheet
    from ganrun.config_family import is_conditional
    from ganrun.sampling import LATENT_PRIORS

    own, overrides = parse(args, {"checkpoint", "num", "out", "interpolate", "seed", "device"},
                           required={"checkpoint", "out"})
    num, out = int(own.get("num", 64)), Path(own["out"])
    if out.suffix not in (".png", ".npz"):
        raise UsageError(f"out={out}: write a .png grid or an .npz array")
    device = train.resolve_device(own.get("device", "auto"))
    saved, cfg = _checkpoint_config(own["checkpoint"], overrides)
    dataset, generator = load_generator(saved, cfg, device)
    noise = torch.Generator().manual_seed(int(own.get("seed", 0)))
    latent_dim, prior = cfg.architecture.latent_dim, LATENT_PRIORS[cfg.tricks.latent]  # the run's prior
    rows = max(1, int(round(num ** 0.5)))
    if own.get("interpolate", "false").lower() == "true":  # rows of slerp paths between random latents
        ends = prior(2 * rows, latent_dim, generator=noise).view(2, rows, 1, latent_dim)
        t = torch.linspace(0, 1, max(2, num // rows)).view(1, -1, 1)
        latents = slerp(ends[0], ends[1], t).reshape(-1, latent_dim)
    else:
        latents = prior(num, latent_dim, generator=noise)
    columns = len(latents) // rows if own.get("interpolate") == "true" else rows
    # A conditional G draws one class per row of the grid (cycling when there are more rows than classes).
    labels = (torch.arange(len(latents)) // columns % dataset.num_classes) if is_conditional(cfg) else None


    def draw(i: int) -> torch.Tensor:  # 256 samples at a time
        part = None if labels is None else labels[i:i + 256].to(device)
        return generator(latents[i:i + 256].to(device), part).cpu()

    with torch.no_grad():
        samples = torch.cat([draw(i) for i in range(0, len(latents), 256)])
    if out.suffix == ".png" and samples.dim() != 4:
        raise UsageError("2-D samples have no image grid: write out=FILE.npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".png":
        save_image(samples, out, nrow=columns, normalize=True, value_range=(-1, 1), pad_value=1)
    # the sheet's latents (and labels), for `ganrun latents`: in the .npz, or beside the .png
    sheet = save_sheet(out, latents, labels, own["checkpoint"], columns, samples if out.suffix == ".npz" else None)
    print(f"{len(samples)} samples written to {out}" + ("" if sheet == out else f", their latents to {sheet}"))


def latents(args: list[str]) -> None:
    """`ganrun latents sheet=S.latents.npz expr="3+7-12" | pairs=3:7 out=F.png`: see commands_latents."""
    from ganrun.commands_latents import latents as command

    command(args)


def turing(args: list[str]) -> None:
    """`ganrun turing checkpoint=PATH [num=50] [port=8000]`: the Turing page, see commands_turing."""
    from ganrun.commands_turing import turing as command

    command(args)


def summarize(args: list[str]) -> None:
    """`ganrun summarize <sweep folder> [metric=TAG] [direction=minimize|maximize]`: the sweep's table."""
    from ganrun.sweeps import summarize_command

    summarize_command(args)
