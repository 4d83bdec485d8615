"""Energy-based objectives: EBGAN (Zhao et al. 2017) and BEGAN (Berthelot et al. 2017), as the papers write them.

D is an auto-encoder (`architecture=autoencoder`) and its output per sample is an energy, the
reconstruction error En(x) = |Dec(Enc(x)) - x|^eta averaged over pixels: low on data, high elsewhere.
The losses keep the house signatures `d_loss(real, fake)` / `g_loss(fake)` with `real` = En(x) and
`fake` = En(G(z)), shape (N,). BEGAN's k_t is state its Objective (objective.py) holds and checkpoints
carry; the rule that moves it is the pure function `began_k_update`.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor
from torch.nn.functional import relu

from ganrun.objectives.losses import Terms, check_scores

# ---------------------------------------------------------------- EBGAN


def ebgan_d_loss(real: Tensor, fake: Tensor, margin: float) -> tuple[Tensor, Terms]:
    """min_En E En(x) + E [m - En(G(z))]^+: reconstruct data well, push fakes' energy up to the margin m."""
    check_scores(real, fake)
    return real.mean() + relu(margin - fake).mean(), {}


def energy_g_loss(fake: Tensor) -> tuple[Tensor, Terms]:
    """EBGAN's and BEGAN's G: min_G E En(G(z)), samples D reconstructs well."""
    check_scores(fake)
    return fake.mean(), {}


def pull_away_term(embedding: Tensor) -> Tensor:
    """EBGAN's repelling regulariser on a batch of codes S (N, F):
    PT = 1 / (N (N - 1)) sum_{i != j} (S_i . S_j / (|S_i| |S_j|))^2, the mean squared cosine similarity
    over distinct pairs: 0 for mutually orthogonal codes, 1 when all codes point the same way."""
    n = embedding.shape[0]
    if n < 2:
        raise ValueError("the pull-away term needs at least two samples per batch")
    unit = embedding.flatten(1) / embedding.flatten(1).norm(dim=1, keepdim=True)
    cosine_squared = (unit @ unit.T).pow(2)  # (N, N), ones on the diagonal
    return (cosine_squared.sum() - cosine_squared.diagonal().sum()) / (n * (n - 1))


def pull_away_penalty(discriminator: Any, fake: Tensor, weight: float) -> tuple[Tensor, Terms]:
    """EBGAN-PT: lambda_PT * PT(Enc(G(z))), added to G's loss (lambda_PT = 0.1 in the paper).

    The codes come from the auto-encoder's `encode` on the batch G is judged on; re-encoding costs one
    encoder pass, and keeps D's forward free of side outputs."""
    term = pull_away_term(discriminator.encode(fake))
    return weight * term, {"pull_away": term.detach()}


# ---------------------------------------------------------------- BEGAN


def began_d_loss(real: Tensor, fake: Tensor, k: Tensor) -> tuple[Tensor, Terms]:
    """min_En En(x) - k_t En(G(z_D)), with k_t from the equilibrium control (the loop passes it)."""
    check_scores(real, fake)
    return real.mean() - k * fake.mean(), {}


def began_k_update(k: Tensor, real_energy: Tensor, fake_energy: Tensor, gamma: float,
                   lambda_k: float) -> Tensor:
    """k_{t+1} = clip(k_t + lambda_k (gamma En(x) - En(G(z_G))), 0, 1), on the batch means of the energies.

    A proportional controller: when fakes are reconstructed too well (En(G(z)) > gamma En(x) fails)
    k grows and D pushes fakes' energy up harder; gamma = E En(G(z)) / E En(x) is the target ratio."""
    return (k + lambda_k * (gamma * real_energy - fake_energy)).clamp(0.0, 1.0)


def began_convergence(real_energy: Tensor, fake_energy: Tensor, gamma: float) -> Tensor:
    """M_global = En(x) + |gamma En(x) - En(G(z_G))|: falls as training converges."""
    return real_energy + (gamma * real_energy - fake_energy).abs()


def began_equilibrium(k: Tensor, real: Tensor, fake: Tensor, gamma: float,
                      lambda_k: float) -> tuple[Tensor, Terms]:
    """One step of BEGAN's control from D's energies on this step's real batch and G's fake batch:
    the next k_t, and the terms to plot (`k_t` after the update and `M_global`)."""
    real_energy, fake_energy = real.detach().mean(), fake.detach().mean()
    k_next = began_k_update(k, real_energy, fake_energy, gamma, lambda_k)
    return k_next, {"k_t": k_next, "M_global": began_convergence(real_energy, fake_energy, gamma)}
