"""supcon_loss against a direct loop over anchors of Eq. 2 (Khosla et al. 2020); SupConEncoder training."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from underact.agents.perception import SupConEncoder, supcon_loss
from underact.agents.perception.supcon import augment_frames


def loop_supcon(features: torch.Tensor, labels, temperature: float) -> float:
    """L_out written anchor by anchor, in plain Python floats."""
    b, v, _ = features.shape
    z = [(features[i, j] / features[i, j].norm()).tolist() for i in range(b) for j in range(v)]
    group = [(i if labels is None else int(labels[i])) for i in range(b) for _ in range(v)]

    def dot(p, q):
        return sum(x * y for x, y in zip(p, q, strict=True)) / temperature

    terms = []
    for i in range(b * v):
        positives = [p for p in range(b * v) if p != i and group[p] == group[i]]
        if not positives:
            continue
        denominator = sum(math.exp(dot(z[i], z[a])) for a in range(b * v) if a != i)
        terms.append(-sum(math.log(math.exp(dot(z[i], z[p])) / denominator) for p in positives) / len(positives))
    return sum(terms) / len(terms) if terms else 0.0


@pytest.mark.parametrize(
    ("b", "v", "labels", "temperature"),
    [
        (6, 2, [0, 1, 0, 2, 1, 3], 0.1),  # classes 2 and 3 are singletons: only their other view is positive
        (6, 1, [0, 1, 0, 2, 1, 3], 0.5),  # one view: singleton anchors have no positive and are left out
        (5, 3, None, 0.2),  # self-supervised: only a sample's own other views
        (4, 2, [1, 1, 1, 1], 1.0),  # one class: everything else is positive
    ],
)
def test_supcon_loss_matches_loop(b, v, labels, temperature):
    torch.manual_seed(0)
    f = torch.randn(b, v, 5, dtype=torch.float64, requires_grad=True)
    lab = None if labels is None else torch.tensor(labels)
    loss = supcon_loss(f, lab, temperature)
    assert loss.item() == pytest.approx(loop_supcon(f.detach(), labels, temperature), rel=1e-10)
    loss.backward()
    assert torch.isfinite(f.grad).all() and f.grad.abs().sum() > 0


def test_no_positive_anywhere_gives_zero_not_nan():
    f = torch.randn(4, 1, 3, requires_grad=True)
    loss = supcon_loss(f, torch.arange(4))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(f.grad, torch.zeros_like(f))


def test_loss_is_scale_invariant_and_lowest_when_classes_collapse():
    torch.manual_seed(1)
    f = torch.randn(8, 2, 4)
    labels = torch.tensor([0, 1] * 4)
    assert supcon_loss(3.0 * f, labels).item() == pytest.approx(supcon_loss(f, labels).item(), rel=1e-5)
    collapsed = torch.stack([torch.eye(4)[int(c)] for c in labels])[:, None].expand(8, 2, 4)
    # perfect clusters: each anchor's positives carry all but exp(-1/t) of the mass of the others
    n_pos, n_neg, t = 7, 8, 0.1
    exact = -math.log(math.exp(1 / t) / (n_pos * math.exp(1 / t) + n_neg * math.exp(0.0)))
    assert supcon_loss(collapsed, labels, t).item() == pytest.approx(exact, rel=1e-5)
    assert supcon_loss(collapsed, labels, t) < supcon_loss(f, labels, t)


def test_bad_shapes_name_the_expected_shape():
    with pytest.raises(ValueError, match=r"\[B, V, D\]"):
        supcon_loss(torch.randn(4, 3))
    with pytest.raises(ValueError, match=r"\[B\] = \[4\]"):
        supcon_loss(torch.randn(4, 2, 3), torch.arange(5))
    enc = SupConEncoder((1, 8, 8))
    with pytest.raises(ValueError, match=r"\[B, 1, 8, 8\]"):
        enc(torch.randn(2, 64))
    with pytest.raises(ValueError, match=r"\[N\] = \[3\]"):
        enc.fit(torch.randn(3, 1, 8, 8), torch.arange(4), progress=False)


def _digits(n_classes: int):
    data = load_digits(n_class=n_classes)
    x = torch.tensor(data.images / 16.0, dtype=torch.float32)[:, None]
    return x, torch.tensor(data.target)


def _nearest_centroid_accuracy(f_train, y_train, f_test, y_test) -> float:
    f_train, f_test = torch.nn.functional.normalize(f_train, dim=1), torch.nn.functional.normalize(f_test, dim=1)
    centroids = torch.stack([f_train[y_train == c].mean(0) for c in y_train.unique()])
    return float(((f_test @ centroids.T).argmax(1) == y_test).float().mean())


def test_fit_clusters_digit_classes_and_is_reproducible(tmp_path):
    x, y = _digits(5)
    rng = np.random.default_rng(0)
    idx = torch.tensor(rng.permutation(len(y)))
    train, test = idx[:150], idx[150:]
    torch.manual_seed(0)
    enc = SupConEncoder((1, 8, 8), feature_dim=32, width=8)
    twin, other = copy.deepcopy(enc), copy.deepcopy(enc)
    with torch.no_grad():
        before = _nearest_centroid_accuracy(enc(x[train]), y[train], enc(x[test]), y[test])
    for model in (twin, other):
        model.fit(x[train], y[train], epochs=2, batch_size=64, seed=3, progress=False)
    for a, b in zip(twin.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    losses = enc.fit(x[train], y[train], epochs=20, batch_size=64, seed=3, progress=False)
    with torch.no_grad():  # SupCon clusters the backbone's features; `enc(...)` standardises them afterwards
        after = _nearest_centroid_accuracy(enc.backbone(x[train]), y[train], enc.backbone(x[test]), y[test])
        features = enc(x[train])
    assert losses[-1] < losses[0] - 0.5  # the floor is about log(positives per anchor) ~ 3.2 here
    assert after > 0.9 and after > before + 0.05
    live = features.std(dim=0) > 0  # ReLU features that never fire stay 0
    assert live.sum() > 16
    torch.testing.assert_close(features.mean(dim=0), torch.zeros(32), atol=1e-5, rtol=0)
    torch.testing.assert_close(features[:, live].std(dim=0, unbiased=False), torch.ones(int(live.sum())))
    enc.save(tmp_path / "enc.safetensors")
    loaded = SupConEncoder.load(tmp_path / "enc.safetensors")
    assert torch.equal(loaded(x[:10]), enc(x[:10]))


def test_vector_encoder_and_frame_augmentation_shapes():
    enc = SupConEncoder((6,), feature_dim=8)
    assert enc(torch.randn(5, 6)).shape == (5, 8) and enc.project(torch.randn(5, 6)).shape == (5, 32)
    x = torch.rand(4, 3, 20, 24)
    g = torch.Generator().manual_seed(0)
    shifted = augment_frames(x, g, max_shift=2)
    assert shifted.shape == x.shape and not torch.allclose(shifted, x, atol=0.1)


def test_encoded_observations_feed_the_population_evaluator():
    import gymnasium as gym

    import underact.envs  # noqa: F401
    from underact.agents.backends import evaluate_in
    from underact.agents.hebbian import PlasticNet
    from underact.agents.perception.encoded import EncodedEnvSpec, VectorEncodedObservation
    from underact.envs.wrappers import VectorHiddenVelocity

    def wrap(env):
        return VectorEncodedObservation(VectorHiddenVelocity(env), lambda obs: 2.0 * obs, 3)

    spec = EncodedEnvSpec("underact/CartPoleBalance-v0", wrap=wrap)
    env = spec.make(4)
    obs, _ = env.reset(seed=0)
    full = env.unwrapped.task.observe(env.unwrapped.state)  # x, cos, sin, xdot, thetadot
    np.testing.assert_allclose(obs, 2.0 * full[:, :3], rtol=1e-6)
    bad = VectorEncodedObservation(gym.make_vec("underact/CartPoleBalance-v0", 2, "vector_entry_point"), np.ravel, 5)
    with pytest.raises(ValueError, match=r"\[num_envs, feature_dim\] = \[2, 5\]"):
        bad.reset(seed=0)
    net = PlasticNet((3, 4, 1), "ABCD_lr")
    returns = evaluate_in(spec, net, np.zeros(net.num_params, dtype=np.float32), episodes=3, seed=0)
    assert returns.shape == (3,) and np.all(returns >= 1)


def test_files_saved_before_standardisation_load_as_identity(tmp_path):
    """An encoder file without the standardisation buffers (written before they existed) gives raw features."""
    from safetensors.torch import save_file

    torch.manual_seed(0)
    enc = SupConEncoder((1, 8, 8), feature_dim=8, width=4)
    state = {k: v for k, v in enc.state_dict().items() if not k.startswith("feature_")}
    save_file(state, str(tmp_path / "old.safetensors"), metadata={"supcon_config": json.dumps(enc.config)})
    old = SupConEncoder.load(tmp_path / "old.safetensors")
    x = torch.rand(5, 1, 8, 8)
    torch.testing.assert_close(old(x), enc.backbone(x))
    enc.standardise(x)
    assert not torch.allclose(enc(x), enc.backbone(x))  # after `standardise` they differ
