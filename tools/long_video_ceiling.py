"""What a long video could score if it moved exactly as the truth: the true-flow oracle.

    python -m tools.long_video_ceiling --data_dir=long_heldout --num_frames=24 \
        --segmenter_checkpoint_dir=demo_output/checkpoints/segmenter [--output_json=F]

On synthetic held-out data (the renderer writes the exact forward flow of every
frame), carries frame 0 and its label map to frame t by the *true* flow: each
pixel of frame 0 is followed at sub-pixel precision through the flows of frames
0..t-1 (its track ends where the flow marks it occluded or leaving the image) and
drawn at its rounded position at t; the pixels nothing lands on (content that
comes into view) take their nearest drawn neighbour. That is the
best any rollout that carries the first frame can do without knowing what comes
into view. Per frame t, against the true map of frame t, as
`python -m seg2vid_tf.evaluate --num_frames=N` scores the model (dataset-level mean
IoU over the train ids present, void ignored):

* `label_miou_oracle` / `label_miou_kept`: the carried map, and the first map kept;
* `fcn_miou_oracle` / `fcn_miou_copy` / `fcn_miou_real`: the FCN-score segmenter
  on the carried frame, on frame 0 copied, and on the real frame t.

The numbers are in docs/long_videos.md ("What the targets allow").
"""

import glob
import json
import os

import numpy as np
from absl import app, flags
from PIL import Image

from seg2vid_tf.data.synthetic.flow_png import read_kitti_flow
from seg2vid_tf.metrics import segmentation
from tools import results


def define_flags():
    """Defines the flags; called only when run as a script.

    Tests import several tools into one process, and absl refuses a flag defined twice.
    """
    flags.DEFINE_string("data_dir", None, "Synthetic held-out data (synthetic.json, flow/).")
    flags.DEFINE_string("split", "val", "Its split.")
    flags.DEFINE_integer("num_frames", 24, "N: frames after the first one.")
    flags.DEFINE_string("segmenter_checkpoint_dir", None, "The FCN-score segmenter.")
    flags.DEFINE_string("output_json", None, "Where the curves are written (printed anyway).")


NAMES = ("label_miou_oracle", "label_miou_kept", "fcn_miou_oracle", "fcn_miou_copy",
         "fcn_miou_real")


def _shifted(array, dy, dx, fill):
    """`array` moved by (dy, dx) pixels (no wrap-around); what comes in is `fill`."""
    height, width = array.shape[:2]
    out = np.full_like(array, fill)
    out[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
        array[max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]
    return out


def fill_holes(values, hole):
    """`values` with every `hole` pixel taken from its nearest non-hole 4-neighbour, repeatedly."""
    values, hole = values.copy(), hole.copy()
    if hole.all():
        raise ValueError("Nothing to fill the holes from: every pixel is a hole.")
    while hole.any():
        for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            source = _shifted(values, dy, dx, 0)
            take = hole & ~_shifted(hole, dy, dx, True)
            values[take] = source[take]
            hole &= ~take
    return values


def splat(values, x, y, alive):
    """`values` `[H, W, ...]` drawn at the rounded positions (x, y) of its `alive` pixels.

    Where two pixels land on one target the one with the larger row-major index
    wins (made explicit, not left to NumPy's assignment order); what nothing lands
    on is filled from the nearest drawn pixel.
    """
    height, width = x.shape
    target_x, target_y = np.rint(x).astype(int), np.rint(y).astype(int)
    drawn = alive & (target_x >= 0) & (target_x < width) & (target_y >= 0) & (target_y < height)
    sources = np.flatnonzero(drawn)  # increasing: a later source overwrites an earlier one
    targets = target_y.ravel()[sources] * width + target_x.ravel()[sources]
    last = np.unique(targets[::-1], return_index=True)[1]
    chosen_targets, chosen_sources = targets[::-1][last], sources[::-1][last]
    out = np.zeros_like(values).reshape((height * width,) + values.shape[2:])
    hit = np.zeros(height * width, bool)
    out[chosen_targets] = values.reshape((height * width,) + values.shape[2:])[chosen_sources]
    hit[chosen_targets] = True
    return fill_holes(out.reshape(values.shape), ~hit.reshape(height, width))


class FlowTracks:
    """Where each pixel of frame 0 is at frame t, following the true flow at sub-pixel precision.

    Each step reads the flow at the track's nearest pixel; a track ends where that
    flow is invalid (occluded, leaving the image). Positions stay fractional, so
    slow motion adds up instead of being rounded away each frame.
    """

    def __init__(self, height, width):
        self.y, self.x = (grid.astype(np.float64) for grid in np.mgrid[0:height, 0:width])
        self.alive = np.ones((height, width), bool)

    def step(self, flow, valid):
        height, width = self.alive.shape
        column = np.clip(np.rint(self.x).astype(int), 0, width - 1)
        row = np.clip(np.rint(self.y).astype(int), 0, height - 1)
        inside = ((self.x > -0.5) & (self.x < width - 0.5)
                  & (self.y > -0.5) & (self.y < height - 0.5))
        self.alive &= inside & valid[row, column]
        self.x = self.x + flow[row, column, 0]
        self.y = self.y + flow[row, column, 1]


def _read(path, mode, dtype):
    with Image.open(path) as image:
        return np.asarray(image.convert(mode) if mode else image, dtype)


def _read_sequence(data_dir, split, prefix, length):
    """Frames (float [L, H, W, 3]), train-id maps and the L - 1 flow files of one sequence."""
    def paths(folder, suffix):
        return sorted(glob.glob(os.path.join(data_dir, folder, split, "*",
                                             f"{prefix}_*_{suffix}.png")))

    frames = paths("leftImg8bit_sequence", "leftImg8bit")
    maps = paths("gtFine_sequence", "gtFine_labelTrainIds")
    flows = paths("flow", "flow")
    if min(len(frames), len(maps), len(flows) + 1) < length:
        raise ValueError(f"Sequence {prefix!r} of {data_dir} has fewer than {length} frames "
                         "with labels and flow; render it with --num_frames >= N + 1.")
    return (np.stack([_read(p, "RGB", np.float32) / 255.0 for p in frames[:length]]),
            np.stack([_read(p, None, np.int32) for p in maps[:length]]),
            flows[:length - 1])


def ceiling_curves(data_dir, split, num_frames, segmenter):
    """The per-frame curves of the module docstring, summed over every sequence of `split`."""
    from seg2vid_tf.models import segmenter as segmenter_lib  # pylint: disable=C0415

    path = os.path.join(data_dir, "synthetic.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--data_dir: no synthetic.json in {data_dir}; the oracle needs "
                                "the synthetic renderer's flow.")
    with open(path, encoding="utf-8") as handle:
        prefixes = [entry["prefix"] for entry in json.load(handle)["sequences"][split]]
    length = num_frames + 1
    shape = (length,) + (segmentation.NUM_SCORED_CLASSES,) * 2
    confusion = {name: np.zeros(shape, np.int64) for name in NAMES}
    for prefix in prefixes:
        frames, maps, flows = _read_sequence(data_dir, split, prefix, length)
        tracks = FlowTracks(*maps.shape[1:])
        carried_frames, carried_maps = [frames[0]], [maps[0]]
        for flow_path in flows:
            tracks.step(*read_kitti_flow(flow_path))
            carried_frames.append(splat(frames[0], tracks.x, tracks.y, tracks.alive))
            carried_maps.append(splat(maps[0], tracks.x, tracks.y, tracks.alive))
        segment = lambda images: segmenter_lib.predict_train_ids(segmenter, images)  # noqa: E731
        predicted = {
            "fcn_miou_oracle": segment(np.stack(carried_frames)),
            "fcn_miou_copy": segment(np.repeat(frames[:1], length, 0)),
            "fcn_miou_real": segment(frames),
            "label_miou_oracle": np.stack(carried_maps),
            "label_miou_kept": np.repeat(maps[:1], length, 0)}
        for name, prediction in predicted.items():
            for t in range(length):
                confusion[name][t] += segmentation.confusion_matrix(maps[t], prediction[t])
    return {name: [segmentation.mean_iou(matrix) for matrix in confusion[name]]
            for name in NAMES}


def main(argv):
    del argv
    values = flags.FLAGS
    for name in ("data_dir", "segmenter_checkpoint_dir"):
        if not getattr(values, name):
            raise app.UsageError(f"--{name} is required.")
    from seg2vid_tf import demo_weights  # pylint: disable=import-outside-toplevel

    segmenter = demo_weights.load_network("segmenter", values.segmenter_checkpoint_dir)
    curves = ceiling_curves(values.data_dir, values.split, values.num_frames, segmenter)
    for name in NAMES:
        print(f"{name:18s} " + " ".join(f"{value:.3f}" for value in curves[name]))
    results.write_json(curves, values.output_json, indent=1)
    return 0


if __name__ == "__main__":
    define_flags()
    app.run(main)
