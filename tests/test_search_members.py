"""Members trained together equal members trained alone; chunking, epoch sharing and continued
training change nothing."""

from __future__ import annotations

import numpy as np
import pytest
from optbench.runners.mnist import jax_trainer
from optbench.runners.mnist import plugin as mnist_plugin
from optbench.runners.mnist.members import Member, MemberGroup, chunk_sizes
from optbench.runners.mnist.model import Data, ModelConfig, TrainSettings
from optbench.runners.search import fits, mnist_fits
from sklearn.model_selection import KFold

from optbench import registry

N, BATCH, EPOCHS = 600, 64, 2


@pytest.fixture(scope="module")
def images(mnist_dir):
    x, y, _, _ = mnist_fits.arrays("mnist", str(mnist_dir), N)
    return x, y


@pytest.fixture(scope="module")
def members(images):
    x, _ = images
    plugin = registry.optimizer("rmsprop")
    out = []
    for init in ("glorot_uniform", "random_uniform"):
        for lr in (0.001, 0.003):
            for k, (train, test) in enumerate(KFold(3).split(x)):
                tx = plugin.build(learning_rate=lr, steps_per_epoch=-(-len(train) // BATCH))
                config = ModelConfig(initializer=init)
                out.append(Member(config, tx, 11 * len(out) + k, train, test))
    return out


@pytest.fixture(scope="module")
def together(images, members):
    group = MemberGroup(*images, members, BATCH)
    losses = group.train_to(EPOCHS)
    return group, losses, group.evaluate()


def test_vmapped_scores_equal_members_trained_alone(images, members, together):
    x, y = images
    _, losses, (loss, acc) = together
    for i in (0, 4, 11):
        m = members[i]
        fold = (x[m.train_rows], y[m.train_rows], x[m.test_rows], y[m.test_rows])
        alone = jax_trainer.train(
            Data(*fold, *fold[2:]),
            m.config,
            m.tx,
            TrainSettings(batch_size=BATCH, epochs=EPOCHS, seed=m.seed),
        )
        assert acc[i] == pytest.approx(alone.history[-1]["val_accuracy"], abs=1e-5)
        assert loss[i] == pytest.approx(alone.history[-1]["val_loss"], rel=1e-4)
        assert losses[-1, i] == pytest.approx(alone.history[-1]["loss"], rel=1e-4)


def test_chunking_the_member_axis_changes_nothing(images, members, together):
    group, losses, (loss, acc) = together
    assert group.chunk_sizes == [12]
    chunked = MemberGroup(*images, members, BATCH, chunk=5)
    assert chunked.chunk_sizes == [4, 4, 4]
    chunked_losses = chunked.train_to(EPOCHS)
    chunked_loss, chunked_acc = chunked.evaluate()
    np.testing.assert_allclose(chunked_acc, acc, atol=1e-6)
    np.testing.assert_allclose(chunked_loss, loss, rtol=1e-5)
    np.testing.assert_allclose(chunked_losses, losses, rtol=1e-5)


def test_continued_training_equals_an_uninterrupted_run(images, members, together):
    _, _, (loss, acc) = together
    first = MemberGroup(*images, members, BATCH)
    first.train_to(1)
    survivors = [7, 2, 10]
    continued = first.keep(survivors)
    continued.train_to(EPOCHS)
    cont_loss, cont_acc = continued.evaluate()
    np.testing.assert_allclose(cont_acc, acc[survivors], atol=1e-6)
    np.testing.assert_allclose(cont_loss, loss[survivors], rtol=1e-5)


def test_members_sharing_a_folds_order_equal_members_trained_alone(images, members, together):
    """shuffle = "fold": a member's numbers do not depend on its group or chunk; with its own
    seed as the order seed it is `jax_trainer.train` with that seed."""
    import dataclasses

    x, y = images
    shared = [dataclasses.replace(m, order_seed=1000 + i % 3) for i, m in enumerate(members)]
    shared[4] = dataclasses.replace(shared[4], seed=1001)
    group = MemberGroup(*images, shared, BATCH)
    assert sorted(group.chunk_sizes) == [4, 4, 4]
    losses = group.train_to(EPOCHS)
    loss, acc = group.evaluate()
    for i in (0, 4, 11):
        alone = MemberGroup(*images, [shared[i]], BATCH)
        alone_losses = alone.train_to(EPOCHS)
        alone_loss, alone_acc = alone.evaluate()
        assert acc[i] == pytest.approx(alone_acc[0], abs=1e-6)
        assert loss[i] == pytest.approx(alone_loss[0], rel=1e-5)
        np.testing.assert_allclose(losses[:, i], alone_losses[:, 0], rtol=1e-5)
    m = shared[4]
    fold = (x[m.train_rows], y[m.train_rows], x[m.test_rows], y[m.test_rows])
    trained = jax_trainer.train(
        Data(*fold, *fold[2:]),
        m.config,
        m.tx,
        TrainSettings(batch_size=BATCH, epochs=EPOCHS, seed=1001),
    )
    assert acc[4] == pytest.approx(trained.history[-1]["val_accuracy"], abs=1e-5)
    assert losses[-1, 4] == pytest.approx(trained.history[-1]["loss"], rel=1e-4)
    own_losses = together[1]
    assert not np.allclose(losses[:, 0], own_losses[:, 0])  # another order, other numbers


def test_members_sharing_an_order_seed_must_share_their_rows(images, members):
    import dataclasses

    mixed = [dataclasses.replace(m, order_seed=7) for m in members[:2]]  # folds 0 and 1
    with pytest.raises(ValueError, match="sharing an order seed must train on the same rows"):
        MemberGroup(*images, mixed, BATCH)


def test_chunks_are_balanced_within_the_budget():
    assert chunk_sizes(25, 10, 240, None) == [13, 12]
    assert chunk_sizes(6, 10, 10**9, None) == [6]
    assert chunk_sizes(7, 10, 10**9, 3) == [3, 2, 2]


def _fit_specs(epochs: list[int], mnist_dir) -> list:
    cv = {"splitter": "kfold", "n_splits": 3, "shuffle": False, "random_state": None}
    specs = []
    for e in epochs:
        wrapped = fits.wrapped_spec(
            "mnist",
            "mnist",
            "rmsprop",
            0,
            {"subset": N, "data": str(mnist_dir), "batch_size": BATCH},
            {"epochs": e, "initializer": "glorot_uniform"},
        )
        specs += [fits.fit_spec(wrapped, cv, k, "jax") for k in range(3)]
    return specs


def test_configurations_differing_in_epochs_share_one_exact_run(mnist_dir, monkeypatch):
    monkeypatch.setenv(mnist_plugin.QUIET_ENV, "1")
    shared = mnist_fits.run_group(_fit_specs([1, 2], mnist_dir)).rows.set_index("run_key")
    assert set(shared["members_together"]) == {3}
    alone = mnist_fits.run_group(_fit_specs([1], mnist_dir)).rows.set_index("run_key")
    assert alone.index.isin(shared.index).all()
    assert (shared.loc[alone.index, "test_score"] == alone["test_score"]).all()
    assert (shared.loc[alone.index, "train_loss"] == alone["train_loss"]).all()
