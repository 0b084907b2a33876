"""FusedAdam: Keras' Adam step for step, in one op per variable."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.training.adam import FusedAdam


def _numpy_adam(values, gradients, steps, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Adam in float64 as Keras documents it (epsilon outside the bias-corrected root)."""
    values = [v.astype(np.float64) for v in values]
    m = [np.zeros_like(v) for v in values]
    v2 = [np.zeros_like(v) for v in values]
    for t in range(1, steps + 1):
        alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        for i, g in enumerate(gradients):
            m[i] += (g - m[i]) * (1 - beta_1)
            v2[i] += (g * g - v2[i]) * (1 - beta_2)
            values[i] -= alpha * m[i] / (np.sqrt(v2[i]) + epsilon)
    return values


@pytest.mark.parametrize("traced", [False, True])
def test_fused_adam_follows_keras_adam_and_the_formula(traced):
    rng = np.random.default_rng(0)
    shapes = [(3, 3, 4, 5), (5,), (7, 2)]
    start = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    gradients = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    results = {}
    for name, cls in (("keras", keras.optimizers.Adam), ("fused", FusedAdam)):
        variables = [tf.Variable(value) for value in start]
        optimizer = cls(learning_rate=1e-3, beta_1=0.5, beta_2=0.999)
        optimizer.build(variables)
        apply = lambda: optimizer.apply_gradients(zip(gradients, variables))  # noqa: E731
        if traced:
            apply = tf.function(apply)
        for _ in range(4):
            apply()
        results[name] = [variable.numpy() for variable in variables]
        assert int(optimizer.iterations.numpy()) == 4
    expected = _numpy_adam(start, gradients, 4, beta_1=0.5)
    for fused, ours, formula in zip(results["fused"], results["keras"], expected):
        np.testing.assert_allclose(fused, ours, rtol=0, atol=1e-6)
        np.testing.assert_allclose(fused, formula, rtol=0, atol=1e-6)
    moved = [np.abs(after - before).max() for after, before in zip(results["fused"], start)]
    assert min(moved) > 1e-3  # four steps of 1e-3 each, not a no-op


def test_fused_adam_is_one_op_per_variable():
    variables = [tf.Variable(tf.zeros([3])) for _ in range(5)]
    optimizer = FusedAdam()
    optimizer.build(variables)
    gradients = [tf.ones([3])] * 5
    graph = tf.function(lambda: optimizer.apply_gradients(zip(gradients, variables))
                        ).get_concrete_function().graph
    kinds = [op.type for op in graph.get_operations()]
    assert kinds.count("ResourceApplyAdam") == 5
    assert "AssignSubVariableOp" not in kinds  # no Keras per-variable update left
    assert kinds.count("Pow") == 2  # beta_1^t and beta_2^t once a step, not per variable


def test_amsgrad_keeps_keras_update():
    """Shrinking gradients, where AMSGrad's running maximum of `v` departs from Adam's `v`."""
    results = {}
    for name, cls, amsgrad in (("fused", FusedAdam, True), ("keras", keras.optimizers.Adam, True),
                               ("plain", keras.optimizers.Adam, False)):
        variable = tf.Variable([1.0, 2.0])
        optimizer = cls(learning_rate=0.1, beta_2=0.5, amsgrad=amsgrad)
        optimizer.build([variable])
        apply = tf.function(lambda g, optimizer=optimizer, variable=variable:
                            optimizer.apply_gradients([(g, variable)]))
        graph = apply.get_concrete_function(tf.TensorSpec([2], tf.float32)).graph
        assert "ResourceApplyAdam" not in [op.type for op in graph.get_operations()]
        for scale in (1.0, 0.1, 0.01):
            apply(tf.constant([0.5, -0.5]) * scale)
        results[name] = variable.numpy()
    np.testing.assert_allclose(results["fused"], results["keras"], rtol=0, atol=1e-7)
    assert np.abs(results["fused"] - results["plain"]).max() > 1e-3
