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
    (docs/performance.md). AMSGrad falls back to Keras' own update.
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle,
            v=self._velocities[index].handle, beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step), lr=tf.cast(learning_rate, dtype), beta1=beta_1,
            beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype),
            use_locking=False, use_nesterov=False)
        return None
