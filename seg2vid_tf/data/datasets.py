"""The tf.data datasets of the readers: batching, shuffling and skipping broken clips.

:func:`make_clip_dataset` turns a list of :class:`~seg2vid_tf.data.clips.Clip`
records into the batched dataset every reader returns::

    clips -> [shuffle] -> [repeat] -> parallel decode -> [ignore_errors]
    -> batch -> prefetch

The decoding is the reader's ``decode_fn`` (built from the checked loaders of
:mod:`seg2vid_tf.data.decoding` and :mod:`seg2vid_tf.data.resizing`), so a
broken file fails with a message that names it; with ``on_error="skip"`` the
broken clips are dropped instead and counted by a :class:`SkipCounter`.
:func:`make_frames_dataset` is the whole dataset of the readers whose clips
are frames only (KTH, UCF101, KITTI).

Element format of the datasets built here (batched, channels-last)::

    video:      float32 [B, T, H, W, C] in [0, 1]
    clip_id:    string  [B]
    (reader specific keys, e.g. label_map, flow, flow_valid)
"""

import dataclasses
import threading

import numpy as np
import tensorflow as tf
from absl import logging

from seg2vid_tf.data.clips import check_on_error, check_size
from seg2vid_tf.data.decoding import load_frames
from seg2vid_tf.data.resizing import resize_frames

__all__ = ["PipelineOptions", "SkipCounter", "make_clip_dataset", "make_frames_dataset"]


class SkipCounter:
    """Counts the clips dropped by ``on_error="skip"`` and logs them.

    The dataset tags every clip with its position in the stream before
    decoding; after ``ignore_errors`` the positions that never arrive are the
    dropped clips. Start and end markers delimit each pass over a finite
    dataset, so the count of a finished pass is exact (also with
    ``deterministic=False``, where a pass is only counted at its end). For a
    repeated (infinite) dataset drops are counted as they are noticed, which
    includes clips that prefetching decoded ahead of the consumer; with
    ``deterministic=False`` a missing position counts once ``window`` later
    positions have arrived (best effort). Several iterators running at the
    same time over one dataset share the counter and confuse it.

    Attributes:
        skipped: Total number of dropped clips over all passes.
        last_pass_skipped: Number dropped in the last finished pass (None
            before the first one ends).
        window: How far positions may arrive out of order: 0 (deterministic
            order), an int, or None (count only at the end of a pass). Set
            by :func:`make_clip_dataset`.
    """

    def __init__(self, description="clip"):
        self.description = description
        self.window = 0
        self.skipped = 0
        self.last_pass_skipped = None
        self._lock = threading.Lock()
        self._reset()

    def _reset(self):
        self._max_seen = -1
        self._pending = set()
        self._pass_skipped = 0

    def _confirm(self, missing):
        if missing:
            self.skipped += missing
            self._pass_skipped += missing
            logging.warning(
                "Skipped %d broken %s(s) (%d so far); the TensorFlow warnings above "
                "name the files.", missing, self.description, self.skipped,
            )

    def observe(self, position, kind):
        """Records one element; returns True for clips, False for markers.

        Args:
            position: Stream position of the element (for the end marker: the
                number of clips in a pass).
            kind: 0 for a clip, 1 for the start marker, 2 for the end marker.
        """
        position, kind = int(position), int(kind)
        with self._lock:
            if kind == 1:
                self._reset()
                return False
            if kind == 2:
                self._pending.update(range(self._max_seen + 1, position))
                self._confirm(len(self._pending))
                self.last_pass_skipped = self._pass_skipped
                if self._pass_skipped:
                    logging.warning(
                        "Pass over the dataset finished: %d of %d %ss skipped.",
                        self._pass_skipped, position, self.description,
                    )
                self._reset()
                return False
            if position > self._max_seen:
                self._pending.update(range(self._max_seen + 1, position))
                self._max_seen = position
            else:
                self._pending.discard(position)
            if self.window is not None and self._pending:
                limit = self._max_seen - self.window
                late = {p for p in self._pending if p < limit}
                self._pending -= late
                self._confirm(len(late))
            return True


def _clip_records(clips, with_label, with_flow):
    """Dict of string arrays (one row per clip) for ``from_tensor_slices``."""
    records = {
        "frame_paths": np.array([list(c.frame_paths) for c in clips], dtype=object),
        "clip_id": np.array([c.clip_id for c in clips], dtype=object),
    }
    if with_label:
        missing = [c.clip_id for c in clips if c.label_path is None]
        if missing:
            raise ValueError(f"Clips without a label map: {missing[:5]} ...")
        records["label_path"] = np.array([c.label_path for c in clips], dtype=object)
    if with_flow:
        missing = [c.clip_id for c in clips if c.flow_paths is None]
        if missing:
            raise ValueError(f"Clips without flows: {missing[:5]} ...")
        records["flow_paths"] = np.array([list(c.flow_paths) for c in clips], dtype=object)
    return records


def _zeros_like_spec(spec):
    """Zeros (empty strings) of the static shape and dtype of ``spec``."""
    if spec.dtype == tf.string:
        return tf.fill(spec.shape, "")
    return tf.zeros(spec.shape, spec.dtype)




def _checked_clip_list(clips, batch_size, description):
    """``clips`` as a list, after checking it and ``batch_size`` for a dataset."""
    clips = list(clips)
    if not clips:
        raise ValueError(f"No {description}s to build a dataset from.")
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    lengths = sorted({c.num_frames for c in clips})
    if len(lengths) != 1:
        raise ValueError(f"All clips must have the same number of frames, got {lengths}.")
    return clips


def _decode_skipping_errors(ds, decode_fn, counter, *, map_kwargs, repeat, num_clips):
    """``ds`` decoded by ``decode_fn`` with the broken clips dropped and counted.

    Every record is tagged with its stream position before decoding; after
    ``ignore_errors`` a start marker (and, unless ``repeat``, an end marker
    carrying ``num_clips``) delimits the pass, and ``counter`` sees every
    position and marker before the markers are filtered out.

    Args:
        ds: Dataset of records.
        decode_fn: The reader's record -> element function.
        counter: The :class:`SkipCounter`, already configured.
        map_kwargs: Keyword arguments of the parallel ``map``.
        repeat: Whether ``ds`` repeats forever (then there is no end marker).
        num_clips: Number of clips in one pass.

    Returns:
        The dataset of decoded elements (not batched).
    """
    ds = ds.enumerate().map(lambda i, rec: (i, decode_fn(rec)), **map_kwargs)
    ds = ds.ignore_errors(log_warning=True)
    _, payload_spec = ds.element_spec

    def marker(kind, position):
        # The dummy payload is built by ops when the marker is produced, so no
        # large constant ends up in the dataset graph.
        ids = tf.data.Dataset.from_tensors(
            (tf.constant(position, tf.int64), tf.constant(kind, tf.int64))
        )
        return ids.map(
            lambda p, k: (p, k, tf.nest.map_structure(_zeros_like_spec, payload_spec))
        )

    ds = ds.map(lambda i, payload: (i, tf.constant(0, tf.int64), payload))
    ds = marker(1, -1).concatenate(ds)
    if not repeat:
        ds = ds.concatenate(marker(2, num_clips))

    def keep(position, kind, payload):
        del payload
        flag = tf.py_function(counter.observe, [position, kind], tf.bool)
        return tf.reshape(flag, [])

    return ds.filter(keep).map(lambda position, kind, payload: payload)


@dataclasses.dataclass(frozen=True)
class PipelineOptions:
    """How a reader's clips become batches: the keyword options every reader's
    ``make_dataset`` takes (``**options``) besides its size and batch size.

    Attributes:
        shuffle: Shuffle the clip list (full buffer), reshuffled every epoch.
        seed: Shuffle seed; equal seeds give equal orders.
        repeat: Repeat forever.
        deterministic: Passed to the parallel ``map``; False lets fast
            elements overtake slow ones.
        drop_remainder: Drop a final partial batch.
        on_error: "raise" (default) fails on the first broken clip with a
            message naming the file; "skip" drops broken clips
            (``ignore_errors``), counts them in ``skip_counter`` and logs the
            count.
        skip_counter: Optional :class:`SkipCounter` to read the count of
            dropped clips from (``on_error="skip"`` only).
    """

    shuffle: bool = False
    seed: int = None
    repeat: bool = False
    deterministic: bool = True
    drop_remainder: bool = False
    on_error: str = "raise"
    skip_counter: SkipCounter = None

    def __post_init__(self):
        check_on_error(self.on_error)


def make_clip_dataset(clips, decode_fn, *, batch_size, with_label=False, with_flow=False,
                      description="clip", **options):
    """Builds the batched tf.data pipeline shared by all readers.

    ``clips -> [shuffle] -> [repeat] -> parallel decode -> [ignore_errors]
    -> batch -> prefetch``.

    Args:
        clips: Non-empty sequence of :class:`Clip` with the same number of
            frames.
        decode_fn: Maps a record dict (``frame_paths`` ``[T]``, ``clip_id``,
            and ``label_path`` / ``flow_paths`` ``[T-1]`` when requested) to
            the element dict; every output must have a fully static shape.
        batch_size: Clips per batch.
        with_label: Put ``label_path`` in the records.
        with_flow: Put ``flow_paths`` in the records.
        description: Word used in log messages.
        **options: The fields of :class:`PipelineOptions`.

    Returns:
        A batched, prefetched ``tf.data.Dataset`` of dicts.
    """
    options = PipelineOptions(**options)
    clips = _checked_clip_list(clips, batch_size, description)
    num_clips = len(clips)
    records = _clip_records(clips, with_label, with_flow)

    ds = tf.data.Dataset.from_tensor_slices(records)
    if options.shuffle:
        ds = ds.shuffle(num_clips, seed=options.seed, reshuffle_each_iteration=True)
    if options.repeat:
        ds = ds.repeat()
    map_kwargs = dict(num_parallel_calls=tf.data.AUTOTUNE, deterministic=options.deterministic)
    # The decoders branch on Python values only (static shapes, flags), so AutoGraph has nothing
    # to convert; converting them anyway added ~1.5 s to every process's first dataset.
    decode_fn = tf.autograph.experimental.do_not_convert(decode_fn)

    if options.on_error == "raise":
        ds = ds.map(decode_fn, **map_kwargs)
    else:
        counter = (options.skip_counter if options.skip_counter is not None
                   else SkipCounter(description))
        counter.description = description
        if options.deterministic:
            counter.window = 0
        else:
            counter.window = 1024 if options.repeat else None
        ds = _decode_skipping_errors(ds, decode_fn, counter, map_kwargs=map_kwargs,
                                     repeat=options.repeat, num_clips=num_clips)

    ds = ds.batch(batch_size, drop_remainder=options.drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)


def make_frames_dataset(clips, *, channels, height, width, batch_size, description="clip",
                        **options):
    """Dataset of clips made of frames only (KTH, UCF101, KITTI).

    Elements: ``video`` float32 ``[B, T, height, width, channels]`` in
    ``[0, 1]`` (frames resized bilinearly with antialiasing when their size
    differs) and ``clip_id`` string ``[B]``. The readers' ``make_dataset``
    functions call it with their ``channels`` and ``description``.

    Args:
        clips: Non-empty sequence of :class:`Clip` with the same number of
            frames.
        channels: Frame channels: 1 (grayscale) or 3 (RGB).
        height: Output height.
        width: Output width.
        batch_size: Clips per batch.
        description: Word used in messages ("KTH clip", ...).
        **options: The fields of :class:`PipelineOptions` (shuffle, seed,
            repeat, deterministic, drop_remainder, on_error, skip_counter).

    Returns:
        A batched, prefetched ``tf.data.Dataset`` of dicts (see
        :func:`make_clip_dataset`).
    """
    check_size(height, width)

    def decode(record):
        frames = load_frames(record["frame_paths"], channels)
        return {
            "video": resize_frames(frames, height, width),
            "clip_id": record["clip_id"],
        }

    return make_clip_dataset(clips, decode, batch_size=batch_size, description=description,
                             **options)
