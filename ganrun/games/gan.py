"""G(z) against D(x) (Goodfellow et al. 2014), unconditional or class-conditional (Mirza & Osindero
2014; projection D, Miyato & Koyama 2018; AC-GAN, Odena et al. 2017), with the tricks that change what
D sees: instance noise, PacGAN packing, historical batches, real-only/fake-only batch norm batches.

Each D update: a real batch and a fresh latent batch; D judges both, the objective gives D's loss and
penalty. Each G update: a fresh latent batch (Algorithm 1), or with `reuse_fake` the D update's fakes
(pytorch/examples' DCGAN), scored by the objective's scorer (D, or the Unrolled GAN's D_K).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn

from ganrun.averaging import HistoricalAveraging
from ganrun.config.compose import plain
from ganrun.config.checks import is_conditional
from ganrun.data import infinite_batches
from ganrun.games.base import Game, Histogram, Terms, Visual
from ganrun.games.helpers import read_dataset
from ganrun.health.diversity import real_samples
from ganrun.models import apply_spectral_norm
from ganrun.diffaugment import DiffAugment
from ganrun.models.salimans import VirtualBatchNormNet
from ganrun.objectives import Objective
from ganrun.objectives.regularizers import Lazy, Penalties, weight_penalty
from ganrun.objectives.salimans import feature_matching_g_loss
from ganrun.sampling import GeneratorInputs
from ganrun.tricks import ReplayBuffer, discriminator_input, instance_noise_std, judge, packed_shape

SCATTER_SAMPLES = 1000  # fixed latents drawn in the 2-D scatter plot


@torch.no_grad()
def generate(generator: nn.Module, latents: Tensor, labels: Tensor | None = None) -> Tensor:
    """Samples in eval mode, so drawing a grid never moves BatchNorm's running statistics."""
    was_training = generator.training
    generator.eval()
    samples = generator(latents, labels)
    generator.train(was_training)
    return samples


class GeneratorVsDiscriminator(Game):
    def __init__(self, *, dataset: Any, generator: nn.Module, discriminator: nn.Module, objective: Objective, batches: Any,
                 inputs: GeneratorInputs, batch_size: int, tricks: Any, reuse_fake: bool = False,
                 evaluator: Callable[[Callable[[int], Tensor]], dict[str, float]] | None = None,
                 fixed_inputs: tuple[Tensor, Tensor | None], real_points: Tensor | None = None, seed: int = 0,
                 regularizer: Lazy | None = None):
        self.generator = self.G = generator
        self.discriminator = self.D = discriminator
        self.objective, self.d_steps = objective, objective.d_steps
        self.dataset, self.batches, self.inputs, self.batch_size = dataset, batches, inputs, batch_size
        self.latent_dim = inputs.latent_dim
        self.conditional = inputs.num_classes is not None
        self.tricks, self.reuse_fake = tricks, reuse_fake
        self.history = ReplayBuffer(tricks.history.size, tricks.history.fraction) if tricks.history.size else None
        self.evaluator, self.fixed_inputs, self.real_points = evaluator, fixed_inputs, real_points
        self.modes, self.seed = getattr(dataset, "modes", None), seed  # a 2-D mixture's modes; the real grid's draw
        self.noise_std = 0.0
        self.regularizer = regularizer  # the lazy R1/R2 (its call count is state)
        policy = tricks.get("diffaugment")
        self.augment = DiffAugment(policy) if policy else None  # Zhao et al. 2020
        # Salimans et al. 2016: feature matching as G's loss; historical averaging of both players' weights
        self.feature_matching = tricks.feature_matching
        self.historical = HistoricalAveraging(generator, discriminator, tricks.historical_averaging) \
            if tricks.historical_averaging else None
        self.generated: tuple[Tensor, Tensor | None] | None = None  # the D update's fakes, for reuse_fake
        self.last_real_scores: Tensor | None = None
        self.last_d_fake_scores: Tensor | None = None

    def prepare(self, wrap: Callable[[nn.Module], nn.Module]) -> None:
        self.G, self.D = wrap(self.generator), wrap(self.discriminator)

    def has_penalty(self) -> bool:
        return self.objective.has_penalty

    def stateful_parts(self) -> dict[str, Any]:
        parts = {"batches": self.batches, "history": self.history, "regularizer": self.regularizer,
                 "historical_averaging": self.historical,
                 "objective_state": self.objective if hasattr(self.objective, "state_dict") else None}
        return {name: part for name, part in parts.items() if part is not None}

    def start_step(self, step: int) -> None:
        self.noise_std = instance_noise_std(step, self.tricks.instance_noise.std, self.tricks.instance_noise.anneal_steps)

    def next_batch(self) -> tuple[Tensor, Tensor | None]:
        x, y = next(self.batches)
        return x, (y if self.conditional else None)

    def seen(self, x: Tensor) -> Tensor:
        """What D sees of a batch, real or fake, in D's and G's updates: DiffAugment's T(x) (G's gradient
        flows through it), instance noise, then PacGAN packing (each a no-op when off)."""
        x = self.augment(x) if self.augment is not None else x
        return discriminator_input(x, self.noise_std, self.tricks.pack)

    def discriminator_loss(self, batch: tuple[Tensor, Tensor | None]) -> tuple[Tensor, Terms]:
        real, real_labels = batch
        latents, fake_labels = self.inputs(self.batch_size)
        with torch.set_grad_enabled(self.reuse_fake):  # reuse_fake keeps G's graph for G's update
            generated = self.G(latents, fake_labels)
        self.generated = (generated, fake_labels) if self.reuse_fake else None
        fake = generated.detach()
        if self.history is not None:  # historical generator batches: part of the fakes from the past
            fake, fake_labels = self.history.mix(fake, fake_labels)
        real_in, fake_in = self.seen(real), self.seen(fake)
        # Real and fake go through D in separate batches (BatchNorm sees one kind at a time) unless mixed.
        d_real, d_fake = judge(self.D, real_in, real_labels, fake_in, fake_labels, self.tricks.mixed_bn_batches)
        loss, terms = self.objective.discriminator_loss(d_real, d_fake)
        # on the built D (eager, fp32: a compiled graph has no double backward)
        penalty, penalty_terms = self.objective.penalty(partial(self.discriminator, labels=real_labels),
                                                        real_in, fake_in)
        if penalty is not None:
            loss, terms = loss + penalty, {**terms, **penalty_terms}
        if self.historical is not None:
            penalty, penalty_terms = self.historical.penalty("D", self.discriminator)
            loss, terms = loss + penalty, {**terms, **penalty_terms}
        self.last_real_scores, self.last_d_fake_scores = d_real, d_fake  # also for the histograms of D's outputs
        return loss, {**terms, "D/real": self.objective.source_scores(d_real).mean(),
                      "D/fake": self.objective.source_scores(d_fake).mean()}

    def after_discriminator_update(self) -> None:
        self.objective.after_discriminator_update(self.discriminator)
        if self.historical is not None:
            self.historical.update("D", self.discriminator)

    def generator_loss(self, batch: tuple[Tensor, Tensor | None]) -> tuple[Tensor, Terms]:
        if self.generated is not None:  # reuse_fake: the D update's batch, graph kept (used once)
            generated, fake_labels = self.generated
            self.generated = None
        else:
            latents, fake_labels = self.inputs(self.batch_size)
            generated = self.G(latents, fake_labels)
        real, real_labels = batch
        fake_in = self.seen(generated)
        # the Unrolled GAN replays D's optimizer on the built D and this step's real batch
        d_fake = self.objective.generator_scores(self.D, fake_in, fake_labels, built=self.discriminator,
                                                 optimizer=getattr(self, "optimizer_d", None),
                                                 real=real, real_labels=real_labels, seen=self.seen)
        d_real = self.D(self.seen(real), real_labels) if self.objective.generator_sees_real else None
        if self.feature_matching:  # ||E f(x) - E f(G(z))||^2 on the built D's penultimate features
            loss, terms = feature_matching_g_loss(self.discriminator.features(self.seen(real)),
                                                  self.discriminator.features(fake_in))
        else:
            loss, terms = self.objective.generator_loss(d_fake, d_real)
        penalty, penalty_terms = self.objective.generator_penalty(self.discriminator, fake_in)  # reads D's encoder
        if penalty is not None:
            loss, terms = loss + penalty, {**terms, **penalty_terms}
        if self.historical is not None:
            penalty, penalty_terms = self.historical.penalty("G", self.generator)
            loss, terms = loss + penalty, {**terms, **penalty_terms}
        self.last_fake_scores = d_fake
        return loss, terms

    def end_step(self, step: int) -> Terms:
        if self.historical is not None:  # after G's update
            self.historical.update("G", self.generator)
        # BEGAN: k_t from this step's real energies and the energies G was scored on
        return self.objective.after_step(self.last_real_scores, self.last_fake_scores)

    def scalars(self) -> dict[str, float]:
        values: dict[str, float] = {}
        if self.tricks.instance_noise.std > 0:
            values["tricks/instance_noise_std"] = self.noise_std
        if self.history is not None:
            values["tricks/history_fill"] = self.history.fill()
        for name, on in (("pack", self.tricks.pack > 1), ("minibatch_std", self.tricks.minibatch_std),
                         ("mixed_bn_batches", self.tricks.mixed_bn_batches)):
            if on:
                values[f"tricks/{name}"] = float(self.tricks[name])
        for name, value in (("minibatch_discrimination", self.tricks.minibatch_discrimination.kernels),
                            ("virtual_batch_norm", self.tricks.virtual_batch_norm),
                            ("feature_matching", self.feature_matching),
                            ("historical_averaging", self.tricks.historical_averaging)):
            if value:
                values[f"tricks/{name}"] = float(value)
        return values

    def visuals(self, generator: nn.Module) -> dict[str, Visual | Histogram]:
        samples = generate(generator, *self.fixed_inputs)
        if self.real_points is not None:  # 2-D mixtures: a scatter plot instead of a grid
            views = {"samples/scatter": Visual(samples, reference=self.real_points, modes=self.modes)}
        else:
            views = {"samples/fixed": Visual(samples, nrow=self.inputs.grid_row(len(samples)))}
        if self.last_real_scores is not None:  # D's outputs on the last real and generated batch it judged
            views["D/real_outputs"] = Histogram(self.objective.source_scores(self.last_real_scores))
            views["D/fake_outputs"] = Histogram(self.objective.source_scores(self.last_d_fake_scores))
        return views

    def real_visuals(self) -> dict[str, Visual]:
        if self.real_points is not None:
            return {"samples/real": Visual(self.real_points[:0], reference=self.real_points, modes=self.modes)}
        real = real_samples(self.dataset, len(self.fixed_inputs[0]), seed=self.seed)
        return {"samples/real": Visual(real, nrow=self.inputs.grid_row(len(real)))}

    def evaluate(self, generator: nn.Module) -> dict[str, float]:
        if self.evaluator is None:
            return {}
        return self.evaluator(lambda n: generate(generator, *self.inputs(n)))


def model_options(cfg: DictConfig, num_classes: int | None) -> tuple[dict, dict]:
    """Keyword arguments for G and for D beyond the architecture node's, only where a switch is on (so
    every family's defaults stay its paper's): the classes when conditional, AC-GAN's class head
    instead of the projection, the minibatch stddev layer, minibatch discrimination."""
    labels = {"num_classes": num_classes} if num_classes is not None else {}
    d_options = dict(labels)
    if cfg.objective.scores == "logit_and_class":
        d_options["auxiliary_classifier"] = True
    if cfg.tricks.minibatch_std:
        d_options["minibatch_std"] = True
    kernels = OmegaConf.select(cfg, "tricks.minibatch_discrimination.kernels", default=0)
    if kernels:  # Salimans et al. 2016 (dcgan's D)
        d_options["minibatch_kernels"] = kernels
        d_options["minibatch_kernel_dim"] = cfg.tricks.minibatch_discrimination.kernel_dim
    return labels, d_options


def make_generator(cfg: DictConfig, make: Callable[..., Any], dataset: Any) -> nn.Module:
    """G as the config builds it for `dataset` (also what `ganrun eval` and `ganrun sample` load)."""
    num_classes = dataset.num_classes if is_conditional(cfg) else None
    g_options, _ = model_options(cfg, num_classes)
    generator = make(cfg.architecture.generator, data_shape=tuple(dataset.data_shape), **g_options)
    reference = OmegaConf.select(cfg, "tricks.virtual_batch_norm", default=0)
    if reference:  # virtual batch norm (Salimans et al. 2016): a fixed reference batch, a buffer of G
        inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim, num_classes, torch.device("cpu"))
        generator = VirtualBatchNormNet(generator, *inputs.fixed(reference, seed=cfg.seed + 2))
    return generator


def label_smoothing(cfg: DictConfig) -> dict:
    """The D loss's soft targets under label smoothing (Salimans et al. 2016); none when off."""
    smoothing = cfg.tricks.label_smoothing
    if (smoothing.real, smoothing.fake) == (1.0, 0.0):
        return {}
    return {"d_loss": {"real_target": smoothing.real, "fake_target": smoothing.fake}}


def add_regularizer(objective: Objective, regularizer: DictConfig | None, make: Callable[..., Any]) -> Lazy | None:
    """Adds `regularizer` (R1/R2, lazily every k D steps; an L2 penalty on D's weights) to the objective's
    own penalty, summed; returns the lazy part (checkpointed) or None. `objective.own_penalty` keeps the
    objective's own one (a schedule's `objective.penalty.*` reaches it)."""
    objective.own_penalty = objective.d_penalty
    if regularizer is None:  # a config from before the regularizer group
        return None
    lazy = Lazy(make(regularizer.penalty), regularizer.every) if regularizer.penalty is not None else None
    weights = partial(weight_penalty, weight=regularizer.weight_l2) if regularizer.weight_l2 > 0 else None
    parts = [p for p in (objective.d_penalty, lazy, weights) if p is not None]
    if len(parts) > 1 or (parts and parts[0] is not objective.d_penalty):
        objective.d_penalty = Penalties(parts)
    return lazy


def build(cfg: DictConfig, *, device: torch.device, make: Callable[..., Any], evaluate: bool, seed: int,
          name: str = "gan") -> GeneratorVsDiscriminator:
    dataset = read_dataset(cfg, make)  # reading data must not move the networks' init
    num_classes = dataset.num_classes if is_conditional(cfg) else None
    _, d_options = model_options(cfg, num_classes)  # labels, AC-GAN's head, minibatch stddev/discrimination
    generator = make_generator(cfg, make, dataset).to(device)  # virtual batch norm's wrapper when on
    # PacGAN: D judges `pack` samples at once, so its input has pack times the channels.
    discriminator = make(cfg.architecture.discriminator,
                         data_shape=packed_shape(tuple(dataset.data_shape), cfg.tricks.pack), **d_options)
    if cfg.architecture.spectral_norm:
        discriminator = apply_spectral_norm(discriminator)
    trainer = cfg.trainer
    batches = infinite_batches(dataset, trainer.batch_size, seed=seed, device=device,
                               num_workers=trainer.num_workers, on_device=trainer.data_on_device)
    inputs = GeneratorInputs(cfg.tricks.latent, cfg.architecture.latent_dim, num_classes, device)
    points = len(dataset.data_shape) == 1
    fixed_inputs = inputs.fixed(SCATTER_SAMPLES if points else trainer.num_grid_samples, seed=cfg.seed + 1)
    evaluator = None
    if evaluate:  # metrics see only a sampling function: they never touch the training state
        from ganrun.metrics import build_evaluator

        evaluator = build_evaluator(cfg.metrics, cfg.dataset, device, make=make)
    objective = make(cfg.objective, **label_smoothing(cfg))
    regularizer = add_regularizer(objective, cfg.get("regularizer"), make)
    return GeneratorVsDiscriminator(
        dataset=dataset, generator=generator, discriminator=discriminator.to(device), regularizer=regularizer,
        objective=objective, batches=batches, inputs=inputs,
        batch_size=trainer.batch_size, tricks=plain(cfg.tricks), reuse_fake=trainer.reuse_fake, evaluator=evaluator,
        fixed_inputs=fixed_inputs, real_points=dataset.tensors[0][:SCATTER_SAMPLES] if points else None,
        seed=cfg.seed)
