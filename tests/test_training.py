"""Training: the loss gradient against finite differences, and the three update rules."""

from __future__ import annotations

import numpy as np
import pytest

import ntklib


def _problem(rng, m=12, d=3, n=7):
    net, W0 = ntklib.init_network(m, d, rng, activation="tanh", symmetric=True)
    X = ntklib.sphere(n, d, rng)
    return net, W0, X, ntklib.targets(X, "smooth")


def test_mse_gradient_matches_finite_differences(rng) -> None:
    net, W, X, y = _problem(rng)
    W = W + 0.3 * rng.standard_normal(W.shape)
    G = ntklib.mse_gradient(net, X, y, W)
    h, fd = 1e-6, np.empty_like(W)
    for j in range(W.shape[0]):
        for k in range(W.shape[1]):
            E = np.zeros_like(W)
            E[j, k] = h
            fd[j, k] = (ntklib.mse(net, X, y, W + E) - ntklib.mse(net, X, y, W - E)) / (2 * h)
    np.testing.assert_allclose(G, fd, atol=1e-9)


def test_gd_is_the_update_at_the_current_iterate(rng) -> None:
    net, W0, X, y = _problem(rng)
    run = ntklib.train(net, X, y, W0, steps=5, lr=0.7)
    W = W0.copy()
    for _ in range(5):
        W = W - 0.7 * ntklib.mse_gradient(net, X, y, W)
    np.testing.assert_allclose(run.W, W, rtol=1e-14, atol=1e-15)
    assert run.steps.tolist() == [0, 1, 2, 3, 4, 5]
    assert run.loss[0] == pytest.approx(np.mean(y**2))          # symmetric start: f = 0
    assert run.displacement[0] == 0 and run.displacement[-1] == pytest.approx(np.linalg.norm(W - W0))
    assert np.all(np.diff(run.loss) < 0)                        # small steps decrease the loss


def test_sgd_and_noisy_are_seeded_and_differ_from_gd(rng) -> None:
    net, W0, X, y = _problem(rng)
    gd = ntklib.train(net, X, y, W0, steps=20, lr=0.5, record_every=10)
    sgd = [ntklib.train(net, X, y, W0, steps=20, lr=0.5, method="sgd", batch_size=3, rng=ntklib.rng("s"),
                        record_every=10) for _ in range(2)]
    noisy = ntklib.train(net, X, y, W0, steps=20, lr=0.5, method="noisy", noise_std=0.1, rng=ntklib.rng("n"))
    assert np.array_equal(sgd[0].W, sgd[1].W)                   # same seed, same run
    assert not np.allclose(sgd[0].W, gd.W) and not np.allclose(noisy.W, gd.W)
    assert gd.steps.tolist() == [0, 10, 20]
    full = ntklib.train(net, X, y, W0, steps=20, lr=0.5, method="sgd", batch_size=7, rng=ntklib.rng("s"))
    np.testing.assert_allclose(full.W, gd.W, rtol=1e-13)        # a batch of all n points is GD


def test_train_refuses_bad_settings(rng) -> None:
    net, W0, X, y = _problem(rng)
    with pytest.raises(ValueError, match="method='adam'"):
        ntklib.train(net, X, y, W0, steps=1, lr=0.1, method="adam")
    with pytest.raises(ValueError, match="rng=None"):
        ntklib.train(net, X, y, W0, steps=1, lr=0.1, method="sgd", batch_size=2)
    with pytest.raises(ValueError, match="batch_size=None"):
        ntklib.train(net, X, y, W0, steps=1, lr=0.1, method="sgd", rng=rng)
    with pytest.raises(ValueError, match="batch_size=8"):
        ntklib.train(net, X, y, W0, steps=1, lr=0.1, method="sgd", batch_size=8, rng=rng)
    with pytest.raises(ValueError, match="noise_std=0.0"):
        ntklib.train(net, X, y, W0, steps=1, lr=0.1, method="noisy", rng=rng)
    with pytest.raises(ValueError, match="lr=0.0"):
        ntklib.train(net, X, y, W0, steps=1, lr=0.0)
    with pytest.raises(ValueError, match="steps=0"):
        ntklib.train(net, X, y, W0, steps=0, lr=0.1)
    with pytest.raises(ValueError, match="y="):
        ntklib.mse(net, X, y[:-1], W0)
    with pytest.raises(ValueError, match="W0 has 11 rows"):
        ntklib.train(net, X, y, W0[:-1], steps=1, lr=0.1)


def test_noisy_gd_replayed_from_the_same_stream(rng) -> None:
    """Noisy GD is W_k = W_{k-1} - lr (grad + xi_k), xi_k ~ N(0, noise_std^2 I): the noise in the update has
    standard deviation lr * noise_std (not sqrt(lr) * noise_std).  Replayed step by step from the same
    stream, the run is reproduced bit for bit."""
    net, W0, X, y = _problem(rng)
    lr, sd, steps = 0.04, 0.3, 6                # lr != 1 and lr != sqrt(lr): the scale is identified
    run = ntklib.train(net, X, y, W0, steps=steps, lr=lr, method="noisy", noise_std=sd, rng=ntklib.rng("replay"))
    replay, W = ntklib.rng("replay"), W0.copy()
    for _ in range(steps):
        W -= lr * ntklib.mse_gradient(net, X, y, W)
        W += lr * sd * replay.standard_normal(W.shape)
    np.testing.assert_array_equal(run.W, W)
    # the noise alone, in law: one step's deviation from the GD step, divided by lr * sd, is N(0, 1)
    many = ntklib.init_network(2000, 3, rng, activation="tanh", symmetric=True)
    one = ntklib.train(many[0], X, y, many[1], steps=1, lr=lr, method="noisy", noise_std=sd, rng=ntklib.rng("law"))
    gd = ntklib.train(many[0], X, y, many[1], steps=1, lr=lr)
    z = ((one.W - gd.W) / (lr * sd)).ravel()
    assert abs(z.std() - 1.0) < 0.05 and abs(z.mean()) < 0.1      # 6000 draws: sd of z.std() is 0.009


def test_diverging_training_raises_naming_the_step_size(rng) -> None:
    net, W0, X, y = _problem(rng)
    with pytest.raises(ValueError, match=r"lr=1e\+200: the iterates diverged"):
        ntklib.train(net, X, y, W0, steps=3, lr=1e200)
    with pytest.raises(ValueError, match="X, y, W: the mean squared error is not finite"):
        ntklib.mse(net, X, y + 1e300, W0)


def test_train_records_every_few_steps_and_the_last(rng) -> None:
    net, W0, X, y = _problem(rng)
    run = ntklib.train(net, X, y, W0, steps=7, lr=0.1, record_every=3)
    assert run.steps.tolist() == [0, 3, 6, 7]
    assert run.loss[-1] == pytest.approx(ntklib.mse(net, X, y, run.W), rel=1e-15)
    assert run.displacement[-1] == pytest.approx(np.linalg.norm(run.W - W0), rel=1e-15)
