"""Train VGAN or MoCoGAN on Moving MNIST (or MoCoGAN on the Weizmann actions) with a plain loop on
ganrun's networks, then score the generator with ganrun's video metrics; writes a JSON line and a GIF.

    python scripts/video_measure.py vgan --steps 800 --out docs/video
    python scripts/video_measure.py mocogan --steps 800 --out docs/video
    python scripts/video_measure.py real --out docs/video          # real and static clips: the reference rows
    python scripts/video_measure.py mocogan --dataset weizmann --steps 400 --out docs/video

The loop is the papers' non-saturating GAN (BCE with logits), Adam(2e-4, (0.5, 0.999)), a fresh latent
batch for each update, Gaussian noise of std `--noise` on every input of D (MoCoGAN's authors train with
noise_sigma=0.1), VGAN's mask prior λ = 0.1. The metrics: `ganrun.metrics.video.build_video_evaluator`
(frame FID/KID in the features of a frame classifier trained here, motion statistics).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from ganrun.metrics.video import build_video_evaluator, real_clips
from ganrun.models import mocogan, vgan
from ganrun.models.video import composite, mask_sparsity, random_frames
from ganrun.videos import write_gif

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DATASETS = {
    "moving_mnist": {"_target_": "ganrun.data.moving_mnist.moving_mnist", "name": "moving_mnist", "root": str(DATA),
                     "resolution": 32, "frames": 8, "num_digits": 1, "size": 4000},
    "weizmann": {"_target_": "ganrun.data.video.weizmann_actions", "name": "weizmann_actions",
                 "root": str(DATA / "weizmann_actions"), "resolution": 32, "frames": 8, "every_nth": 2},
}


def networks(game: str, shape: tuple, width: int, num_classes: int | None):
    if game == "vgan":
        return vgan.Generator(100, shape, width=width), {"video": vgan.Discriminator(shape, width=width)}
    return (mocogan.Generator(shape, width=width, num_classes=num_classes),
            {"image": mocogan.image_discriminator(shape, width), "video": mocogan.video_discriminator(shape, width, num_classes)})


def sampler(game: str, G, num_classes: int | None):
    def sample(n: int, streams: bool = False):
        if game == "vgan":
            return G(torch.randn(n, 100), streams=streams), None
        labels = torch.randint(num_classes, (n,)) if num_classes else None
        return G(*G.latents(n), labels), labels
    return sample


def d_outputs(D: dict, clips: torch.Tensor, sigma: float, num_classes: int | None):
    """(scores per D, D_V's action logits or None); noise of std sigma on every input."""
    clips = clips + sigma * torch.randn_like(clips)
    out = D["video"](clips)
    logits = None
    if num_classes:
        out, logits = out[:, 0], out[:, 1:]
    scores = [out] + ([D["image"](random_frames(clips))] if "image" in D else [])
    return scores, logits


def train(args, dataset, num_classes):
    torch.manual_seed(args.seed)
    shape = tuple(dataset.data_shape)
    G, D = networks(args.game, shape, args.width, num_classes)
    sample = sampler(args.game, G, num_classes)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam([p for d in D.values() for p in d.parameters()], 2e-4, betas=(0.5, 0.999))
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch, shuffle=True, drop_last=True)
    bce, step, start = F.binary_cross_entropy_with_logits, 0, time.time()
    while step < args.steps:
        for real, labels in loader:
            with torch.no_grad():
                fake, _ = sample(len(real))
            (real_scores, real_logits), (fake_scores, _) = d_outputs(D, real, args.noise, num_classes), \
                d_outputs(D, fake, args.noise, num_classes)
            loss_d = sum(bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f)) for r, f in zip(real_scores, fake_scores))
            if num_classes:
                loss_d = loss_d + F.cross_entropy(real_logits, labels)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            if args.game == "vgan":
                foreground, mask, background = sample(args.batch, streams=True)[0]
                fake, extra, fake_labels = composite(mask, foreground, background), mask_sparsity(mask, 0.1), None
            else:
                (fake, fake_labels), extra = sample(args.batch), 0
            scores, logits = d_outputs(D, fake, args.noise, num_classes)
            loss_g = sum(bce(s, torch.ones_like(s)) for s in scores) + extra
            if num_classes:
                loss_g = loss_g + F.cross_entropy(logits, fake_labels)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            step += 1
            if step % 100 == 0 or step == args.steps:
                print(f"step {step} {time.time() - start:.0f}s loss_D {loss_d.item():.3f} loss_G {loss_g.item():.3f}", flush=True)
            if step == args.steps:
                break
    return G.eval(), sample, time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("game", choices=["vgan", "mocogan", "real"])
    parser.add_argument("--dataset", choices=list(DATASETS), default="moving_mnist")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--clips", type=int, default=256, help="clips scored (x T frames)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", default="outputs/.cache")
    parser.add_argument("--out", type=Path, default=Path("docs/video"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset_cfg = OmegaConf.create(DATASETS[args.dataset])
    metrics = OmegaConf.create({"num_samples": args.clips, "batch_size": 32, "seed": 0, "split": "test",
                                "cache_dir": args.cache, "kid_subsets": 50, "kid_subset_size": min(1000, args.clips * 4)})
    from hydra.utils import instantiate
    evaluator = build_video_evaluator(metrics, dataset_cfg, "cpu", make=instantiate)
    train_set = instantiate(dataset_cfg)
    categorical = train_set.num_classes if args.game == "mocogan" and args.dataset == "weizmann" else None
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    if args.game == "real":
        clips = real_clips(train_set, args.clips, seed=1)
        rows.append({"what": "real train clips", **evaluator.evaluate_clips(clips)})
        static = clips[:, :, :1].expand_as(clips).contiguous()
        rows.append({"what": "static: each real clip's first frame repeated", **evaluator.evaluate_clips(static)})
        write_gif(args.out / f"real_{args.dataset}.gif", clips[:16])
    else:
        G, sample, seconds = train(args, train_set, categorical)
        with torch.no_grad():
            scores = evaluator(lambda n: sample(n))
            gif = sample(16)[0]
        rows.append({"what": f"{args.game} {args.steps} steps", "train_seconds": round(seconds), **scores,
                     "args": {k: str(v) for k, v in vars(args).items()}})
        write_gif(args.out / f"{args.game}_{args.dataset}.gif", gif)
        torch.save(G.state_dict(), args.out / f"{args.game}_{args.dataset}_G.pt")
    for row in rows:
        print(json.dumps(row))
        with open(args.out / "results.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
