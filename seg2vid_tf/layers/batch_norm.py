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

* The gradient in training mode is PyTorch's closed form with a compensated
  mean of the upstream gradient (see `_batch_normalize`): automatic
  differentiation of the forward formula loses up to ~10% of the input gradient
  to float32 cancellation when that gradient's per-channel mean is far above its
  spread, where PyTorch's CPU kernel (float64 sums) does not.

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

    def call(self, inputs, training=None):
        if not training:
            return _normalize(inputs, self.gamma, self.beta, self.moving_mean,
                              self.moving_variance, self.epsilon)
        replica = tf.distribute.get_replica_context()
        if not (self.synchronized and replica is not None and replica.num_replicas_in_sync > 1):
            replica = None
        # [N, ..., C] -> [G, N/G, ..., C]: statistics per group (and over all replicas).
        grouped = tf.reshape(inputs, tf.concat([[self.num_groups, -1], tf.shape(inputs)[1:]], 0))
        outputs, means, variances, count = _batch_normalize(
            grouped, tf.convert_to_tensor(self.gamma), tf.convert_to_tensor(self.beta),
            self.epsilon, replica)
        self._update_running(means, variances, count)
        return tf.reshape(outputs, tf.shape(inputs))

    def _update_running(self, group_means, group_variances, count):
        """PyTorch's running update, once per group in order, unbiased variance."""
        dtype = self.moving_mean.dtype
        group_means, group_variances, count = (
            tf.cast(value, dtype) for value in (group_means, group_variances, count))
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


def _normalize(x, gamma, beta, mean, variance, epsilon):
    """Inference: `(x - mean) * (gamma / sqrt(variance + epsilon)) + beta` per channel.

    On float32 images (rank 4) as one `FusedBatchNormV3` op, which oneDNN runs
    in one pass (and Grappler may fuse with the convolution before it): the
    demo export's `img2vid` signature ran 5% faster (docs/performance.md).
    """
    if x.shape.rank == 4 and x.dtype == tf.float32:
        outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
            x, tf.convert_to_tensor(gamma), tf.convert_to_tensor(beta),
            mean=tf.convert_to_tensor(mean), variance=tf.convert_to_tensor(variance),
            epsilon=epsilon, is_training=False)
        return outputs
    dtype = x.dtype
    scale = tf.cast(tf.cast(gamma, tf.float32)
                    * tf.math.rsqrt(tf.cast(variance, tf.float32) + epsilon), dtype)
    return (x - tf.cast(mean, dtype)) * scale + tf.cast(beta, dtype)


def fold_into_convolution(norms, kernel, bias):
    """A convolution followed by batch norm in inference, as one convolution.

    `(conv(x, kernel) + bias - mean) * gamma / sqrt(variance + epsilon) + beta` is
    `conv(x, kernel * scale) + (bias - mean) * scale + beta` with `scale = gamma /
    sqrt(variance + epsilon)` per output channel: the same function (up to float
    rounding) without a pass over the activations, and oneDNN then fuses the
    bias and the LeakyReLU after it into the convolution (docs/performance.md).

    Args:
        norms: Built `BatchNorm` layers whose channels, concatenated, are the
            kernel's output channels (one layer, or several side by side).
        kernel: Convolution kernel, output channels last.
        bias: `[C]` convolution bias, or None.

    Returns:
        (kernel, bias), float32.

    Raises:
        ValueError: The norms' widths do not add up to the kernel's output channels.
    """
    def joined(name):
        return tf.concat([tf.cast(getattr(norm, name), tf.float32) for norm in norms], 0)

    gamma, beta = joined("gamma"), joined("beta")
    if gamma.shape[0] != kernel.shape[-1]:
        raise ValueError(f"fold_into_convolution: the batch norms have {gamma.shape[0]} "
                         f"channels, the kernel {kernel.shape[-1]} outputs.")
    epsilon = tf.concat([tf.fill(norm.gamma.shape, float(norm.epsilon)) for norm in norms], 0)
    mean = joined("moving_mean")
    scale = gamma * tf.math.rsqrt(joined("moving_variance") + epsilon)
    shift = beta - mean * scale
    if bias is not None:
        shift += tf.cast(bias, tf.float32) * scale
    return tf.cast(kernel, tf.float32) * scale, shift


def _batch_normalize(grouped, gamma, beta, epsilon, replica):
    """Training-mode batch norm of `[G, n, ..., C]` over axes 1..-2, with its own gradient.

    Statistics in float32 (also under mixed precision; float64 for float64
    inputs), two passes like `tf.nn.moments`: the mean, then the mean squared
    deviation from it. With `replica` (a replica context) every sum is
    all-reduced, so the statistics and the gradients are those of the global
    batch (PyTorch's `SyncBatchNorm`).

    The gradient is PyTorch's closed form, `dx = gamma / sigma * (dy - mean(dy) -
    x_hat * mean(dy * x_hat))`, with `mean(dy)` compensated (the mean of the
    residuals `dy - mean(dy)` is subtracted as well). Automatic differentiation of
    the forward formula instead adds up large terms that cancel when `dy` has a
    per-channel mean far above its spread: on the unit test's case (mean 1000,
    spread 1) it lost 11% of dx to float32 rounding, where this form stays within
    1e-4 of float64. PyTorch's CPU kernel accumulates these sums in float64. It is
    also faster and needs less memory (docs/performance.md).

    Args:
        grouped: `[G, n, ..., C]` inputs (any float dtype).
        gamma: `[C]` scale (a tensor read from the variable).
        beta: `[C]` offset.
        epsilon: Added to the variance.
        replica: A replica context to all-reduce over, or None.

    Returns:
        (outputs like `grouped`, `[G, C]` means, `[G, C]` biased variances, the
        number of elements per group and channel), the last three in the
        statistics' dtype.
    """
    dtype = grouped.dtype
    rank = len(grouped.shape)
    axes = list(range(1, rank - 1))
    broadcast = [-1] + [1] * len(axes) + [grouped.shape[-1] or -1]
    compute = tf.float64 if dtype == tf.float64 else tf.float32
    local_count = tf.cast(tf.reduce_prod(tf.shape(grouped)[1:-1]), compute)
    gamma, beta = tf.cast(gamma, compute), tf.cast(beta, compute)

    def total(*values):
        if replica is None:
            return values
        return replica.all_reduce(tf.distribute.ReduceOp.SUM, list(values))

    x = tf.cast(grouped, compute)
    sums, count = total(tf.reduce_sum(x, axis=axes), local_count)
    means = sums / count
    # The custom gradient below accounts for the statistics: no gradient through them.
    centred = x - tf.stop_gradient(tf.reshape(means, broadcast))
    (squares,) = total(tf.reduce_sum(tf.square(centred), axis=axes))
    variances = squares / count
    inverse_std = tf.math.rsqrt(variances + epsilon)

    @tf.custom_gradient
    def normalize(centred, gamma, beta):
        scale = tf.reshape(gamma * inverse_std, broadcast)
        outputs = tf.cast(centred, dtype) * tf.cast(scale, dtype) + tf.cast(beta, dtype)

        def gradient(upstream):
            dy = tf.cast(upstream, compute)
            normalized = centred * tf.reshape(inverse_std, broadcast)
            (dy_sums,) = total(tf.reduce_sum(dy, axis=axes))
            dy_means = dy_sums / count
            residual = dy - tf.reshape(dy_means, broadcast)
            residual_sums, projections = total(tf.reduce_sum(residual, axis=axes),
                                               tf.reduce_sum(residual * normalized, axis=axes))
            residual_means, projection_means = residual_sums / count, projections / count
            d_centred = (residual - tf.reshape(residual_means, broadcast)
                         - normalized * tf.reshape(projection_means, broadcast)) * scale
            # Each replica returns its share of the global parameter gradients (the
            # optimizer sums the replicas'): the global sums are exact in this form,
            # while each replica's own sum of dy * x_hat would carry the large
            # mean(dy) * sum(x_hat) that only cancels across replicas.
            share = local_count / count
            d_gamma = tf.reduce_sum(projections, axis=0) * share
            d_beta = tf.reduce_sum(dy_sums, axis=0) * share
            return d_centred, d_gamma, d_beta

        return outputs, gradient

    return normalize(centred, gamma, beta), means, variances, count


def set_synchronized(model, synchronized=True):
    """Switches every `BatchNorm` inside `model` to (or from) cross-replica statistics."""
    for layer in model._flatten_layers(include_self=True, recursive=True):  # pylint: disable=protected-access
        if isinstance(layer, BatchNorm):
            layer.synchronized = synchronized
    return model
