"""Karras et al. 2018's growth schedule in images shown to D: stabilise 4x4, then per new level a
fade-in phase (alpha rising linearly 0 -> 1) and a stabilisation phase (alpha = 1); the last level
stays. The paper used 800k images per phase. Pure functions of the images seen, so a resumed run is
at exactly the level and alpha it was at (mid fade-in included).
"""

from __future__ import annotations


def growth(images: int, levels: int, fade_images: int, stable_images: int) -> tuple[int, float]:
    """(level, alpha) after `images` real images: level 0 for `stable_images`, then for each level l >= 1
    `fade_images` with alpha = (images into the fade) / fade_images, then `stable_images` at alpha 1."""
    if fade_images <= 0 or stable_images <= 0:
        raise ValueError(f"growth phases need positive image counts, got fade={fade_images} stable={stable_images}")
    rest = images - stable_images
    level = 0
    while rest >= 0 and level < levels - 1:
        level += 1
        if rest < fade_images:
            return level, rest / fade_images
        rest -= fade_images + stable_images
    return level, 1.0

