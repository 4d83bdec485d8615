"""`ganrun translate-grid checkpoint=PATH out=FILE.png [num=16] [source=A|B] [steps=N] [seed=S] [device=auto]`:
translations of real held-out images by a checkpoint's game, one row per image: the input, then the
game's columns. The command asks the game object (no list of games here): a game that translates has
`translate(generator, num=..., seed=..., **options) -> list of (N, C, H, W) columns`; CoGAN's finds each
image's latent by search (`steps` Adam steps, the run's `game.translate_steps` by default) and shows
[x, G_source(z*), G_other(z*)]. (A command translating given image files through a game's network,
x -> y, is `ganrun translate`; CoGAN serves it too, with `translator(direction)`.)"""

from __future__ import annotations

from pathlib import Path

from ganrun.commands.common import checkpoint_config, parse
from ganrun.errors import ConfigError, UsageError

CAST = {"source": str, "steps": int, "lr": float}  # passed on to the game's translate
OPTIONS = set(CAST)


def main(args: list[str]) -> None:
    import torch
    from torchvision.utils import save_image

    from ganrun.experiment import make, resolve_device

    own, overrides = parse(args, {"checkpoint", "out", "num", "seed", "device", *OPTIONS},
                           required={"checkpoint", "out"})
    out = Path(own["out"])
    if out.suffix != ".png":
        raise UsageError(f"out={out}: write a .png grid")
    num, seed = int(own.get("num", 16)), int(own.get("seed", 0))
    try:
        options = {key: CAST[key](own[key]) for key in OPTIONS & own.keys()}
    except ValueError as error:
        raise UsageError(f"translate's options: {error}") from error
    device = resolve_device(own.get("device", "auto"))
    saved, cfg = checkpoint_config(own["checkpoint"], overrides)
    game = make(cfg.game)(cfg, device=device, make=make, evaluate=False, seed=cfg.seed)
    translate = getattr(game, "translate", None)
    if translate is None:
        raise UsageError(f"game={cfg.game.name} does not translate images: ganrun translate-grid needs a game that does")
    weights = saved.get("ema_generator") or saved["generator"]
    try:
        game.generator.load_state_dict({k.removeprefix("module."): v for k, v in weights.items() if k != "n_averaged"})
    except RuntimeError as error:
        raise ConfigError(f"the checkpoint's generator does not fit its config ({str(error).splitlines()[0]})") from error
    try:
        columns = translate(game.generator.eval(), num=num, seed=seed, **options)
    except ValueError as error:  # an option the game cannot take (e.g. CoGAN's source=C)
        raise UsageError(str(error)) from error
    grid = torch.stack([c.detach().cpu() for c in columns], dim=1).flatten(0, 1)  # one row per input image
    out.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, out, nrow=len(columns), normalize=True, value_range=(-1, 1), pad_value=1)
    print(f"{num} translations written to {out} (columns: {', '.join(getattr(game, 'translation_columns', []))})")
