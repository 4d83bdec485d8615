"""What can go wrong in a GAN run, told from the scalars the loop already reads back.

Each detector is a plain function of the run's scalar history (`Series`: tag -> the (step, value)
points logged so far) and the `health.*` thresholds; it returns a `Finding` (step, evidence, the
remedy the lecture decks and papers give) or None. Nothing here touches torch or the device: the
loop hands over the floats it reads at logging, sampling and metric steps, so a diagnosis costs no
host sync.

The symptoms (Goodfellow, NIPS 2016 tutorial, sec. 5; the course decks 001 and 003, "Non-convergence
in GANs", "Mode collapse", "Tricks"; Arjovsky & Bottou 2017 for the vanishing gradient):
- D is winning: D's outputs on real and generated batches stay far apart while G's loss rises;
- G's gradient vanishes: ||grad G|| falls to a small fraction of its early size;
- mode collapse: the fixed-noise samples are much less diverse than the real data (or cover few of
  a mixture's modes);
- divergence: a loss or a gradient norm grows far past its early size, or turns non-finite;
- oscillation without progress: the losses swing while the quality metric stops improving.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Callable, Optional

Series = dict[str, list[tuple[int, float]]]  # tag -> [(step, value), ...] in step order

REMEDIES = {
    "d_winning": "one-sided label smoothing (tricks.label_smoothing.real=0.9), instance noise "
                 "(tricks.instance_noise.std=0.1), fewer D steps (objective.d_steps), a lower D learning rate "
                 "(optimizer.discriminator.lr), or a loss whose gradient does not saturate (objective=wgan_gp)",
    "vanishing_gradient": "the non-saturating G loss (objective=ns) or a critic with a gradient penalty "
                          "(objective=wgan_gp), a lower D learning rate, one-sided label smoothing 0.9",
    "mode_collapse": "minibatch discrimination (tricks.minibatch_std=true), PacGAN (tricks.pack=2), historical "
                     "batches (tricks.history.size=640), unrolled D (objective=unrolled), or objective=wgan_gp",
    "divergence": "lower learning rates, gradient clipping (tricks.grad_clip=10), spectral normalization "
                  "(architecture.spectral_norm=true), or a gradient penalty (objective=wgan_gp)",
    "oscillation": "lower learning rates or their linear decay (tricks.linear_lr_decay=true), Adam with beta1=0.5, "
                   "an EMA of G (tricks.ema_decay=0.999), or historical batches (tricks.history.size=640)",
}
TITLES = {
    "d_winning": "D is winning",
    "vanishing_gradient": "G's gradient is vanishing",
    "mode_collapse": "mode collapse",
    "divergence": "divergence",
    "oscillation": "oscillation without progress",
}
# The quality metrics a run may log (ganrun/metrics/: metrics/FID_inception, metrics/FID_classifier, ...),
# by name prefix in order of preference, and whether larger is better.
# (A 2-D mixture's mode count saturates at K: its share of high-quality samples, hq, comes first.)
PROGRESS_METRICS = (("metrics/fid", False), ("metrics/kid", False), ("metrics/hq", True), ("metrics/is", True),
                    ("metrics/modes", True))


@dataclass(frozen=True)
class Finding:
    kind: str  # a key of TITLES
    step: int
    evidence: str

    @property
    def title(self) -> str:
        return TITLES[self.kind]

    @property
    def remedy(self) -> str:
        return REMEDIES[self.kind]

    def line(self) -> str:
        """The one console line (after `ganrun: warning: `)."""
        return f"step {self.step}: {self.title}: {self.evidence}; try {self.remedy}"

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "kind": self.kind, "title": self.title, "evidence": self.evidence,
                "remedy": self.remedy}


def recent(series: Series, tag: str, count: int, after: int = 0) -> list[float]:
    """The last `count` values of `tag` logged after step `after` ([] when fewer were)."""
    points = [value for step, value in series.get(tag, []) if step > after]
    return points[-count:] if len(points) >= count else []


def slope(values: list[float]) -> float:
    """Least-squares slope of `values` against their index (0 for fewer than 2)."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    return sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values)) / sum((i - mean_x) ** 2 for i in range(n))


def _last_step(series: Series, tag: str) -> int:
    return series[tag][-1][0]


def d_winning(series: Series, cfg: Any) -> Optional[Finding]:
    """D(x) - D(G(z)) >= cfg.gap at each of the last `window` logging steps, and loss/G rising over them."""
    real, fake = (recent(series, tag, cfg.window, cfg.warmup) for tag in ("D/real", "D/fake"))
    loss_g = recent(series, "loss/G", cfg.window, cfg.warmup)
    if not real or not fake or not loss_g:
        return None
    gaps = [r - f for r, f in zip(real, fake)]
    if min(gaps) < cfg.gap or slope(loss_g) <= 0:
        return None
    loss_d = recent(series, "loss/D", 1)
    return Finding("d_winning", _last_step(series, "loss/G"),
                   f"D(x) - D(G(z)) = {gaps[-1]:.3g} (>= health.gap={cfg.gap:g} for {len(gaps)} logging steps) "
                   f"while loss/G trends up ({slope(loss_g):+.3g} per logging step, now {loss_g[-1]:.3g})"
                   + (f" and loss/D is {loss_d[0]:.3g}" if loss_d else ""))


def vanishing_gradient(series: Series, cfg: Any) -> Optional[Finding]:
    """||grad G|| below cfg.gradient_fraction of its early median at each of the last `window` logging steps."""
    points = [value for step, value in series.get("grad_norm/G", []) if step > cfg.warmup]
    if len(points) < 2 * cfg.window:
        return None
    early, latest = statistics.median(points[:cfg.window]), points[-cfg.window:]
    if not early > 0 or max(latest) >= cfg.gradient_fraction * early:
        return None
    return Finding("vanishing_gradient", _last_step(series, "grad_norm/G"),
                   f"grad_norm/G = {latest[-1]:.3g}, below {cfg.gradient_fraction:g} x its early median {early:.3g} "
                   f"for {cfg.window} logging steps")


def mode_collapse(series: Series, cfg: Any) -> Optional[Finding]:
    """The fixed-noise samples' diversity (health/diversity: mean pairwise distance over the real data's) or,
    on a 2-D mixture, the share of modes they cover (health/mode_coverage) below cfg.diversity_fraction."""
    for tag, what in (("health/mode_coverage", "of the real modes hold 1/(4K) of the samples or more"),
                      ("health/diversity", "of the real data's mean pairwise distance")):
        latest = recent(series, tag, 1, cfg.warmup)
        if latest and latest[0] < cfg.diversity_fraction:
            return Finding("mode_collapse", _last_step(series, tag),
                           f"{tag} = {latest[0]:.2f} {what} (< health.diversity_fraction={cfg.diversity_fraction:g})")
    return None


DIVERGING = ("loss/D", "loss/G", "grad_norm/D", "grad_norm/G")


def divergence(series: Series, cfg: Any) -> Optional[Finding]:
    """A loss or gradient norm non-finite, or its magnitude above cfg.divergence_factor x its early median
    (at least cfg.divergence_floor) and rising at each of the last `window` logging steps."""
    for tag in DIVERGING:
        points = [value for step, value in series.get(tag, [])]
        if points and not math.isfinite(points[-1]):
            return Finding("divergence", _last_step(series, tag), f"{tag} = {points[-1]}")
        points = [abs(value) for step, value in series.get(tag, []) if step > cfg.warmup]
        if len(points) < 2 * cfg.window:
            continue
        bound = cfg.divergence_factor * max(statistics.median(points[:cfg.window]), cfg.divergence_floor)
        latest = points[-cfg.window:]
        rising = all(b > a for a, b in zip(latest, latest[1:]))
        if min(latest) > bound and rising:
            return Finding("divergence", _last_step(series, tag),
                           f"|{tag}| = {latest[-1]:.3g}, above {bound:.3g} (health.divergence_factor="
                           f"{cfg.divergence_factor:g} x its early size) and rising for {cfg.window} logging steps")
    return None


def oscillation(series: Series, cfg: Any) -> Optional[Finding]:
    """The quality metric has not improved on its best by cfg.tolerance (relative) for cfg.patience
    evaluations, while loss/G swings: its steps change sign at least half the time over the last
    2 x `window` logging steps, with a spread of at least cfg.amplitude x its mean magnitude."""
    found = [(tag, larger) for prefix, larger in PROGRESS_METRICS for tag in sorted(series)
             if tag.lower().startswith(prefix)]
    for tag, larger_is_better in found:
        values = [value for step, value in series[tag] if step > cfg.warmup]
        if len(values) > cfg.patience:
            break
    else:
        return None
    sign = 1.0 if larger_is_better else -1.0
    best_before = max(sign * v for v in values[:-cfg.patience])
    best_since = max(sign * v for v in values[-cfg.patience:])
    if best_since > best_before + cfg.tolerance * abs(best_before):
        return None
    loss = recent(series, "loss/G", 2 * cfg.window, cfg.warmup)
    if not loss:
        return None
    steps = [b - a for a, b in zip(loss, loss[1:])]
    changes = sum(1 for a, b in zip(steps, steps[1:]) if a * b < 0) / max(1, len(steps) - 1)
    spread = statistics.pstdev(loss) / max(abs(statistics.fmean(loss)), 1e-8)
    if changes < 0.5 or spread < cfg.amplitude:
        return None
    return Finding("oscillation", _last_step(series, tag),
                   f"{tag} has not improved on {sign * best_before:.4g} for {cfg.patience} evaluations while loss/G "
                   f"swings (spread {spread:.2f} of its mean, direction changes {changes:.0%} of logging steps)")


DETECTORS: tuple[Callable[[Series, Any], Optional[Finding]], ...] = (
    divergence, d_winning, vanishing_gradient, mode_collapse, oscillation)
