"""Videos longer than one round: stage 2 iterated, the label map carried along.

The model predicts `T` frames (4 in the paper) from a start frame. Longer videos
repeat it: the next round starts from the last predicted frame and the label map
carried to it. `RolloutOptions` chooses how; its defaults are the reference's
iterative variant (docs/method.md, "Long videos"):

* `label_warp="reference"`: each round warps the label map it started from with
  the masked forward flow of each frame, `warp(onehot(labels), flow_t * mask_fw_t)`,
  exactly like the frame, then argmax (`warp_label_map`). Each round resamples the
  previous round's already resampled map, so speckles at class borders pile up.
  `"composed"` composes the rounds' masked flows back to frame 0 and warps the first
  label map once: the same motion, one resampling.
* `frame_warp="reference"`: each round's frames come from the model, which warps
  the round's start frame, itself a warped and refined frame: every round blurs
  again. `"composed"` warps the first frame once by the flow composed back to it
  and refines that (`Img2Vid`'s own refine step: `refine(warped * mask_fw + noise *
  (1 - mask_fw))`).
* `latent="carry"`: every round reads the same latent; `"resample"` draws a new one
  per round (stateless, keyed by `(seed, RESAMPLED_LATENT_STREAM + round)`).
* `repaint_weight=0`: the next round starts from the last predicted frame;
  `w > 0` blends stage 1's painting of the carried label map into it,
  `(1 - w) * predicted + w * painted`, which restores what warping blurs and
  keeps the frame a street scene (needs stage 1).
* `detail_weight=0`: frames are what warping and the refine step give;
  `g > 0` adds stage 1's high frequencies for the carried label map to every
  predicted frame, `frame + g * (painted - avgpool5x5(painted))`: warping
  smooths, and each frame gets back detail that fits its map (needs stage 1;
  not in the reference).

docs/long_videos.md has the curves behind the choices.
"""

import dataclasses
import math

import tensorflow as tf

from seg2vid_tf.models import config as model_config
from seg2vid_tf.ops.warp import normalized_to_pixel_flow, warp

LABEL_WARPS = ("reference", "composed")
FRAME_WARPS = ("reference", "composed")
LATENTS = ("carry", "resample")
RESAMPLED_LATENT_STREAM = 1_000_000  # round r >= 1 draws its latent from stream 1e6 + r
DETAIL_POOL = 5  # `detail_weight`: the detail is the painting minus its 5x5 box average


@dataclasses.dataclass(frozen=True)
class RolloutOptions:
    """How rounds follow each other (module docstring); the defaults are the reference's."""

    label_warp: str = "reference"
    frame_warp: str = "reference"
    latent: str = "carry"
    repaint_weight: float = 0.0
    detail_weight: float = 0.0

    def __post_init__(self):
        if self.label_warp not in LABEL_WARPS:
            raise ValueError(f"--label_warp must be one of {LABEL_WARPS}, got {self.label_warp!r}.")
        if self.frame_warp not in FRAME_WARPS:
            raise ValueError(f"--frame_warp must be one of {FRAME_WARPS}, got {self.frame_warp!r}.")
        if self.latent not in LATENTS:
            raise ValueError(f"--latent_per_round must be one of {LATENTS}, got {self.latent!r}.")
        if not 0.0 <= self.repaint_weight <= 1.0:
            raise ValueError(f"--repaint_weight must be in [0, 1], got {self.repaint_weight!r}.")
        if not 0.0 <= self.detail_weight <= 1.0:
            raise ValueError(f"--detail_weight must be in [0, 1], got {self.detail_weight!r}.")

    @property
    def painting_flags(self):
        """The flags set > 0 that make the rollout call stage 1 (empty: it never does)."""
        return tuple(f"--{name}" for name in ("repaint_weight", "detail_weight")
                     if getattr(self, name) > 0)

    def to_dict(self):
        return dataclasses.asdict(self)


def warp_label_map(label_map, flow, keep_threshold=0.5):
    """Warps a train-id label map like a frame: one-hot, bilinear `warp`, argmax.

    Args:
        label_map: int `[B, H, W]` train ids 0..19.
        flow: float `[B, H, W, 2]`, the (masked) forward flow in the
            reference's normalized units (`seg2vid_tf.ops.warp.warp`).
        keep_threshold: Pixels whose warped one-hot mass (the sum over
            classes, 1 inside the image, less where the warp reads outside it)
            is below this keep their previous label.

    Returns:
        int32 `[B, H, W]`.
    """
    label_map = tf.cast(label_map, tf.int32)
    volume = tf.one_hot(label_map, model_config.NUM_CLASSES, dtype=tf.float32)
    warped = warp(volume, tf.cast(flow, tf.float32))
    mass = tf.reduce_sum(warped, axis=-1)
    labels = tf.argmax(warped, axis=-1, output_type=tf.int32)
    return tf.where(mass >= keep_threshold, labels, label_map)


def add_painted_detail(frame, painted, weight):
    """`frame + weight * (painted - avgpool(painted))`, clipped to [0, 1] (`detail_weight`)."""
    painted = tf.cast(painted, tf.float32)
    smooth = tf.nn.avg_pool2d(painted, DETAIL_POOL, 1, "SAME")  # the mean of the pixels inside
    return tf.clip_by_value(tf.cast(frame, tf.float32) + weight * (painted - smooth), 0.0, 1.0)


def _carry_frame(pipeline, options, tensors):
    """Carries one predicted frame of a round back to frame 0 (module docstring).

    Inside a traced rollout this runs through one `tf.function` for every frame
    (`Seg2Vid.traced_call`), so a long export holds one copy of its warps, not one per frame.

    Args:
        pipeline: The `Seg2Vid`.
        options: `RolloutOptions`.
        tensors: dict: the model's `frame`, its `flow` (normalized units) and `mask_fw`, the
            round's fill `noise`, the rollout's `first_frame` and `to_start` (the masked flow
            composed from frame 0 to the round's start) and, with label maps,
            `first_labels` and the round's `start_labels`.

    Returns:
        dict: `composed` (the masked flow composed from frame 0 to this frame) when a
        warp is composed, `frame` (the model's own with `frame_warp="reference"`, then
        with stage 1's detail when `detail_weight > 0`) and `label_map` with label maps.
    """
    mask_fw = tensors["mask_fw"]
    masked_flow = tensors["flow"] * mask_fw[..., None]
    carried = {"frame": tensors["frame"]}
    # Frame t of this round reads the round's start at p + f(p), which reads
    # frame 0 at that point plus the flow composed so far.
    if "composed" in (options.frame_warp, options.label_warp):
        carried["composed"] = masked_flow + warp(tensors["to_start"], masked_flow)
    if options.frame_warp == "composed":
        warped = warp(tensors["first_frame"], carried["composed"])
        carried["frame"] = tf.cast(pipeline.refine_step(
            warped * mask_fw[..., None] + tensors["noise"] * (1.0 - mask_fw[..., None])),
            tf.float32)
    if "start_labels" in tensors:
        carried["label_map"] = (warp_label_map(tensors["first_labels"], carried["composed"])
                                if options.label_warp == "composed"
                                else warp_label_map(tensors["start_labels"], masked_flow))
        if options.detail_weight > 0 and pipeline.painter is not None:
            carried["frame"] = add_painted_detail(
                carried["frame"], pipeline.paint_tensor(carried["label_map"]),
                options.detail_weight)
    return carried


def _pixel_flow(flow):
    """Normalized (x, y) flow `[B, N, H, W, 2]` -> pixels (dx, dy), every frame at once."""
    shape = tf.shape(flow)
    merged = tf.reshape(flow, tf.concat([[shape[0] * shape[1]], shape[2:]], axis=0))
    return tf.reshape(normalized_to_pixel_flow(merged)[..., ::-1], shape)


def rollout(pipeline, first_frame, label_map, seeds, num_frames, options=RolloutOptions(),
            label_maps=True):
    """The prediction rounds on tensors; traceable inside a `tf.function`.

    No validation: `Seg2Vid.generate` and the serving signatures check their inputs first.

    Args:
        pipeline: The `Seg2Vid` (its video model, stage 1 for repainting, the seeded draws).
        first_frame: float32 `[B, H, W, C]` in [0, 1].
        label_map: int32 `[B, H, W]` train ids, or None for a model without labels.
        seeds: int `[B]`: row `i`'s latent is keyed by `(seeds[i], 0)` and its fill noise
            of round `r` by `(seeds[i], r + 1)`.
        num_frames: Python int >= 1, frames predicted after the first one.
        options: `RolloutOptions`.
        label_maps: Whether to return the label map carried to every frame. Without it a
            round whose frames are the model's own (`frame_warp="reference"`) and whose
            label maps nothing needs (no later round, no detail) is taken whole, not frame
            by frame.

    Returns:
        dict of tensors: `video` `[B, N + 1, H, W, C]`, `flow` `[B, N, H, W, 2]` in pixels
        (dx, dy) from the start frame of each frame's round, `mask_fw`, `mask_bw`
        `[B, N, H, W]` and, with a label map and `label_maps`, `label_maps` `[B, N + 1, H, W]`.
    """
    from seg2vid_tf.models.seg2vid import seeded_normal  # pylint: disable=import-outside-toplevel

    per_round = pipeline.video_model.config.num_predicted_frames
    latent_shape = [pipeline.video_model.config.latent_rows, model_config.LATENT_ROW]
    z = pipeline.sample_latent(seeds)
    # Frames (and the rest) in parts along time, each [B, n, ...], concatenated at the end.
    parts = {"video": [first_frame[:, None]], "flow": [], "mask_fw": [], "mask_bw": []}
    labels = [label_map]
    start_frame, start_labels = first_frame, label_map
    to_start = tf.zeros_like(first_frame[..., :2])  # composed masked flow, frame 0 -> round start
    detail = options.detail_weight > 0 and pipeline.painter is not None
    done = 0
    for round_index in range(math.ceil(num_frames / per_round)):
        if round_index > 0 and options.latent == "resample":
            z = seeded_normal(seeds, latent_shape, stream=RESAMPLED_LATENT_STREAM + round_index)
        noise = seeded_normal(seeds, [pipeline.height, pipeline.width, pipeline.channels],
                              stream=round_index + 1)
        inputs = {"video": start_frame[:, None], "noise": noise, "z": z}
        if pipeline.uses_labels:
            inputs["label_map"] = start_labels
        outputs = pipeline.video_step(inputs)
        take = min(per_round, num_frames - done)
        done += take
        for key in ("flow", "mask_fw", "mask_bw"):
            parts[key].append(outputs[key] if take == per_round else outputs[key][:, :take])
        # Label maps go along where they are returned, start a later round or paint detail.
        carry_labels = start_labels is not None and (label_maps or done < num_frames or detail)
        if options.frame_warp == "reference" and not carry_labels:
            # The model's frames as they are, the round in one piece.
            parts["video"].append(outputs["frames"] if take == per_round
                                  else outputs["frames"][:, :take])
            start_frame = outputs["frames"][:, per_round - 1]
            continue
        round_frames = tf.unstack(outputs["frames"], axis=1)
        for t in range(take):
            step = {"frame": round_frames[t], "flow": outputs["flow"][:, t],
                    "mask_fw": outputs["mask_fw"][:, t], "noise": noise,
                    "first_frame": first_frame, "to_start": to_start}
            if carry_labels:
                step.update(first_labels=label_map, start_labels=start_labels)
            # Keyed by every option: one pipeline may be rolled out with several.
            carried = pipeline.traced_call(
                f"frame_{options!r}_{carry_labels}",
                lambda tensors: _carry_frame(pipeline, options, tensors), step)
            round_frames[t] = carried["frame"]
            parts["video"].append(round_frames[t][:, None])
            if carry_labels:
                labels.append(carried["label_map"])
            if "composed" in carried and t == per_round - 1:
                to_start = carried["composed"]
        start_frame = round_frames[per_round - 1]
        if carry_labels:
            start_labels = labels[-1]
            if options.repaint_weight > 0 and pipeline.painter is not None:
                painted = pipeline.paint_tensor(start_labels)
                start_frame = ((1.0 - options.repaint_weight) * start_frame
                               + options.repaint_weight * painted)
    result = {key: tf.concat(value, axis=1) for key, value in parts.items()}
    result["flow"] = _pixel_flow(result["flow"])
    if label_map is not None and label_maps:
        result["label_maps"] = tf.stack(labels, axis=1)
    return result
