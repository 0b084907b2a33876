"""Batch normalization with the exact semantics of PyTorch's `BatchNorm{1,2,3}d`.

Keras' `BatchNormalization` is close but not identical to PyTorch's:

* PyTorch updates `running_var` with the *unbiased* batch variance
  (`n / (n - 1)` times the biased one used for normalization); Keras uses the
  biased one. After many training steps the running statistics (and therefore
  every inference result) drift apart.
* The seg2vid refine network is applied to each predicted frame in a separate
  call, so in training mode its statistics are taken over each frame's batch on
  its own and the running statistics are updated once per frame, in frame order.
  Running all frames through the network as one batch (much faster) needs batch
  statistics per group of rows and the same sequence of running updates, which
  `num_groups` provides.

Momentum is given in PyTorch terms: `running = (1 - momentum) * running +
momentum * batch_statistic` (PyTorch's default 0.1 is Keras' 0.9).
"""

import keras
import tensorflow as tf

from seg2vid_tf.layers import reference_names


class BatchNorm(keras.layers.Layer):
    """Batch normalization over the last axis with PyTorch semantics.

    Args:
        epsilon: Added to the variance before the square root (PyTorch 1e-5).
        momentum: Weight of the new batch statistic in the running average,
            PyTorch convention (0.1 is PyTorch's default).
        num_groups: In training mode, split the leading (batch) axis into this
            many equal consecutive groups and normalize each with its own
            statistics, updating the running statistics once per group in order.
            This equals calling a PyTorch batch norm once per group.
        synchronized: In training mode under a `tf.distribute` strategy with
            several replicas, take the statistics over the global batch (every
            replica's share of each group), like PyTorch's `SyncBatchNorm`;
            see `set_synchronized`.
        **kwargs: Passed to `keras.layers.Layer`.
    """

    def __init__(self, epsilon=1e-5, momentum=0.1, num_groups=1, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if num_groups < 1:
            raise ValueError(f"num_groups must be >= 1, got {num_groups}.")
        self.epsilon = epsilon
        self.momentum = momentum
        self.num_groups = num_groups
        self.synchronized = synchronized

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{self.name}: the channel axis must be known, got {input_shape}.")
        self.gamma = self.add_weight(name="gamma", shape=(channels,), initializer="ones")
        self.beta = self.add_weight(name="beta", shape=(channels,), initializer="zeros")
        # Running statistics stay float32 when read under mixed precision (no autocast).
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=(channels,), initializer="zeros", trainable=False,
            aggregation="mean", autocast=False)
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=(channels,), initializer="ones", trainable=False,
            aggregation="mean", autocast=False)

    def _normalize(self, x, mean, variance):
        dtype = x.dtype
        gamma = tf.cast(self.gamma, dtype)
        beta = tf.cast(self.beta, dtype)
        return (x - tf.cast(mean, dtype)) * tf.math.rsqrt(
            tf.cast(variance, dtype) + tf.cast(self.epsilon, dtype)) * gamma + beta

    def call(self, inputs, training=None):
        if not training:
            return self._normalize(inputs, self.moving_mean, self.moving_variance)
        # Statistics in float32 even under mixed precision.
        x = tf.cast(inputs, tf.float32)
        rank = len(inputs.shape)
        replica = tf.distribute.get_replica_context()
        if self.synchronized and replica is not None and replica.num_replicas_in_sync > 1:
            return self._synchronized_call(inputs, x, replica)
        if self.num_groups == 1:
            mean, variance = tf.nn.moments(x, axes=list(range(rank - 1)))
            group_means, group_variances = mean[None], variance[None]
            count = tf.reduce_prod(tf.shape(x)[:-1])
            outputs = self._normalize(inputs, mean, variance)
        else:
            grouped = self._grouped(x)
            axes = list(range(1, rank))
            group_means, group_variances = tf.nn.moments(grouped, axes=axes, keepdims=True)
            count = tf.reduce_prod(tf.shape(grouped)[1:-1])
            normalized = self._normalize(
                tf.cast(grouped, inputs.dtype), group_means, group_variances)
            outputs = tf.reshape(normalized, tf.shape(inputs))
            flat_shape = [self.num_groups, -1]
            group_means = tf.reshape(group_means, flat_shape)
            group_variances = tf.reshape(group_variances, flat_shape)
        self._update_running(group_means, group_variances, tf.cast(count, tf.float32))
        return outputs

    def _grouped(self, x):
        """`[N, ..., C]` -> `[G, N/G, ..., C]`."""
        return tf.reshape(x, tf.concat([[self.num_groups, -1], tf.shape(x)[1:]], axis=0))

    def _synchronized_call(self, inputs, x, replica):
        """Training mode with statistics over the whole global batch (all replicas).

        Two passes, like `tf.nn.moments` on one device: the global mean first,
        then the global sum of squared deviations from it. The one-pass
        `E[x^2] - E[x]^2` cancels catastrophically in float32 when the mean is
        large against the spread (at mean 100, std 0.1 the variance is off by
        about 10%). As in `tf.nn.moments` the mean inside the squared
        deviations is a constant for the gradient (its derivative there is
        zero anyway). The gradient of each all-reduce is the all-reduce of
        the replicas' gradients, so the backward pass is also that of the
        global batch.
        """
        grouped = self._grouped(x)
        axes = list(range(1, len(grouped.shape) - 1))
        count = tf.cast(tf.reduce_prod(tf.shape(grouped)[1:-1]), tf.float32)
        sums = tf.reduce_sum(grouped, axis=axes)
        sums, count = replica.all_reduce(tf.distribute.ReduceOp.SUM, [sums, count])
        means = sums / count
        shape = [self.num_groups] + [1] * len(axes) + [-1]
        deviations = tf.reduce_sum(
            tf.math.squared_difference(grouped, tf.stop_gradient(tf.reshape(means, shape))),
            axis=axes)
        variances = replica.all_reduce(tf.distribute.ReduceOp.SUM, deviations) / count
        normalized = self._normalize(tf.cast(self._grouped(inputs), inputs.dtype),
                                     tf.reshape(means, shape), tf.reshape(variances, shape))
        self._update_running(means, variances, count)
        return tf.reshape(normalized, tf.shape(inputs))

    def _update_running(self, group_means, group_variances, count):
        """PyTorch's running update, once per group in order, unbiased variance."""
        unbiased = group_variances * count / tf.maximum(count - 1.0, 1.0)
        running_mean = tf.convert_to_tensor(self.moving_mean)
        running_variance = tf.convert_to_tensor(self.moving_variance)
        for group in range(self.num_groups):
            running_mean = (1.0 - self.momentum) * running_mean + self.momentum * group_means[group]
            running_variance = ((1.0 - self.momentum) * running_variance
                                + self.momentum * unbiased[group])
        self.moving_mean.assign(running_mean)
        self.moving_variance.assign(running_variance)

    def reference_variables(self):
        """PyTorch parameter names of this layer, see `reference_names`."""
        return {
            "weight": (self.gamma, reference_names.identity),
            "bias": (self.beta, reference_names.identity),
            "running_mean": (self.moving_mean, reference_names.identity),
            "running_var": (self.moving_variance, reference_names.identity),
            "num_batches_tracked": (None, None),
        }

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon, momentum=self.momentum, num_groups=self.num_groups,
                      synchronized=self.synchronized)
        return config


def set_synchronized(model, synchronized=True):
    """Switches every `BatchNorm` inside `model` to (or from) cross-replica statistics."""
    for layer in model._flatten_layers(include_self=True, recursive=True):  # pylint: disable=protected-access
        if isinstance(layer, BatchNorm):
            layer.synchronized = synchronized
    return model
