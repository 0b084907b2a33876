"""Writing the synthetic dataset to disk in the Cityscapes sequence layout.

Output layout
-------------
:func:`generate_dataset` (and the command line) write, for split in
``{train, val}`` and sequence ``S`` (global, unique across splits) and frame
``T`` (``0 .. F-1``)::

    DIR/leftImg8bit_sequence/<split>/<city>/<city>_<S:06d>_<T:06d>_leftImg8bit.png
        RGB 8-bit frames.
    DIR/gtFine_sequence/<split>/<city>/<city>_<S:06d>_<T:06d>_gtFine_labelTrainIds.png
        8-bit single channel Cityscapes train ids 0..18, 19 = void (never 255).
    DIR/flow/<split>/<city>/<city>_<S:06d>_<T:06d>_flow.png
        Forward flow from frame T to frame T+1, T = 0 .. F-2 (KITTI format,
        see :mod:`flow_png`).
    DIR/synthetic.json
        Generation settings and the per-split sequence lists, with each
        sequence's camera and motion truth (:func:`sequence_motion`).

The first ``round(N * (1 - val_fraction))`` sequences (at least one) are the
train split, the rest val (at least one when ``N >= 2`` and
``val_fraction > 0``).
"""

import concurrent.futures
import json
import multiprocessing
import os
import time

import numpy as np
from PIL import Image

from seg2vid_tf.data.synthetic.classes import TRAIN_ID_NAMES, VOID_ID
from seg2vid_tf.data.synthetic.flow_png import hide_gpus_from_tensorflow, write_kitti_flow
from seg2vid_tf.data.synthetic.render import (RENDERER_VERSION, check_motion_scale, check_sizes,
                                              check_speed_variation, render_sequence_full,
                                              sequence_rng)

FORMAT_VERSION = 1


def check_settings(output_dir, num_sequences, num_frames, height, width, seed, val_fraction,
                   city, motion_scale=1.0, speed_variation=1.0):
    """Raises ValueError naming the first invalid setting of :func:`generate_dataset`."""
    check_motion_scale(motion_scale)
    check_speed_variation(speed_variation)
    if not output_dir:
        raise ValueError("output_dir must be given (--output_dir=DIR).")
    if not isinstance(num_sequences, (int, np.integer)) or num_sequences < 1:
        raise ValueError(f"num_sequences must be an int >= 1, got {num_sequences!r}.")
    check_sizes(num_frames, height, width)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    if not (0.0 <= float(val_fraction) < 1.0):
        raise ValueError(f"val_fraction must satisfy 0 <= val_fraction < 1, got {val_fraction!r}.")
    if not city or not isinstance(city, str) or any(c in city for c in "/\\_ ") \
            or city in (".", ".."):
        raise ValueError(f"city must be a non-empty name without '/', '\\\\', '_' or spaces, "
                         f"got {city!r}.")


def split_counts(num_sequences, val_fraction):
    """Number of train and val sequences.

    Args:
        num_sequences: Total number of sequences N >= 1.
        val_fraction: Fraction in [0, 1).

    Returns:
        ``(num_train, num_val)``: ``num_train = round(N * (1 - val_fraction))``
        clipped to at least 1, and to at most N - 1 when N >= 2 and
        val_fraction > 0.
    """
    n_train = max(1, int(round(num_sequences * (1.0 - val_fraction))))
    if num_sequences >= 2 and val_fraction > 0:
        n_train = min(n_train, num_sequences - 1)
    n_train = min(n_train, num_sequences)
    return n_train, num_sequences - n_train


def sequence_paths(output_dir, split, city, seq, num_frames):
    """File paths of one sequence.

    Returns:
        dict with lists ``frames`` (F), ``labels`` (F) and ``flows`` (F-1).
    """
    def name(kind, frame, suffix):
        return os.path.join(output_dir, kind, split, city,
                            f"{city}_{seq:06d}_{frame:06d}_{suffix}.png")

    return {
        "frames": [name("leftImg8bit_sequence", t, "leftImg8bit") for t in range(num_frames)],
        "labels": [name("gtFine_sequence", t, "gtFine_labelTrainIds") for t in range(num_frames)],
        "flows": [name("flow", t, "flow") for t in range(num_frames - 1)],
    }


def _write_sequence(output_dir, split, city, k, seed, num_frames, height, width, motion_scale,
                    speed_variation):
    """Renders sequence k and writes its files; returns its entry of `synthetic.json`."""
    frames, labels, flows, valid, scene = render_sequence_full(
        sequence_rng(seed, k), num_frames, height, width, motion_scale, speed_variation)
    paths = sequence_paths(output_dir, split, city, k, num_frames)
    for key in ("frames", "labels", "flows"):
        os.makedirs(os.path.dirname(paths[key][0]), exist_ok=True)
    for t in range(num_frames):
        Image.fromarray(frames[t]).save(paths["frames"][t])
        Image.fromarray(labels[t]).save(paths["labels"][t])
    for t in range(num_frames - 1):
        write_kitti_flow(paths["flows"][t], flows[t], valid[t])
    return {
        "sequence": k,
        "prefix": f"{city}_{k:06d}",
        "focal_px": round(float(scene.f), 4),
        "principal_point_px": [round(float(scene.cx), 4), round(float(scene.cy), 4)],
        "camera_height_m": round(float(scene.cam_h), 4),
        "camera_z_m": [round(float(z), 4) for z in scene.cam_z],
        "camera_x_m": [round(float(x), 4) for x in scene.cam_x],
        "heading_rad": [round(float(a), 6) for a in scene.heading],
        "valid_flow_fraction": round(float(valid.mean()), 4),
        "motion": sequence_motion(scene),
    }


MOVING_KINDS = ("vehicle", "person", "cyclist")  # sprites that may move (parked: velocity 0)


def sequence_motion(scene):
    """The motion truth of a scene, as recorded in `synthetic.json`.

    Returns:
        dict: `camera_speed` (metres per frame, one per frame transition),
        `yaw_rate` (radians per frame, the mean over the sequence; positive
        turns right; 0 for the half of the sequences that drive straight) and
        `objects` (one `{"class", "velocity": [vx, vz]}` per road user, metres
        per frame in world axes; parked cars have velocity 0). `class` is the
        vehicle type (car, truck, bus, tram) or person / cyclist.
    """
    objects = []
    for sprite in scene.sprites:
        if sprite.kind in MOVING_KINDS:
            name = sprite.params.get("vehicle", sprite.kind) if sprite.kind == "vehicle" \
                else sprite.kind
            objects.append({"class": name,
                            "velocity": [round(float(sprite.vx), 4), round(float(sprite.vz), 4)]})
    steps = np.hypot(np.diff(scene.cam_x), np.diff(scene.cam_z))
    return {"camera_speed": [round(float(v), 4) for v in steps],
            "yaw_rate": round(float(scene.yaw_rate), 6), "objects": objects}


def check_num_workers(num_workers):
    """Raises ValueError unless `num_workers` is an int >= 0."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer)) \
            or num_workers < 0:
        raise ValueError(f"num_workers must be an int >= 0 (0: one per CPU core), "
                         f"got {num_workers!r}.")


def _write_sequences(jobs, workers, progress):
    """Runs `_write_sequence` for every job, in `workers` processes; entries in sequence order."""
    bar = None
    if progress:
        from tqdm import tqdm  # pylint: disable=import-outside-toplevel
        bar = tqdm(total=len(jobs), desc="sequences", unit="seq")
    entries = []
    if workers <= 1:
        for job in jobs:
            entries.append(_write_sequence(*job))
            if bar is not None:
                bar.update()
    else:
        # "spawn": the caller may hold TensorFlow's threads, which a fork would copy half-way.
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context,
                                                    initializer=hide_gpus_from_tensorflow) as pool:
            futures = [pool.submit(_write_sequence, *job) for job in jobs]
            for future in concurrent.futures.as_completed(futures):
                entries.append(future.result())
                if bar is not None:
                    bar.update()
    if bar is not None:
        bar.close()
    entries.sort(key=lambda entry: entry["sequence"])
    return entries


_LAYOUT = {
    "frames": "leftImg8bit_sequence/<split>/<city>/<city>_<seq:06d>_<frame:06d>_leftImg8bit.png",
    "labels": ("gtFine_sequence/<split>/<city>/<city>_<seq:06d>_<frame:06d>"
               "_gtFine_labelTrainIds.png"),
    "flows": "flow/<split>/<city>/<city>_<seq:06d>_<frame:06d>_flow.png",
}


def _write_metadata(output_dir, settings, splits):
    """Writes `synthetic.json` (settings, splits, each sequence's entry, formats); its path."""
    meta = {
        "generator": "seg2vid_tf.data.synthetic",
        "format_version": FORMAT_VERSION,
        "renderer_version": RENDERER_VERSION,
        "settings": settings,
        "splits": {s: [e["sequence"] for e in v] for s, v in splits.items()},
        "sequences": splits,
        "label_names": list(TRAIN_ID_NAMES) + ["void"],
        "void_id": VOID_ID,
        "flow_format": ("KITTI 16-bit RGB PNG: R = u*64 + 2^15, G = v*64 + 2^15, B = valid; "
                        "forward flow from frame t to t+1 in pixels (u = dx, v = dy)."),
        "layout": _LAYOUT,
    }
    os.makedirs(output_dir, exist_ok=True)
    json_path = os.path.join(output_dir, "synthetic.json")
    with open(json_path, "w") as fh:
        json.dump(meta, fh, indent=1)
    return json_path


def generate_dataset(output_dir, num_sequences, num_frames, height, width, seed,
                     val_fraction=0.25, city="synth", progress=False, motion_scale=1.0,
                     num_workers=1, speed_variation=1.0):
    """Generates the synthetic dataset in the Cityscapes sequence layout.

    Existing files with the same names are overwritten; other files in
    ``output_dir`` are left alone. The files do not depend on ``num_workers``:
    sequence k only depends on ``(seed, k)``.

    Args:
        output_dir: Root directory (created if needed).
        num_sequences: Number of sequences N (>= 1).
        num_frames: Frames per sequence (>= 2).
        height: Frame height (multiple of 16, >= 32).
        width: Frame width (multiple of 16, >= 32).
        seed: Non-negative int; sequence k uses ``sequence_rng(seed, k)``.
        val_fraction: Fraction of sequences in the val split, in [0, 1).
        city: City name used in directory and file names.
        progress: Show a tqdm progress bar.
        motion_scale: Multiplies all velocities, in (0, 4] (see
            :func:`render_sequence`).
        speed_variation: Spread of the camera speeds, in [0, 1] (see
            :func:`render_sequence`).
        num_workers: Processes that render sequences in parallel (1: this
            process only; 0: one per CPU core).

    Returns:
        Summary dict: ``output_dir``, ``num_train``, ``num_val``,
        ``num_frames``, ``num_files``, ``seconds`` and the json path.

    Raises:
        ValueError: For invalid arguments.
    """
    check_settings(output_dir, num_sequences, num_frames, height, width, seed, val_fraction, city,
                   motion_scale, speed_variation)
    check_num_workers(num_workers)
    start = time.time()
    n_train, n_val = split_counts(num_sequences, val_fraction)
    jobs = [(output_dir, "train" if k < n_train else "val", city, k, int(seed), int(num_frames),
             int(height), int(width), float(motion_scale), float(speed_variation))
            for k in range(num_sequences)]
    workers = min(num_workers or (os.cpu_count() or 1), num_sequences)
    entries = _write_sequences(jobs, workers, progress)
    settings = dict(num_sequences=int(num_sequences), num_frames=int(num_frames),
                    height=int(height), width=int(width), seed=int(seed),
                    val_fraction=float(val_fraction), city=city,
                    motion_scale=float(motion_scale), speed_variation=float(speed_variation))
    json_path = _write_metadata(output_dir, settings,
                                {"train": entries[:n_train], "val": entries[n_train:]})
    num_files = num_sequences * (3 * num_frames - 1)
    return {"output_dir": os.path.abspath(output_dir), "num_train": n_train, "num_val": n_val,
            "num_frames": int(num_frames), "num_files": num_files + 1,
            "seconds": time.time() - start, "json": json_path}
