"""The family's and the tricks' config: defaults that follow the papers, and mistakes caught before torch."""

from __future__ import annotations

import pytest
import torch

from ganrun.errors import ConfigError
from ganrun.config.checks import is_conditional
from ganrun.config.choices import FGAN_DIVERGENCES, LATENT_PRIORS
from tests.conftest import compose_config


@pytest.mark.parametrize("overrides, message", [
    (["objective=lsgan", "tricks.label_smoothing.real=0.9"], "label smoothing"),
    (["tricks.label_smoothing.fake=1.5"], "target probability"),
    (["objective=ebgan", "architecture=dcgan"], "use architecture=autoencoder"),
    (["architecture=autoencoder"], "use objective=ebgan or began"),
    (["conditional=true", "dataset=image_folder", "dataset.root=/tmp"], "needs labels"),
    (["conditional=true", "objective=began"], "no conditional form"),
    (["objective=acgan", "dataset=image_folder", "dataset.root=/tmp"], "objective=acgan needs labels"),
    (["objective=fgan", "objective.divergence=tv"], "objective.divergence=tv"),
    (["objective=began", "objective.equilibrium.gamma=0"], "0 < gamma <= 1"),
    (["tricks.pack=3"], "must divide trainer.batch_size"),
    (["tricks.pack=2", "conditional=true"], "set conditional=false"),
    (["tricks.ema_decay=1.0"], "tricks.ema_decay"),
    (["tricks.latent=cauchy"], "tricks.latent=cauchy"),
    (["tricks.history.fraction=0"], "tricks.history.fraction"),
    (["tricks.instance_noise.std=-1"], "tricks.instance_noise.std"),
    (["tricks.grad_clip=0"], "tricks.grad_clip"),
    (["tricks.minibatch_std=true", "objective=began"], "minibatch_std"),
])
def test_mistakes_are_one_line_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        compose_config(overrides)


def test_papers_defaults():
    began = compose_config(["objective=began"])
    assert (began.architecture.name, began.architecture.discriminator.exponent, began.optimizer.lr,
            began.objective.equilibrium.gamma, began.objective.equilibrium.lambda_k) == ("autoencoder", 1, 1e-4, 0.5, 1e-3)
    ebgan = compose_config(["objective=ebgan"])
    assert (ebgan.architecture.discriminator.exponent, ebgan.architecture.discriminator.batch_norm,
            ebgan.objective.g_penalty.weight) == (2, True, 0.1)
    assert compose_config(["objective=unrolled"]).objective.unroll_steps == 5
    acgan = compose_config(["objective=acgan"])
    assert acgan.objective.scores == "logit_and_class" and is_conditional(acgan) and not acgan.conditional
    fgan = compose_config(["objective=fgan", "objective.divergence=kl"])
    assert fgan.objective.d_loss.divergence == fgan.objective.g_loss.divergence == "kl"
    tricks = compose_config([]).tricks  # every trick off by default
    assert (tricks.label_smoothing.real, tricks.label_smoothing.fake, tricks.instance_noise.std, tricks.history.size,
            tricks.ema_decay, tricks.minibatch_std, tricks.mixed_bn_batches, tricks.latent, tricks.adaptive.t_d,
            tricks.adaptive.t_g, tricks.linear_lr_decay, tricks.grad_clip, tricks.pack) == \
        (1.0, 0.0, 0.0, 0, None, False, False, "gaussian", None, None, False, None, 1)


def test_the_torch_free_name_lists_match_the_code():
    from ganrun import sampling
    from ganrun.config.choices import NORMALIZATIONS, PRECISIONS
    from ganrun.models.layers import normalization
    from ganrun.objectives import fdivergence
    from ganrun.run import fast_path

    assert FGAN_DIVERGENCES == tuple(fdivergence.DIVERGENCES)
    assert LATENT_PRIORS == tuple(sampling.LATENT_PRIORS)
    assert PRECISIONS == tuple(fast_path.PRECISIONS)
    for kind in NORMALIZATIONS:  # every choice builds a layer
        assert isinstance(normalization(kind, 4), torch.nn.Module)
