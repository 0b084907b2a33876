"""Output heads: side by side in inference, each on its own in training."""

import os
import subprocess
import sys

import numpy as np
import tensorflow as tf

from seg2vid_tf.layers.batch_norm import BatchNorm
from seg2vid_tf.models.config import Img2VidConfig
from seg2vid_tf.models.heads import OutputHead, run_heads


def _heads_with_statistics():
    config = Img2VidConfig(height=128, width=128, width_multiplier=0.25)
    heads = [OutputHead(config, name="flow"), OutputHead(config, "sigmoid", name="mask"),
             OutputHead(config, name="back")]
    features = tf.constant(np.random.default_rng(0).normal(size=(3, 8, 8, 16)), tf.float32)
    rng = np.random.default_rng(1)
    for head in heads:
        head(features, training=False)
        for norm in (layer for layer in head._flatten_layers() if isinstance(layer, BatchNorm)):
            channels = norm.gamma.shape[0]
            norm.gamma.assign(rng.uniform(0.5, 2.0, channels))
            norm.beta.assign(rng.normal(size=channels))
            norm.moving_mean.assign(rng.normal(size=channels))
            norm.moving_variance.assign(rng.uniform(0.1, 3.0, channels))
    return heads, features


def test_heads_side_by_side_give_what_each_head_gives():
    heads, features = _heads_with_statistics()
    together = run_heads(heads, features, training=False)
    for head, output in zip(heads, together):
        np.testing.assert_allclose(output.numpy(), head(features, training=False).numpy(),
                                   rtol=1e-4, atol=1e-5)
    assert np.all((together[1].numpy() > 0) & (together[1].numpy() < 1))  # the sigmoid head


def test_heads_side_by_side_share_their_first_convolution():
    heads, features = _heads_with_statistics()
    graph = tf.function(lambda x: run_heads(heads, x, training=False)).get_concrete_function(
        features).graph
    convolutions = [op for op in graph.get_operations() if op.type == "Conv2D"]
    assert len(convolutions) == 1 + 2 * len(heads)
    assert all(op.inputs[1].shape[-1] != 3 * 8 for op in convolutions[1:])
    assert convolutions[0].inputs[1].shape[-1] == 3 * 8  # three heads' 8 filters each


def test_heads_in_training_update_their_own_running_statistics():
    heads, features = _heads_with_statistics()
    norm = heads[2].upconv.norm1
    before = norm.moving_mean.numpy().copy()
    together = run_heads(heads, features, training=True)
    assert not np.allclose(norm.moving_mean.numpy(), before)
    for head, output in zip(heads, together):
        np.testing.assert_allclose(output.numpy(), head(features, training=True).numpy(),
                                   rtol=1e-4, atol=1e-5)


def test_heads_side_by_side_run_without_onednn():
    """TensorFlow's own CPU kernels (oneDNN off, as on some serving builds) run them, eagerly
    and in a traced graph (where a grouped convolution fused with its bias would fail)."""
    script = (
        "import numpy as np, tensorflow as tf\n"
        "from seg2vid_tf.models.config import Img2VidConfig\n"
        "from seg2vid_tf.models.heads import OutputHead, run_heads\n"
        "config = Img2VidConfig(height=128, width=128, width_multiplier=0.25)\n"
        "heads = [OutputHead(config), OutputHead(config, 'sigmoid')]\n"
        "x = tf.random.stateless_normal([2, 8, 8, 16], seed=[0, 1])\n"
        "apart = [h(x, training=False).numpy() for h in heads]\n"
        "traced = tf.function(lambda v: run_heads(heads, v, training=False))\n"
        "for together in (run_heads(heads, x, training=False), traced(x)):\n"
        "    print(max(float(np.abs(a - b.numpy()).max()) for a, b in zip(apart, together)))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0"), check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    errors = [float(line) for line in result.stdout.split()]
    assert len(errors) == 2 and max(errors) < 1e-5, result.stdout
