"""Each trick's function against what its paper specifies, with exact values."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganrun import sampling, tricks


def test_ema_weights_follow_the_decay_exactly():
    net = nn.Linear(2, 1, bias=False)
    ema = tricks.make_ema(net, decay=0.9)
    values = [torch.tensor([[1.0, -2.0]]), torch.tensor([[3.0, 0.0]]), torch.tensor([[-1.0, 4.0]])]
    for value in values:
        with torch.no_grad():
            net.weight.copy_(value)
        ema.update_parameters(net)
    # the first update copies; then w_ema <- 0.9 w_ema + 0.1 w
    expected = 0.9 * (0.9 * values[0] + 0.1 * values[1]) + 0.1 * values[2]
    assert_close(ema.module.weight, expected)
    assert_close(net.weight, values[2])  # the trained weights are untouched


def test_ema_averages_batch_norm_statistics_too():
    net = nn.BatchNorm1d(1)
    ema = tricks.make_ema(net, decay=0.5)
    for mean in (2.0, 4.0):
        net.running_mean.fill_(mean)
        ema.update_parameters(net)
    assert_close(ema.module.running_mean, torch.tensor([3.0]))


def batch(value: float, n: int = 4) -> torch.Tensor:
    return torch.arange(n, dtype=torch.float32)[:, None] + value  # rows value, value + 1, ...


def test_replay_buffer_holds_what_it_should_after_a_few_steps():
    torch.manual_seed(0)
    buffer = tricks.ReplayBuffer(capacity=6, fraction=0.5)
    seen = []
    for step, value in enumerate((0.0, 10.0, 20.0)):
        before = buffer.samples[:buffer.count].clone() if buffer.count else None
        mixed, _ = buffer.mix(batch(value), None)
        if step == 0:  # empty buffer: D gets the fresh batch
            assert_close(mixed, batch(value))
        else:  # half fresh (first rows), half from the buffer as it was
            assert_close(mixed[:2], batch(value)[:2])
            assert all(any(torch.equal(row, old) for old in before) for row in mixed[2:])
        seen.append(batch(value)[:2])
    # filled in order with the first half of each batch
    assert buffer.count == 6 and buffer.fill() == 1.0
    assert_close(buffer.samples, torch.cat(seen))
    buffer.mix(batch(30.0), None)  # full: two random entries replaced by the new fresh half
    rows = {float(r) for r in buffer.samples}
    assert {30.0, 31.0} <= rows and len(rows & {float(r) for r in torch.cat(seen)}) == 4


def test_replay_buffer_keeps_labels_with_samples_and_round_trips():
    buffer = tricks.ReplayBuffer(capacity=4, fraction=0.5)
    buffer.mix(batch(0.0), torch.tensor([7, 8, 9, 9]))
    mixed, labels = buffer.mix(batch(5.0), torch.tensor([1, 2, 3, 3]))
    for row, label in zip(mixed[2:], labels[2:]):  # a past sample keeps its own label
        assert (float(row), int(label)) in {(0.0, 7), (1.0, 8)}
    copy = tricks.ReplayBuffer(capacity=4, fraction=0.5)
    copy.load_state_dict(buffer.state_dict())
    assert copy.count == 4
    assert_close(copy.samples, buffer.samples)
    assert_close(copy.labels, buffer.labels)


def test_instance_noise_anneals_linearly_to_zero():
    stds = [tricks.instance_noise_std(step, 0.5, 4) for step in range(1, 7)]
    assert stds == [0.5, 0.375, 0.25, 0.125, 0.0, 0.0]
    assert tricks.instance_noise_std(1000, 0.5, 0) == 0.5  # no annealing: constant


def test_discriminator_input_adds_gaussian_noise_then_packs():
    x = torch.arange(8.0).view(4, 2)
    torch.manual_seed(3)
    noisy = tricks.discriminator_input(x, 0.25, pack_size=2)
    torch.manual_seed(3)
    expected = (x + 0.25 * torch.randn(4, 2)).view(2, 4)
    assert_close(noisy, expected)
    assert tricks.discriminator_input(x, 0.0, 1) is x  # both off: untouched


def test_mixed_batches_go_through_d_once():
    calls = []

    def discriminator(x, labels):
        calls.append(len(x))
        return x.sum(dim=1)

    real, fake = torch.ones(3, 2), torch.zeros(3, 2)
    separate = tricks.judge(discriminator, real, None, fake, None, mixed=False)
    mixed = tricks.judge(discriminator, real, None, fake, None, mixed=True)
    assert calls == [3, 3, 6]
    for a, b in zip(separate, mixed):
        assert_close(a, b)
    # with batch norm the two differ: that is the point of the switch
    bn = nn.Sequential(nn.BatchNorm1d(2), nn.Linear(2, 1))
    d = lambda x, labels: bn(x).squeeze(1)  # noqa: E731
    real = torch.randn(3, 2) + 3
    assert not torch.allclose(tricks.judge(d, real, None, fake, None, False)[0],
                              tricks.judge(d, real, None, fake, None, True)[0])


def test_latent_priors_and_generator_inputs():
    torch.manual_seed(0)
    u = sampling.uniform(1000, 3)
    assert float(u.min()) >= -1 and float(u.max()) <= 1 and float(u.min()) < -0.9
    s = sampling.spherical(50, 16)
    assert_close(s.norm(dim=1), torch.full((50,), 4.0))
    g = torch.Generator().manual_seed(1)
    assert_close(sampling.gaussian(3, 2, generator=g), torch.randn(3, 2, generator=torch.Generator().manual_seed(1)))
    inputs = sampling.GeneratorInputs("spherical", 9, num_classes=4, device=torch.device("cpu"))
    z, labels = inputs(5)
    assert_close(z.norm(dim=1), torch.full((5,), 3.0)) and labels.shape == (5,) and int(labels.max()) < 4
    z1, grid = inputs.fixed(10, seed=7)
    z2, _ = inputs.fixed(10, seed=7)
    assert_close(z1, z2, rtol=0, atol=0)  # the grid's inputs are the same every time
    assert grid.tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and inputs.grid_row(10) == 2
    assert sampling.GeneratorInputs("gaussian", 2, None, torch.device("cpu"))(3)[1] is None


def test_slerp_follows_the_great_circle():
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    assert_close(sampling.slerp(a, b, 0.0), a)
    assert_close(sampling.slerp(a, b, 1.0), b)
    assert_close(sampling.slerp(a, b, 0.5), torch.tensor([[1.0, 1.0]]) / math.sqrt(2))  # norm kept, not 0.71
    assert_close(sampling.slerp(a, a, 0.3), a)  # parallel: no division by sin(0)


def test_linear_decay_reaches_zero_at_the_last_step():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.4)
    scheduler = tricks.linear_decay(optimizer, steps=4)
    lrs = []
    for _ in range(4):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert_close(torch.tensor(lrs), torch.tensor([0.3, 0.2, 0.1, 0.0]))


@pytest.mark.parametrize("loss, threshold, expected", [(0.5, None, True), (0.5, 0.25, True), (0.25, 0.25, False), (0.125, 0.25, False)])
def test_adaptive_schedule_trains_while_the_loss_is_above_its_threshold(loss, threshold, expected):
    assert tricks.keep_training(torch.tensor(loss), threshold) is expected
