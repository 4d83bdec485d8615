"""`python scripts/cogan_translation_accuracy.py CHECKPOINT N CACHE_DIR` (a game=cogan run on dataset=mnist_negative).
Share of held-out MNIST digits (domain A) whose CoGAN translation (latent search, 500 Adam steps) the
domain-B classifier labels as the input's true digit."""
import sys, torch
from ganrun.commands.common import checkpoint_config
from ganrun.experiment import make
from ganrun.metrics.classifier import load_or_train
from ganrun.metrics.features import quantize
saved, cfg = checkpoint_config(sys.argv[1], [])
game = make(cfg.game)(cfg, device=torch.device("cpu"), make=make, evaluate=False, seed=cfg.seed)
game.generator.load_state_dict(saved["generator"])
n = int(sys.argv[2])
x, same, other = game.translate(game.generator.eval(), num=n, seed=1, source="A", steps=500)
test = make(cfg.dataset, train=False).domains[0]
pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(1))[:n]
labels = test.tensors[1][pick]
train = make(cfg.dataset)
net_b = load_or_train(train.domains[1], make(cfg.dataset, train=False).domains[1], key="mnist_negative_B_32px_1ch",
                      num_classes=10, cache_dir=sys.argv[3], device=torch.device("cpu"))
with torch.no_grad():
    predicted = net_b(quantize(other))[1].argmax(1)
print(f"translation accuracy A->B on {n} test digits: {(predicted == labels).float().mean():.3f}")
