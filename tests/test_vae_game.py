"""The VAE game without the loop: its loss trains both halves, its grids pair inputs with reconstructions."""

import torch
from torch.testing import assert_close

from ganrun.data.base import InMemory
from ganrun.games.helpers import side_by_side
from ganrun.games.vae import VAEGame
from ganrun.models.vae import VAE
from ganrun.objectives.vae import NegativeELBO


def _game():
    torch.manual_seed(0)
    data = InMemory(torch.rand(40, 1, 8, 8) * 2 - 1, torch.zeros(40, dtype=torch.int64), name="t", num_classes=None)
    vae = VAE(latent_dim=3, data_shape=(1, 8, 8), width=4)
    return VAEGame(vae, data, batch_size=8, seed=0, device=torch.device("cpu"), objective=NegativeELBO(std=0.5),
                   num_grid_samples=4)


def test_loss_reaches_encoder_and_decoder():
    game = _game()
    assert game.discriminator is None and game.d_steps == 0
    batch = game.next_batch()
    loss, terms = game.generator_loss(batch)
    loss.backward()
    assert_close(loss, terms["loss/reconstruction"] + terms["loss/KL"])
    assert game.generator.encoder.head.weight.grad.abs().sum() > 0
    assert game.generator.decoder.project.weight.grad.abs().sum() > 0


def test_grids_pair_inputs_with_reconstructions():
    game = _game()
    grids = game.visuals(game.generator)
    pairs = grids["samples/reconstructions"].tensor
    assert pairs.shape == (64, 1, 8, 8)
    assert_close(pairs[0::2], game.grid_inputs)  # inputs at even places, their reconstructions next
    assert grids["samples/fixed"].tensor.shape == (4, 1, 8, 8)
    assert game.generator.training  # drawing the grid left the training mode as it was


def test_side_by_side_interleaves():
    a, b = torch.tensor([1, 2]), torch.tensor([10, 20])
    assert side_by_side(a, b).tolist() == [1, 10, 2, 20]
