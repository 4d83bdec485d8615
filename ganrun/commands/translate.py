"""`ganrun translate checkpoint=PATH input=FOLDER out=FOLDER`: a trained translator applied to a folder of images.

The checkpoint's run config rebuilds its game (pix2pix, CycleGAN, SRGAN, SimGAN: any game with a
`translator(direction)`), its generator takes the checkpoint's weights (the EMA copy when the run kept
one), and every image of `input` is read (the same mode checks as training), converted to the input
domain's channels, resized to the size the network was trained at (bicubic; SRGAN: its input as is),
translated in eval mode and written to `out/<name>.png`. `direction=BtoA` uses CycleGAN's F: B -> A.
Everything is read and checked before `out` is created: bad input writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganrun.commands.common import checkpoint_config, parse
from ganrun.errors import UsageError

OWN = {"checkpoint", "input", "out", "direction", "device"}


def read_images(folder: Path, channels: int, size: int | None):
    """Every image of `folder` as float (C, H, W) in [-1, 1], with its file name."""
    import torch
    from PIL import Image

    from ganrun.data.translation import image_files, image_mode

    if not folder.is_dir():
        raise UsageError(f"input={folder} is not a folder of images")
    files = image_files(folder)
    if not files:
        raise UsageError(f"input={folder} holds no images (.png, .jpg ...)")
    images = []
    for path in files:
        image_mode(path)  # odd modes: one line
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if size is not None:
                image = image.resize((size, size), Image.BICUBIC)
            data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
            images.append(data.view(image.size[1], image.size[0], channels).permute(2, 0, 1).float() / 127.5 - 1)
    return [p.stem for p in files], images


def load_game(saved: dict, cfg: Any, device: Any, evaluate: bool) -> Any:
    """The checkpoint's game, rebuilt from its config, its generator holding the checkpoint's weights
    (the EMA copy when the run kept one)."""
    from ganrun.experiment import make

    game = make(cfg.game)(cfg, device=device, make=make, evaluate=evaluate, seed=cfg.seed)
    weights = saved.get("ema_generator") or saved["generator"]
    game.generator.load_state_dict({k.removeprefix("module."): v for k, v in weights.items() if k != "n_averaged"})
    if game.discriminator is not None and saved.get("discriminator"):  # games whose metric is D's (semi, ccgan)
        game.discriminator.load_state_dict({k.removeprefix("module."): v for k, v in saved["discriminator"].items()})
    return game


def game_metrics(saved: dict, cfg: Any, device: Any) -> dict[str, float]:
    """`ganrun eval checkpoint=...` for the games with their own metrics (translation: the test split)."""
    game = load_game(saved, cfg, device, evaluate=True)
    return game.evaluate(game.generator)


def main(args: list[str]) -> None:
    own, overrides = parse(args, OWN, required={"checkpoint", "input", "out"})
    direction = own.get("direction", "AtoB")
    if direction not in ("AtoB", "BtoA"):
        raise UsageError(f"direction={direction} is not AtoB or BtoA")
    import torch
    from torchvision.utils import save_image

    from ganrun.experiment import resolve_device

    saved, cfg = checkpoint_config(own["checkpoint"], overrides)
    device = resolve_device(own.get("device", "cpu"))
    game = load_game(saved, cfg, device, evaluate=False)
    if not hasattr(game, "translator"):
        raise UsageError(f"the checkpoint's game={cfg.game.name} does not translate images: use ganrun sample")
    network, channels, size = game.translator(direction)
    names, images = read_images(Path(own["input"]), channels, size)
    out = Path(own["out"])
    out.mkdir(parents=True, exist_ok=True)
    network.eval()
    with torch.no_grad():
        for name, image in zip(names, images):
            result = network(image[None].to(device)).clamp(-1, 1)
            save_image(result.add(1).div(2), out / f"{name}.png")
    print(f"{len(names)} images translated {direction} into {out}")
