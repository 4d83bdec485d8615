"""Vector arithmetic and interpolation on the latents of a sample sheet (Radford et al. 2016, Sec. 6.3:
"smiling woman - neutral woman + neutral man = smiling man", each concept the average of three z).

An expression is a sum of terms over sheet indices (0-based, in the sheet's row-major order): a term
is one index (`3`) or the average of several (`[3,5,9]`), with + or - between terms:
    "3+7-12"            z_3 + z_7 - z_12
    "[0,1,2]-[3,4,5]+[6,7,8]"   mean(z_0, z_1, z_2) - mean(z_3, z_4, z_5) + mean(z_6, z_7, z_8)
"""

from __future__ import annotations

import re

import torch
from torch import Tensor

from ganrun.sampling import slerp

_TERM = re.compile(r"\s*([+-]?)\s*(\d+|\[\s*\d+(?:\s*,\s*\d+)*\s*\])\s*")


def parse(expression: str) -> list[tuple[int, list[int]]]:
    """"3+[1,2]-4" -> [(1, [3]), (1, [1, 2]), (-1, [4])]; ValueError naming what cannot be read."""
    terms, position = [], 0
    while position < len(expression):
        match = _TERM.match(expression, position)
        if match is None or match.end() == position or (terms and not match.group(1)):
            raise ValueError(f"cannot read the latent expression '{expression}' at position {position}: "
                             "write indices or [i,j,...] averages joined by + and -, e.g. 3+7-12")
        sign = -1 if match.group(1) == "-" else 1
        terms.append((sign, [int(i) for i in re.findall(r"\d+", match.group(2))]))
        position = match.end()
    if not terms:
        raise ValueError("the latent expression is empty: e.g. 3+7-12")
    return terms


def _terms(latents: Tensor, expression: str) -> list[tuple[int, list[int]]]:
    terms = parse(expression)
    bad = [i for _, indices in terms for i in indices if i >= len(latents)]
    if bad:
        raise ValueError(f"index {bad[0]} in '{expression}': the sheet holds {len(latents)} latents (0-{len(latents) - 1})")
    return terms


def compose(latents: Tensor, expression: str) -> Tensor:
    """The latent the expression names, from the sheet's latents (N, dim): (dim,)."""
    result = torch.zeros_like(latents[0])
    for sign, indices in _terms(latents, expression):
        result = result + sign * latents[indices].mean(0)
    return result


def term_latents(latents: Tensor, expression: str) -> Tensor:
    """Each term's (averaged) latent, in order, without its sign: (terms, dim), shown beside the result."""
    return torch.stack([latents[indices].mean(0) for _, indices in _terms(latents, expression)])


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """(1 - t) a + t b."""
    return (1 - t) * a + t * b


def strip(a: Tensor, b: Tensor, steps: int, method: str = "slerp") -> Tensor:
    """`steps` latents from a to b (both (dim,)), ends included: (steps, dim); slerp or lerp."""
    if steps < 2:
        raise ValueError(f"an interpolation strip needs steps >= 2, got {steps}")
    paths = {"slerp": slerp, "lerp": lerp}
    if method not in paths:
        raise ValueError(f"method={method}: use slerp or lerp")
    t = torch.linspace(0, 1, steps, dtype=a.dtype)[:, None]  # (steps, 1)
    return paths[method](a.expand(steps, -1), b.expand(steps, -1), t)
