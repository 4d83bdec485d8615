"""`python scripts/coupled_translation.py CHECKPOINT N [STEPS]`: a coupled game's translations (game=unit: its
encoders; game=cogan: latent search, STEPS Adam steps, the run's game.translate_steps by default) of the first N
test images of each domain, scored both ways by ganrun/metrics/coupled.py (FID_classifier, KID_classifier, the
cycle's L1 and the digit classifiers' label accuracy), the classifiers from the metrics cache. Prints JSON."""
import json
import sys

import torch

from ganrun.commands.common import checkpoint_config
from ganrun.commands.translate import load_game
from ganrun.data.base import InMemory
from ganrun.data.domains import Coupled
from ganrun.experiment import make
from ganrun.metrics.coupled import build_coupled_metrics

torch.set_num_threads(1)
saved, cfg = checkpoint_config(sys.argv[1], [])
n = int(sys.argv[2])
game = load_game(saved, cfg, torch.device("cpu"), evaluate=False)
train, test = make(cfg.dataset), make(cfg.dataset, train=False)
first = [InMemory(*(t[:n] for t in d.tensors), name=d.name, num_classes=d.num_classes) for d in test.domains]
m = cfg.metrics
metrics = build_coupled_metrics(train, Coupled(*first, name=test.name), name=cfg.dataset.name, cache_dir=m.cache_dir,
                                device=torch.device("cpu"), batch_size=m.batch_size, kid_subsets=m.kid_subsets,
                                kid_subset_size=m.kid_subset_size, seed=m.seed)
a2b, b2a = game.translator("AtoB")[0], game.translator("BtoA")[0]
for net in (a2b, b2a):
    if len(sys.argv) > 3 and hasattr(net, "steps"):
        net.steps = int(sys.argv[3])
game.generator.eval()
print(json.dumps({"checkpoint": sys.argv[1], "test_images_per_domain": n, **metrics(a2b, b2a)}, indent=1))
