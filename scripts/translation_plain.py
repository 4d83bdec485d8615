"""pix2pix and CycleGAN as a user writes them by hand (the reference's train loop, no ganrun machinery),
on ganrun's networks and data: the baseline of the speed rows in scripts/bench.py, and a sanity check.

    OMP_NUM_THREADS=1 python scripts/translation_plain.py pix2pix --root DATA/edges2shoes_handbags/shoes \
        --direction BtoA --size 32 --steps 300 --batch 16 --width 32 --out /tmp/plain
    python scripts/translation_plain.py cyclegan --root DATA/shoes2handbags --size 32 --steps 100

Prints one JSON line: the seconds per step after the first `--warmup` steps, the peak RSS, and the
metrics of ganrun.metrics.translation when --metrics is given; writes grid.png into --out.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganrun.data.augment import RandomCropFlip  # noqa: E402
from ganrun.data.translation import aligned, unaligned  # noqa: E402
from ganrun.games.pool import ImagePool  # noqa: E402
from ganrun.games.translation import build_metrics, rows, translate_fn  # noqa: E402
from ganrun.models.patchgan import ConditionalPatchGAN, PatchGAN  # noqa: E402
from ganrun.models.resnet_generator import ResnetGenerator  # noqa: E402
from ganrun.models.unet import UNet  # noqa: E402


def adam(params, lr):
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))


def pix2pix_step(g, d, train, *, batch, seed, lr=2e-4, adversarial=True, l1_weight=100.0):
    """One pix2pix iteration as the reference's `optimize_parameters`: G forward once, D on (x, y) and
    (x, G(x).detach()) with the halved BCE loss, then G on BCE + lambda L1 (D frozen). Returns `step()`."""
    opt_g = adam(g.parameters(), lr)
    opt_d = adam(d.parameters(), lr) if adversarial else None
    augment, order = RandomCropFlip(train.crop_size, seed=seed), torch.Generator().manual_seed(seed)

    def step():
        index = torch.randint(len(train), (batch,), generator=order)
        x, y = augment(train.a[index], train.b[index])
        fake = g(x)
        loss_g = l1_weight * (fake - y).abs().mean()
        if adversarial:
            real_s, fake_s = d(x, y), d(x, fake.detach())
            loss_d = 0.5 * (F.binary_cross_entropy_with_logits(real_s, torch.ones_like(real_s))
                            + F.binary_cross_entropy_with_logits(fake_s, torch.zeros_like(fake_s)))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            d.requires_grad_(False)
            score = d(x, fake)
            loss_g = loss_g + F.binary_cross_entropy_with_logits(score, torch.ones_like(score))
            d.requires_grad_(True)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    return step


def cyclegan_step(g_ab, g_ba, d_a, d_b, train, *, batch, seed, lr=2e-4, pool_size=50):
    """One CycleGAN iteration (LSGAN, lambda 10, identity 0.5, pools of 50), D before G as ganrun's loop."""
    opt_g = adam(list(g_ab.parameters()) + list(g_ba.parameters()), lr)
    opt_d = adam(list(d_a.parameters()) + list(d_b.parameters()), lr)
    augment, order = RandomCropFlip(train.crop_size, seed=seed), torch.Generator().manual_seed(seed)
    pool_a, pool_b = ImagePool(pool_size, seed=seed), ImagePool(pool_size, seed=seed + 1)

    def mse_to(scores, value):
        return (scores - value).pow(2).mean()

    def step():
        a = augment(train.a[torch.randint(len(train.a), (batch,), generator=order)])[0]
        b = augment(train.b[torch.randint(len(train.b), (batch,), generator=order)])[0]
        fake_b, fake_a = g_ab(a), g_ba(b)
        loss_d = 0.0
        for d, real, fake, pool in ((d_b, b, fake_b, pool_b), (d_a, a, fake_a, pool_a)):
            old = pool.query(fake)
            loss_d = loss_d + 0.5 * (mse_to(d(real), 1) + mse_to(d(old), 0))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        for d in (d_a, d_b):
            d.requires_grad_(False)
        loss_g = (mse_to(d_b(fake_b), 1) + mse_to(d_a(fake_a), 1)
                  + 10 * (g_ba(fake_b) - a).abs().mean() + 10 * (g_ab(fake_a) - b).abs().mean()
                  + 5 * (g_ab(b) - b).abs().mean() + 5 * (g_ba(a) - a).abs().mean())
        for d in (d_a, d_b):
            d.requires_grad_(True)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    return step


def timed(step, steps, log_every):
    """(step, wall time) after every `log_every` steps, as ganrun's logging steps."""
    log = []
    for i in range(1, steps + 1):
        step()
        if i % log_every == 0 or i == steps:
            log.append((i, time.time()))
    return log


def pix2pix(args, adversarial=True):
    train = aligned(root=args.root, direction=args.direction, load_size=args.load, resolution=args.size)
    test = aligned(root=args.root, direction=args.direction, load_size=args.load, resolution=args.size, train=False)
    g = UNet(3, 3, size=args.size, width=args.width)
    d = ConditionalPatchGAN(PatchGAN(6, width=args.width, n_layers=args.n_layers))
    step = pix2pix_step(g, d, train, batch=args.batch, seed=args.seed, lr=args.lr, adversarial=adversarial)
    return train, test, step, lambda a, b: {"grid": rows(a, translate_fn(g)(a), b)}, (translate_fn(g),)


def cyclegan(args):
    train = unaligned(root=args.root, load_size=args.load, resolution=args.size)
    test = unaligned(root=args.root, load_size=args.load, resolution=args.size, train=False)
    g_ab, g_ba = (ResnetGenerator(3, 3, width=args.width, n_blocks=args.blocks) for _ in range(2))
    d_a, d_b = (PatchGAN(3, width=args.width, n_layers=args.n_layers, norm="instance") for _ in range(2))
    step = cyclegan_step(g_ab, g_ba, d_a, d_b, train, batch=args.batch, seed=args.seed, lr=args.lr)

    def grids(a, b):
        ab, ba = translate_fn(g_ab), translate_fn(g_ba)
        return {"grid_A": rows(a, ab(a), ba(ab(a))), "grid_B": rows(b, ba(b), ab(ba(b)))}

    return train, test, step, grids, (translate_fn(g_ab), translate_fn(g_ba))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("game", choices=["pix2pix", "l1", "cyclegan"])
    p.add_argument("--root", required=True)
    p.add_argument("--direction", default="AtoB")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--load", type=int, default=None)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--blocks", type=int, default=6)
    p.add_argument("--n-layers", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--metrics", action="store_true")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    args.load = args.load or args.size + args.size // 8
    torch.manual_seed(args.seed)
    train, test, step, grids, translators = (cyclegan(args) if args.game == "cyclegan"
                                             else pix2pix(args, adversarial=args.game == "pix2pix"))
    for i in range(args.steps):
        if i == args.warmup:
            start = time.perf_counter()
        step()
    seconds = (time.perf_counter() - start) / max(args.steps - args.warmup, 1)
    result = {"game": args.game, "steps": args.steps, "seconds_per_step": seconds,
              "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if args.metrics:
        metrics = build_metrics(train, test, cache_dir="outputs/.cache", device=torch.device("cpu"), batch_size=100,
                                kid_subsets=100, kid_subset_size=100, seed=0)
        result |= metrics(*translators)
    if args.out:
        from torchvision.utils import save_image
        Path(args.out).mkdir(parents=True, exist_ok=True)
        a, b = (t[:8] for t in (test.a, test.b))
        for name, grid in grids(a.float() / 127.5 - 1, b.float() / 127.5 - 1).items():
            save_image(grid, Path(args.out) / f"{name}.png")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
