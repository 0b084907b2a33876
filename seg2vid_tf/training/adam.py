"""Adam whose update of each variable is one TensorFlow op."""

import keras
import tensorflow as tf


class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` with each variable's update as one `ResourceApplyAdam` op.

    The same variables, slots and checkpoints as Keras' Adam, and the same
    formula: `m += (g - m) * (1 - beta_1)`, `v += (g^2 - v) * (1 - beta_2)`,
    `var -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`.
    Only rounding differs (TensorFlow's kernel forms `1 - beta` in float32, Keras
    in float64): 2e-6 apart after 21 steps on 202 unit-scale variables (a
    benchmark of 3x3 kernels, biases and two 1024x1024 matrices). Keras
    writes the update as about 25 graph ops per variable: the video model's 226
    variables made 5900 ops, 45 ms of a demo training step's op time
    (docs/performance.md); here `beta^t` is also computed once a step, not per
    variable. AMSGrad falls back to Keras' own update.
    """

    _beta_powers = None

    def _distributed_tf_update_step(self, distribution, grads_and_vars, learning_rate):
        # `beta^t` once per step (in the cross-replica context every update runs from),
        # not once per variable.
        step = tf.cast(self.iterations + 1, tf.float32)
        self._beta_powers = (tf.pow(tf.cast(self.beta_1, tf.float32), step),
                             tf.pow(tf.cast(self.beta_2, tf.float32), step))
        try:
            return super()._distributed_tf_update_step(distribution, grads_and_vars,
                                                       learning_rate)
        finally:
            self._beta_powers = None

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or self._beta_powers is None:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        beta_1_power, beta_2_power = (tf.cast(power, dtype) for power in self._beta_powers)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle,
            v=self._velocities[index].handle, beta1_power=beta_1_power,
            beta2_power=beta_2_power, lr=tf.cast(learning_rate, dtype),
            beta1=tf.cast(self.beta_1, dtype), beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype),
            use_locking=False, use_nesterov=False)
        return None
