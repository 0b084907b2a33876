"""Clip records and the cheap Python-side checks of the dataset readers.

Every reader (:mod:`cityscapes`, :mod:`kth`, :mod:`ucf101`, :mod:`kitti`)
turns a directory tree into a sorted list of :class:`Clip` records in plain
Python, checks cheaply that their files exist and are not empty
(:func:`check_clip_files`), and then hands the list to
:func:`seg2vid_tf.data.datasets.make_clip_dataset`, which decodes the files
inside tf.data map functions (:mod:`seg2vid_tf.data.decoding`).

This module also holds the small helpers the readers share to list frame
files in natural order and to validate their arguments.
"""

import dataclasses
import os
import re

import numpy as np
from absl import logging

from seg2vid_tf.data.decode_errors import DataFileError

__all__ = [
    "Clip",
    "IMAGE_EXTENSIONS",
    "check_clip_files",
    "check_on_error",
    "check_size",
    "list_frame_files",
    "natural_key",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")

_ON_ERROR = ("raise", "skip")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Clip:
    """One training/evaluation example: a run of frames and its annotations.

    Attributes:
        frame_paths: Paths of the ``T`` frames, in temporal order.
        label_path: Path of the semantic label PNG of the first frame, or
            None for datasets without label maps.
        flow_paths: Paths of the ``T - 1`` forward flows (frame t -> t + 1),
            or None.
        clip_id: A readable identifier (e.g. the start frame's file stem).
    """

    frame_paths: tuple
    label_path: str | None = None
    flow_paths: tuple | None = None
    clip_id: str

    def __post_init__(self):
        object.__setattr__(self, "frame_paths", tuple(str(p) for p in self.frame_paths))
        if not self.frame_paths:
            raise ValueError(f"Clip {self.clip_id!r} has no frames.")
        if self.label_path is not None:
            object.__setattr__(self, "label_path", str(self.label_path))
        if self.flow_paths is not None:
            flows = tuple(str(p) for p in self.flow_paths)
            object.__setattr__(self, "flow_paths", flows)
            if len(flows) != len(self.frame_paths) - 1:
                raise ValueError(
                    f"Clip {self.clip_id!r} has {len(self.frame_paths)} frames but "
                    f"{len(flows)} flows; expected {len(self.frame_paths) - 1}."
                )

    @property
    def num_frames(self):
        """Number of frames ``T`` of the clip."""
        return len(self.frame_paths)


def check_on_error(on_error):
    """Raises ValueError unless ``on_error`` is "raise" or "skip"."""
    if on_error not in _ON_ERROR:
        raise ValueError(f"on_error must be one of {_ON_ERROR}, got {on_error!r}.")


def check_size(height, width):
    """Raises ValueError unless height and width are positive integers."""
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _file_problem(path, cache):
    """Returns why ``path`` is unusable ("missing", "empty", ...) or None."""
    if path not in cache:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            cache[path] = "does not exist"
        except OSError as err:  # Permission problems and the like.
            cache[path] = f"cannot be read ({err})"
        else:
            if not os.path.isfile(path):
                cache[path] = "is not a regular file"
            elif st.st_size == 0:
                cache[path] = "is empty (0 bytes)"
            else:
                cache[path] = None
    return cache[path]


def _clip_problem(clip, cache):
    """``(kind, path, why)`` of the first unusable file of ``clip``, or None."""
    paths = [("frame", p) for p in clip.frame_paths]
    if clip.label_path is not None:
        paths.append(("label", clip.label_path))
    if clip.flow_paths is not None:
        paths.extend(("flow", p) for p in clip.flow_paths)
    for kind, path in paths:
        why = _file_problem(path, cache)
        if why is not None:
            return kind, path, why
    return None


def check_clip_files(clips, on_error="raise", description="clip"):
    """Checks that every file of every clip exists and is not empty.

    Args:
        clips: Iterable of :class:`Clip`.
        on_error: "raise" raises on the first bad file; "skip" drops the clips
            that use a bad file and logs how many were dropped.
        description: Word used in messages ("Cityscapes clip", ...).

    Returns:
        The list of clips whose files are all usable.

    Raises:
        FileNotFoundError: A file is missing (with ``on_error="raise"``).
        DataFileError: A file is empty or not a regular file (a ValueError).
    """
    check_on_error(on_error)
    cache = {}
    kept, dropped = [], []
    for clip in clips:
        problem = _clip_problem(clip, cache)
        if problem is None:
            kept.append(clip)
            continue
        kind, path, why = problem
        message = f"The {kind} file {path} of {description} {clip.clip_id!r} {why}."
        if on_error == "raise":
            if why == "does not exist":
                raise FileNotFoundError(message)
            raise DataFileError(message)
        logging.warning("Skipping: %s", message)
        dropped.append(clip)
    if dropped:
        logging.warning(
            "Skipped %d of %d %ss with missing or empty files.",
            len(dropped), len(dropped) + len(kept), description,
        )
    return kept


def natural_key(name):
    """Sort key that orders ``img2.png`` before ``img10.png``."""
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name)]


def list_frame_files(directory, extensions=IMAGE_EXTENSIONS):
    """Frame image files of ``directory`` (not recursive), naturally sorted."""
    names = [
        n for n in os.listdir(directory)
        if not n.startswith(".") and n.lower().endswith(extensions)
        and os.path.isfile(os.path.join(directory, n))
    ]
    return [os.path.join(directory, n) for n in sorted(names, key=natural_key)]
