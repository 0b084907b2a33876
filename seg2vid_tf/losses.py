"""The nine training losses of img2vid and their weighted total (docs/method.md, "Losses").

Notation: `G_t = F_t` (t = 1..T) are the ground-truth frames, `P_t` the refined
frames, `Q_t` the warped start frame before refinement. Flows are in the
reference's normalized units. All tensors are channels-last:
video `[B, T+1, H, W, C]`, frames `[B, T, H, W, C]`, flows `[B, T, H, W, 2]`,
masks `[B, T, H, W]`.
"""

import numbers

import tensorflow as tf
import tensorflow_probability as tfp

from seg2vid_tf.ops.warp import warp

tfd = tfp.distributions

REFERENCE_LOSS_KEYS = ("flow_smoothness", "recon", "recon_back", "recon_before", "kld",
                       "flow_consistency", "image_similarity", "vgg", "mask")
# Terms the reference does not have, weight 0 by default (docs/experiments.md).
DEPARTURE_LOSS_KEYS = ("recon_coarse",)
LOSS_KEYS = REFERENCE_LOSS_KEYS + DEPARTURE_LOSS_KEYS

# The reference's weights: total = flow_smoothness + 2 recon + recon_back + recon_before
# + 0.1 kld + flow_consistency + image_similarity + vgg + 0.1 mask.
DEFAULT_WEIGHTS = {
    "flow_smoothness": 1.0, "recon": 2.0, "recon_back": 1.0, "recon_before": 1.0, "kld": 0.1,
    "flow_consistency": 1.0, "image_similarity": 1.0, "vgg": 1.0, "mask": 0.1,
    "recon_coarse": 0.0,
}
# Pooling factors of `coarse_reconstruction` (`--recon_coarse_factors`; docs/experiments.md, r9).
COARSE_FACTORS = (2, 4, 8, 16)

_SMOOTHNESS_FLOW_SCALE = 128.0
_SMOOTHNESS_IMAGE_SCALE = 256.0
_SSIM_C1 = 0.01 ** 2
_SSIM_C2 = 0.03 ** 2


def _merge_time(x):
    """`[B, T, ...]` -> `[B*T, ...]`."""
    shape = tf.shape(x)
    return tf.reshape(x, tf.concat([[shape[0] * shape[1]], shape[2:]], axis=0))


def _sum_of_frame_means(x):
    """Sum over t of the mean over everything else, for `x` `[B, T, ...]`."""
    axes = [0] + list(range(2, len(x.shape)))
    return tf.reduce_sum(tf.reduce_mean(x, axis=axes))


# The 16 offsets of `edge_aware_smoothness`: a 5x5 window without its centre row and column.
_SMOOTHNESS_OFFSETS = tuple((i, j) for i in (0, 1, 3, 4) for j in (0, 1, 3, 4))


def _differences_from_centre(x):
    """`x[y + 2, x + 2] - x[y + i, x + j]` for each offset `(i, j)`, `[B, H-4, W-4, C, 16]`.

    One depthwise convolution with a +1 at the centre and a -1 at the offset:
    on a CPU the same differences (every other product is an exact zero) as 16
    crops, whose gradients would be 16 zero tensors of the whole input plus
    scatters. (A GPU may run a one-channel depthwise convolution through cuDNN,
    in TF32 where that is allowed.)
    """
    kernel = tf.scatter_nd([[2, 2, m] for m in range(len(_SMOOTHNESS_OFFSETS))],
                           tf.ones([len(_SMOOTHNESS_OFFSETS)], x.dtype), [5, 5, 16])
    kernel -= tf.scatter_nd([[i, j, m] for m, (i, j) in enumerate(_SMOOTHNESS_OFFSETS)],
                            tf.ones([len(_SMOOTHNESS_OFFSETS)], x.dtype), [5, 5, 16])
    channels = x.shape[-1]
    kernel = tf.tile(kernel[:, :, None, :], [1, 1, channels, 1])
    differences = tf.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "VALID")
    shape = tf.shape(differences)
    return tf.reshape(differences, tf.concat([shape[:3], [channels, 16]], axis=0))


def edge_aware_smoothness(flow, image):
    """`S(f, I)`: 5x5 edge-aware flow smoothness of one flow field.

    Args:
        flow: `[B, H, W, 2]`.
        image: `[B, H, W, C]`, the frame whose edges allow flow discontinuities.

    Returns:
        Scalar: the weighted squared flow differences over the 16 non-centre,
        non-axis-through-centre offsets of a 5x5 window, divided by `B*H*W`.
    """
    flow = flow * _SMOOTHNESS_FLOW_SCALE
    image = image * _SMOOTHNESS_IMAGE_SCALE
    shape = tf.shape(flow)
    flow_difference = tf.reduce_sum(tf.square(_differences_from_centre(flow)), axis=3)
    image_difference = tf.reduce_sum(tf.square(_differences_from_centre(image)), axis=3)
    distance = tf.constant([float((i - 2) ** 2 + (j - 2) ** 2) for i, j in _SMOOTHNESS_OFFSETS],
                           flow.dtype)
    total = tf.reduce_sum(flow_difference * tf.exp(-image_difference - distance))
    count = tf.cast(shape[0] * shape[1] * shape[2], flow.dtype)
    return total / count


def ssim_dissimilarity(x, y):
    """`D(x, y) = mean(clip((1 - SSIM(x, y)) / 2, 0, 1))`, SSIM over 3x3 windows, no padding."""

    def pool(t):
        return tf.nn.avg_pool2d(t, ksize=3, strides=1, padding="VALID")

    mu_x, mu_y = pool(x), pool(y)
    sigma_x = pool(x * x) - mu_x * mu_x
    sigma_y = pool(y * y) - mu_y * mu_y
    sigma_xy = pool(x * y) - mu_x * mu_y
    ssim = ((2.0 * mu_x * mu_y + _SSIM_C1) * (2.0 * sigma_xy + _SSIM_C2)) / (
        (mu_x * mu_x + mu_y * mu_y + _SSIM_C1) * (sigma_x + sigma_y + _SSIM_C2))
    return tf.reduce_mean(tf.clip_by_value((1.0 - ssim) / 2.0, 0.0, 1.0))


def perceptual_distance(perceptual, target, prediction):
    """Sum over the network's features of `mean|phi(target) - phi(prediction)|`.

    Grayscale frames are repeated to three channels first.
    """
    if target.shape[-1] == 1:
        target = tf.repeat(target, 3, axis=-1)
        prediction = tf.repeat(prediction, 3, axis=-1)
    total = 0.0
    for a, b in zip(perceptual(target), perceptual(prediction)):
        # float32 even when the network computes in bfloat16 (mixed precision).
        total += tf.reduce_mean(tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))
    return total


def coarse_reconstruction(start, target, flow, mask_fw, factors=COARSE_FACTORS):
    """`recon_before` at coarser scales: the start frame warped by the flow, pooled.

    At 1/s of the resolution for each s of `factors` (average pooling of the
    frames, the flow and the mask), the start frame warped by each frame's flow against that
    frame, masked, L1, summed over the scales. The warp's normalized units span
    the image between the first and the last pixel centre (`align_corners`), so
    a displacement of d full-size pixels is `2 d / (W - 1)` at full size and
    `2 d / (W - s)` pooled by s: the pooled flow is rescaled by `(W - 1) / (W - s)`
    (and the same in y). A bilinear warp's photometric gradient reaches about a pixel;
    pooled by s, it reaches further, up to about s pixels of the full frame where the
    texture is coarse enough: the road's vectors grow to 16 pixels and more by the
    fourth frame (docs/experiments.md).

    Args:
        start: `[B, H, W, C]`; target: `[B, T, H, W, C]`; flow: `[B, T, H, W, 2]`
            normalized; mask_fw: `[B, T, H, W, 1]`.
        factors: Pooling factors, each from 2 to half the frame's height and
            width, dividing both.

    Raises:
        ValueError: On a factor outside that range.
    """
    num_frames, height, width = target.shape[1], target.shape[2], target.shape[3]
    check_coarse_factors(factors, height, width)
    starts = _merge_time(tf.repeat(start[:, None], num_frames, axis=1))
    targets, flows, masks = _merge_time(target), _merge_time(flow), _merge_time(mask_fw)
    total = 0.0
    for factor in factors:
        pool = lambda x, f=factor: tf.nn.avg_pool2d(x, f, f, "VALID")  # noqa: E731
        rescale = tf.constant([(width - 1) / (width - factor), (height - 1) / (height - factor)],
                              flows.dtype)
        warped = warp(pool(starts), pool(flows) * rescale)
        total += tf.reduce_mean(tf.abs((warped - pool(targets)) * pool(masks)))
    return total


def check_coarse_factors(factors, height, width):
    """Raises ValueError unless every factor is an integer (Python or NumPy) in
    [2, min(height, width) / 2] that divides the height and the width (the pooling keeps
    every pixel, so the rescaled flow's units hold)."""
    limit = min(height, width) // 2
    if not factors or any(not isinstance(f, numbers.Integral) or not 2 <= f <= limit or height % f
                          or width % f for f in factors):
        raise ValueError(f"--recon_coarse_factors must be integers from 2 to {limit} (half of "
                         f"the {height}x{width} frame) that divide {height} and {width}, got "
                         f"{list(factors)}.")


def weighted_total(terms, weights):
    """`sum(weights[key] * terms[key])` over `LOSS_KEYS`.

    A term whose weight is the number 0 enters without its gradient: it is still
    computed and reported, but nothing differentiates it (its gradient would be
    zeros; the flow-consistency warps' backward pass alone was ~4% of the demo
    recipe's step, docs/performance.md).
    """
    def term(key):
        weight = weights[key]
        if isinstance(weight, numbers.Number) and weight == 0:
            return tf.stop_gradient(terms[key])
        return terms[key]

    return tf.add_n([weights[key] * term(key) for key in LOSS_KEYS])


def img2vid_losses(video, outputs, perceptual, weights=None, coarse_factors=COARSE_FACTORS):
    """The nine img2vid training terms of the reference (and departures) and their total.

    Args:
        video: float32 `[B, T+1, H, W, C]` ground-truth clip (frame 0 = start frame).
        outputs: The dict returned by `Img2Vid` in training mode.
        perceptual: A `VGG19Features` network returning the 12 ReLU outputs
            relu1_1..relu4_4 (average pooling), or None to leave the perceptual
            term out (it is then 0).
        weights: Optional dict overriding entries of `DEFAULT_WEIGHTS`.
        coarse_factors: The pooling factors of `recon_coarse`.

    Returns:
        dict with the keys of `LOSS_KEYS` and `total`, each a float32 scalar.

    Raises:
        ValueError: On unknown weight names or inconsistent shapes.
    """
    weights = dict(DEFAULT_WEIGHTS, **(weights or {}))
    unknown = set(weights) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise ValueError(f"Unknown loss weights {sorted(unknown)}; known: {list(LOSS_KEYS)}.")
    video = tf.convert_to_tensor(video, tf.float32)
    frames = outputs["frames"]
    num_predicted = frames.shape[1]
    if video.shape.rank != 5 or video.shape[1] != num_predicted + 1:
        raise ValueError(f"video must be [B, {num_predicted + 1}, H, W, C] for {num_predicted} "
                         f"predicted frames, got shape {video.shape}.")
    start, target = video[:, 0], video[:, 1:]
    warped, flow, flow_back = outputs["warped"], outputs["flow"], outputs["flow_back"]
    # expand_dims, not [..., None]: a slice's gradient is a zero tensor plus a scatter.
    mask_fw = tf.expand_dims(outputs["mask_fw"], -1)
    mask_bw = tf.expand_dims(outputs["mask_bw"], -1)

    losses = {}
    losses["flow_smoothness"] = 0.01 * (
        edge_aware_smoothness(flow[:, 0], target[:, 0])
        + edge_aware_smoothness(flow_back[:, 0], start))

    # Flows warped as 2-channel images by each other.
    flat_flow, flat_back = _merge_time(flow), _merge_time(flow_back)
    back_from_forward = tf.reshape(warp(flat_flow, -flat_back), tf.shape(flow))
    forward_from_back = tf.reshape(warp(flat_back, flat_flow), tf.shape(flow))
    losses["flow_consistency"] = (
        _sum_of_frame_means(mask_bw * tf.abs(back_from_forward - flow_back))
        + _sum_of_frame_means(mask_fw * tf.abs(forward_from_back - flow)))

    posterior = tfd.MultivariateNormalDiag(
        loc=outputs["mu"], scale_diag=tf.exp(0.5 * outputs["logvar"]))
    prior = tfd.MultivariateNormalDiag(
        loc=tf.zeros_like(outputs["mu"]), scale_diag=tf.ones_like(outputs["mu"]))
    losses["kld"] = tf.reduce_sum(tfd.kl_divergence(posterior, prior)) / 1000.0

    # The sum over frames of each frame's mean, as T times the mean over all frames.
    merged_frames, merged_target = _merge_time(frames), _merge_time(target)
    losses["image_similarity"] = num_predicted * (
        0.85 * ssim_dissimilarity(merged_frames, merged_target)
        + 0.15 * tf.reduce_mean(tf.abs(merged_frames - merged_target)))

    losses["recon"] = tf.reduce_mean(tf.abs(frames - target))

    # Each later frame warped back to the start frame by the masked backward flow.
    start_from_later = warp(_merge_time(target), _merge_time(-flow_back * mask_bw))
    start_from_later = tf.reshape(start_from_later, tf.shape(target))
    losses["recon_back"] = tf.reduce_mean(tf.abs((start_from_later - start[:, None]) * mask_bw))

    losses["recon_before"] = tf.reduce_mean(tf.abs((warped - target) * mask_fw))
    losses["recon_coarse"] = (coarse_reconstruction(start, target, flow, mask_fw,
                                                    coarse_factors)
                              if weights["recon_coarse"] else tf.constant(0.0))

    if perceptual is None:
        losses["vgg"] = tf.constant(0.0)
    else:
        losses["vgg"] = perceptual_distance(perceptual, _merge_time(target), _merge_time(warped))

    losses["mask"] = (tf.reduce_mean(1.0 - outputs["mask_bw"])
                      + tf.reduce_mean(1.0 - outputs["mask_fw"]))

    losses = {key: tf.cast(value, tf.float32) for key, value in losses.items()}
    losses["total"] = weighted_total(losses, weights)
    return {key: losses[key] for key in LOSS_KEYS + ("total",)}
