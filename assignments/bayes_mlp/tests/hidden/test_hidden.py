"""Hidden checks: other parameter values, the optimality of w_map_laplace, and the reference's accuracy."""

import runpy
from pathlib import Path

import numpy as np
import pytest

from grader.model import Diagnosis
from grader.testing import assert_close, fail

C = runpy.run_path(str(Path(__file__).resolve().parents[1] / "common.py"))


@pytest.mark.task("1.1")
@pytest.mark.points(2)
def test_posterior_mu_other_values(student, reference):
    """posterior_mu with many points and a narrow prior"""
    x = np.random.default_rng(11).normal(3.0, 0.5, size=200)
    got, want = student.posterior_mu(x, 0.25, 0.01), reference.posterior_mu(x, 0.25, 0.01)
    assert_close(np.asarray(got, dtype=float).reshape(-1), np.asarray(want, dtype=float), rtol=1e-8,
                 name="posterior_mu")


@pytest.mark.task("1.2b")
@pytest.mark.points(1)
def test_mu_map_other_values(student, reference):
    """mu_map with a wide prior and one point"""
    x = np.array([2.5])
    assert_close(student.mu_map(x, 3.0, 100.0), reference.mu_map(x, 3.0, 100.0), rtol=1e-8, name="mu_map")


@pytest.mark.task("1.2d")
@pytest.mark.points(1)
def test_posterior_predictive_other_values(student, reference):
    """posterior_predictive with many points"""
    x = np.random.default_rng(12).normal(-1.0, 2.0, size=500)
    got, want = student.posterior_predictive(x, 4.0, 0.5), reference.posterior_predictive(x, 4.0, 0.5)
    assert_close(np.asarray(got, dtype=float).reshape(-1), np.asarray(want, dtype=float), rtol=1e-8,
                 name="posterior_predictive")


@pytest.mark.task("2.1")
@pytest.mark.points(2)
def test_neg_log_posterior_other_values(student, reference):
    """neg_log_posterior on another problem, differences between three w"""
    rng = np.random.default_rng(21)
    X, y, sigma2, tau, mu = C["laplace_problem"](rng, n=40, p=10, sigma2=2.0, tau=0.3)
    ws = [rng.normal(size=10) for _ in range(3)]
    got = np.array([float(np.squeeze(student.neg_log_posterior(w, X, y, sigma2, tau, mu))) for w in ws])
    want = np.array([reference.neg_log_posterior(w, X, y, sigma2, tau, mu) for w in ws])
    assert_close(got - got[0], want - want[0], rtol=1e-7, atol=1e-8, name="differences of neg_log_posterior")


@pytest.mark.task("2.2")
@pytest.mark.points(4)
@pytest.mark.timeout(30)
def test_w_map_laplace_is_optimal(student):
    """w_map_laplace satisfies the subgradient optimality conditions and is the Lasso optimum"""
    rng = np.random.default_rng(22)
    X, y, sigma2, tau, mu = C["laplace_problem"](rng, n=60, p=12, sigma2=0.3, tau=0.05)
    w = np.asarray(student.w_map_laplace(X, y, sigma2, tau, mu), dtype=float).reshape(-1)
    if w.shape != (12,):
        fail(f"w_map_laplace returned {w.size} numbers for 12 features", Diagnosis.WRONG_SHAPE)
    residual = C["subgradient_residual"](w, X, y, sigma2, tau, mu)
    optimum = C["laplace_optimum"](X, y, sigma2, tau, mu)
    distance = float(np.linalg.norm(w - optimum) / (1 + np.linalg.norm(optimum)))
    if residual.max() > 1e-5 or distance > 1e-4:
        gap = C["laplace_objective"](w, X, y, sigma2, tau, mu) - C["laplace_objective"](optimum, X, y, sigma2, tau, mu)
        fail(f"w_map_laplace is not the minimum: 0 is not in the subdifferential of the objective at its w "
             f"(largest violation {residual.max():.2e}, relative); the objective is {gap:.3g} above the optimum")


@pytest.mark.task("2.3")
@pytest.mark.points(1)
def test_w_map_gaussian_other_values(student, reference):
    """w_map_gaussian with a strong prior"""
    rng = np.random.default_rng(23)
    X, y, v = rng.normal(size=(10, 6)), rng.normal(size=10), rng.normal(size=6)
    assert_close(student.w_map_gaussian(X, y, 1.0, v, 0.01), reference.w_map_gaussian(X, y, 1.0, v, 0.01),
                 rtol=1e-7, name="w_map_gaussian")


@pytest.mark.task("3.2")
@pytest.mark.points(1)
def test_mlp_forward_other_sizes(student, reference):
    """mlp_forward with a wider hidden layer"""
    point = C["mlp_point"](np.random.default_rng(32), M=4, H=9)
    x, _, W1, b1, W2, b2 = point
    for got, want, name in zip(student.mlp_forward(x, W1, b1, W2, b2), reference.mlp_forward(x, W1, b1, W2, b2),
                               ("a1", "z1", "a2", "y_hat"), strict=True):
        assert_close(got, want, rtol=1e-8, name=name)


@pytest.mark.task("3.3")
@pytest.mark.points(2)
def test_mlp_grads_label_zero(student, reference):
    """mlp_grads for a label 0 and other sizes"""
    x, _, W1, b1, W2, b2 = C["mlp_point"](np.random.default_rng(33), M=6, H=4)
    got, want = student.mlp_grads(x, 0.0, W1, b1, W2, b2), reference.mlp_grads(x, 0.0, W1, b1, W2, b2)
    for key in ("W1", "b1", "W2", "b2"):
        assert_close(got[key], want[key], rtol=1e-7, name=f"the gradient for {key}")


@pytest.mark.task("4.2")
@pytest.mark.points(1)
def test_net_on_unbatched_channel(student, data):
    """net also flattens (N, 28, 28) images"""
    rng = np.random.default_rng(42)
    X = data["digits"]["X_val"][:8].reshape(8, 28, 28)
    weights = (rng.normal(scale=0.05, size=(784, 256)).astype(np.float32), np.zeros(256, np.float32),
               rng.normal(scale=0.3, size=(256, 10)).astype(np.float32), np.zeros(10, np.float32))
    out = C["p4_worker"](student).student_net_with(student.tensor(X), *(student.tensor(w) for w in weights), True)
    H = np.maximum(X.reshape(8, -1).astype(float) @ weights[0], 0)
    assert_close(out, C["softmax"](H @ weights[2]), rtol=1e-4, atol=1e-6, name="net(X) for (N, 28, 28) images")


@pytest.mark.task("4.4")
@pytest.mark.points(2)
@pytest.mark.timeout(60)
def test_whole_network_trains_like_the_reference(student, reference, data, settings, seed):
    """the notebook's own net, parameters, cross_entropy, sgd and train, end to end, as well as the reference"""
    d = data["digits"]
    args = (int(settings["epochs"]), float(settings["learning_rate"]), int(settings["batch_size"]), seed)
    got = float(C["p4_worker"](student).student_train_whole(
        student.tensor(d["X_train"]), student.tensor(d["y_train"]), student.tensor(d["X_val"]),
        student.tensor(d["y_val"]), *args))
    want = C["p4_host"]()["train_whole"](reference, d["X_train"], d["y_train"], d["X_val"], d["y_val"], *args)
    if got < want - float(settings["accuracy_margin"]):
        fail(f"trained end to end with your own net, cross_entropy and sgd, the validation accuracy is "
             f"{got:.1%}, more than {float(settings['accuracy_margin']):.0%} below the reference's",
             Diagnosis.BELOW_THRESHOLD)
