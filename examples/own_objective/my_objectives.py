"""A user's own objective, outside ganrun: the relativistic average least-squares GAN (RaLSGAN,
Jolicoeur-Martineau 2019, eq. 16), C being D's raw output:

    D minimises E[(C(x) - E C(G(z)) - 1)^2] + E[(C(G(z)) - E C(x) + 1)^2]
    G minimises E[(C(G(z)) - E C(x) - 1)^2] + E[(C(x) - E C(G(z)) + 1)^2]

G's loss needs D's scores of a real batch: the YAML says `generator_sees_real: true`, and ganrun then
calls `g_loss(fake, real)`.
"""

from torch import Tensor


def ralsgan_d_loss(real: Tensor, fake: Tensor) -> tuple[Tensor, dict]:
    return (real - fake.mean() - 1).pow(2).mean() + (fake - real.mean() + 1).pow(2).mean(), {}


def ralsgan_g_loss(fake: Tensor, real: Tensor) -> tuple[Tensor, dict]:
    return (fake - real.mean() - 1).pow(2).mean() + (real - fake.mean() + 1).pow(2).mean(), {}
