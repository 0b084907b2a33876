"""Procedural synthetic driving scenes with exact ground-truth optical flow.

This is the embedded default dataset of ``seg2vid_tf``: small forward-driving
street videos with Cityscapes train-id label maps and exact forward optical
flow, written in the Cityscapes *sequence* layout so that the real dataset
readers are exercised by it. Rendering uses only NumPy; the files are written
with Pillow (frames, labels) and TensorFlow's PNG codec (16-bit flow files,
imported on first use).

Modules, in the order a sequence is made:

* :mod:`scene`: what a scene is (the scene model: world axes, camera, static
  geometry, moving objects) as plain dataclasses.
* :mod:`sampling`: draws a random scene from one generator; :mod:`camera`:
  the camera's speeds, path and heading and the world-to-camera transform;
  :mod:`colors`: the palettes objects are drawn from.
* :mod:`raycast`: ray casts one frame (depth buffer over ground, facades,
  sprites and sky) and integrates each pixel's colour over its area;
  :mod:`shading` and :mod:`sprites` texture and label what a ray hits, with
  :mod:`noise` (hash-based value noise) attached to the surfaces.
* :mod:`flow`: the exact forward flow and its validity (occlusions, image
  borders) between two rendered frames.
* :mod:`render`: :func:`render_sequence` (all of the above for one sequence)
  and :func:`sequence_rng`.
* :mod:`dataset`: :func:`generate_dataset` writes the files and
  ``synthetic.json``; :mod:`flow_png` reads and writes KITTI 16-bit flow
  PNGs.
* ``__main__``: the command line, ``python -m seg2vid_tf.data.synthetic``.

:mod:`classes` names the Cityscapes train ids the scenes are labelled with.
"""

from seg2vid_tf.data.synthetic.camera import NEAR_STOPPED_FRACTION, STRAIGHT_FRACTION
from seg2vid_tf.data.synthetic.classes import (BICYCLE, BUILDING, BUS, CAR, FENCE, LABEL_COLORS,
                                               MOTORCYCLE, NUM_LABELS, PERSON, POLE, RIDER, ROAD,
                                               SIDEWALK, SKY, TERRAIN, TRAFFIC_LIGHT,
                                               TRAFFIC_SIGN, TRAIN, TRAIN_ID_NAMES, TRUCK,
                                               VEGETATION, VOID_ID, WALL, colorize_labels)
from seg2vid_tf.data.synthetic.dataset import (FORMAT_VERSION, MOVING_KINDS, generate_dataset,
                                               sequence_motion, sequence_paths, split_counts)
from seg2vid_tf.data.synthetic.flow_png import (FLOW_OFFSET, FLOW_SCALE, read_kitti_flow,
                                                write_kitti_flow)
from seg2vid_tf.data.synthetic.render import RENDERER_VERSION, render_sequence, sequence_rng

__all__ = [
    "BICYCLE", "BUILDING", "BUS", "CAR", "FENCE", "FLOW_OFFSET", "FLOW_SCALE", "FORMAT_VERSION",
    "LABEL_COLORS", "MOTORCYCLE", "MOVING_KINDS", "NEAR_STOPPED_FRACTION", "NUM_LABELS", "PERSON",
    "POLE", "RENDERER_VERSION", "RIDER", "ROAD", "SIDEWALK", "SKY", "STRAIGHT_FRACTION",
    "TERRAIN", "TRAFFIC_LIGHT", "TRAFFIC_SIGN", "TRAIN", "TRAIN_ID_NAMES", "TRUCK", "VEGETATION",
    "VOID_ID", "WALL", "colorize_labels", "generate_dataset", "read_kitti_flow",
    "render_sequence", "sequence_motion", "sequence_paths", "sequence_rng", "split_counts",
    "write_kitti_flow",
]
