"""R1, R2, lazy regularisation and the L2 penalty on D's weights against hand-computed values
(Mescheder et al. 2018, eq. 9-10; Karras et al. 2020, section 3.1)."""

import functools

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from ganrun.objectives.regularizers import Lazy, Penalties, r1_penalty, r1_r2_penalty, r2_penalty, weight_penalty

F64 = dict(dtype=torch.float64)


def small_d(x):
    """D(x) = x1^2 + 3 x2 (per sample): grad = (2 x1, 3), by hand."""
    return x[:, 0] ** 2 + 3 * x[:, 1]


REAL = torch.tensor([[1.0, 2.0], [0.5, -1.0]], **F64)   # grads (2, 3), (1, 3): |g|^2 = 13, 10
FAKE = torch.tensor([[-1.5, 0.0], [0.0, 4.0]], **F64)   # grads (-3, 3), (0, 3): |g|^2 = 18, 9


def test_r1_is_half_gamma_times_the_mean_squared_gradient_norm_on_reals():
    loss, terms = r1_penalty(small_d, REAL, FAKE, gamma=2.0)
    assert_close(terms["r1"], torch.tensor((13 + 10) / 2, **F64))
    assert_close(loss, torch.tensor(2.0 / 2 * 11.5, **F64))


def test_r2_is_the_same_on_fakes_and_r1_r2_sums_them():
    loss, terms = r2_penalty(small_d, REAL, FAKE, gamma=0.5)
    assert_close(terms["r2"], torch.tensor((18 + 9) / 2, **F64))
    assert_close(loss, torch.tensor(0.25 * 13.5, **F64))
    both, both_terms = r1_r2_penalty(small_d, REAL, FAKE, gamma=0.5)
    assert_close(both, torch.tensor(0.25 * (11.5 + 13.5), **F64))
    assert set(both_terms) == {"r1", "r2"}


def test_r1_of_a_network_matches_its_closed_form_gradient_and_reaches_the_weights():
    """D(x) = v . tanh(W x): grad_x D = W^T (v * (1 - tanh(W x)^2)), written out by hand."""
    torch.manual_seed(0)
    layer, v = nn.Linear(3, 4, bias=False).double(), torch.randn(4, **F64)
    x = torch.randn(5, 3, **F64)
    d = lambda points: torch.tanh(layer(points)) @ v  # noqa: E731
    hidden = torch.tanh(x @ layer.weight.T)
    gradients = (v * (1 - hidden ** 2)) @ layer.weight  # (5, 3)
    loss, _ = r1_penalty(d, x, None, gamma=10.0)
    assert_close(loss, 5.0 * gradients.pow(2).sum(1).mean())
    loss.backward()  # create_graph: the penalty trains D's weights
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_lazy_regularisation_computes_every_kth_call_times_k():
    lazy = Lazy(functools.partial(r1_penalty, gamma=2.0), every=3)
    losses = [lazy(small_d, REAL, FAKE)[0] for _ in range(7)]
    expected = [3 * 11.5, 0, 0, 3 * 11.5, 0, 0, 3 * 11.5]
    assert_close(torch.stack(losses), torch.tensor(expected, **F64))
    _, terms = lazy(small_d, REAL, FAKE)  # an off call still reports the last value
    assert_close(terms["r1"], torch.tensor(11.5, **F64))
    restored = Lazy(functools.partial(r1_penalty, gamma=2.0), every=3)
    restored.load_state_dict(lazy.state_dict())  # 8 calls made: the 9th is off, the 10th on
    assert_close(restored(small_d, REAL, FAKE)[0], torch.tensor(0.0, **F64))
    assert_close(restored(small_d, REAL, FAKE)[0], torch.tensor(3 * 11.5, **F64))
    with pytest.raises(ValueError, match="every >= 1"):
        Lazy(r1_penalty, every=0)


def test_weight_penalty_is_lambda_times_the_sum_of_squared_weights():
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -2.0]]))
        layer.bias.fill_(3.0)
    loss, terms = weight_penalty(functools.partial(layer), None, None, weight=0.1)  # through a partial too
    assert_close(terms["weight_l2"], torch.tensor(14.0))
    assert_close(loss, torch.tensor(1.4))


def test_penalties_sum_and_merge_terms():
    total, terms = Penalties([functools.partial(r1_penalty, gamma=2.0),
                              functools.partial(r2_penalty, gamma=2.0)])(small_d, REAL, FAKE)
    assert_close(total, torch.tensor(11.5 + 13.5, **F64))
    assert set(terms) == {"r1", "r2"}
