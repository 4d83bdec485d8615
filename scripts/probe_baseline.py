"""D's linear probe for an untrained D of a run's architecture (the same seed's initialisation): the
baseline the trained D's `probe_accuracy` is compared with in docs/evaluations.md.

    python scripts/probe_baseline.py outputs/issue15/dcgan_mnist/checkpoints/step_00002000.pt
"""

import sys

import torch

from ganrun.commands.common import checkpoint_config
from ganrun.experiment import make
from ganrun.games.gan import model_options
from ganrun.metrics.inspection import probe_of

saved, cfg = checkpoint_config(sys.argv[1], [])
dataset = make(cfg.dataset)
_, d_options = model_options(cfg, None)
torch.manual_seed(cfg.seed)
discriminator = make(cfg.architecture.discriminator, data_shape=tuple(dataset.data_shape), **d_options)
print(probe_of(discriminator, dataset, make(cfg.dataset, train=False), cfg.dataset.num_classes))
