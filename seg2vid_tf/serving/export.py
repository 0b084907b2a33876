"""Versioned SavedModel export of a Seg2Vid pipeline for TensorFlow Serving.

`export_saved_model(pipeline, export_base, num_frames)` writes
`<export_base>/<version>/` with `keras.export.ExportArchive`, which tracks the
Keras 3 variables as TensorFlow variables, so that TF1-session loaders
(`saved_model_cli run`, `tensorflow_model_server`) can run it; a plain
`tf.saved_model.save` of a module around Keras 3 models cannot be loaded there.

The version is written to a hidden temporary directory beside the versions
(`.tmp-<version>-<pid>`; TF Serving only looks at all-digit names) and renamed
into place when complete, so a running server never sees half a version, and a
killed export leaves no version directory (its leftover temporary directory is
removed by the next export). An existing version is never overwritten.
"""

import contextlib
import json
import logging
import os
import re
import shutil

import keras
import tensorflow as tf

from seg2vid_tf.serving import signatures as signatures_lib

_TMP_PATTERN = re.compile(r"^\.tmp-(\d+)-(\d+)$")
EXPORT_INFO_FILENAME = "seg2vid_export.json"


def existing_versions(export_base):
    """The all-digit version directories under `export_base`, as sorted ints."""
    if not os.path.isdir(export_base):
        return []
    return sorted(int(name) for name in os.listdir(export_base)
                  if name.isdigit() and os.path.isdir(os.path.join(export_base, name)))


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(export_base):
    """Removes `.tmp-<version>-<pid>` directories of exports that are no longer running."""
    if not os.path.isdir(export_base):
        return []
    removed = []
    for name in os.listdir(export_base):
        match = _TMP_PATTERN.match(name)
        if match and not _process_alive(int(match.group(2))):
            shutil.rmtree(os.path.join(export_base, name), ignore_errors=True)
            removed.append(name)
    return removed


def _warnings_and_above(record):
    """A `logging` filter that keeps warnings and errors only."""
    return record.levelno >= logging.WARNING


@contextlib.contextmanager
def _without_tensorflow_info_logs():
    """Hides TensorFlow's INFO lines while saving (one per signature, listing the hundreds of
    captured variables it renames, then sharding and fingerprint notes); warnings and errors
    still show.

    The SavedModel writer logs through absl's logger, the rest of TensorFlow through its own:
    both get a filter. Not their levels: the writer resets absl's verbosity midway (it
    silences itself while listing attributes), which would undo a level set here.
    """
    loggers = (tf.get_logger(), logging.getLogger("absl"))
    for logger in loggers:
        logger.addFilter(_warnings_and_above)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(_warnings_and_above)


def build_archive(pipeline, num_frames):
    """A `keras.export.ExportArchive` with the pipeline's signatures (see `signatures`)."""
    functions = signatures_lib.ServingFunctions(pipeline, num_frames)
    archive = keras.export.ExportArchive()
    # No `archive.track(model)`: the endpoints' variables are tracked by
    # `add_endpoint`, and tracking the models themselves would make the export
    # trace Keras' default `Model.call` signature, which img2vid's dict input
    # does not fit.
    for name, fn, input_signature in functions.endpoints():
        archive.add_endpoint(name=name, fn=fn, input_signature=input_signature)
    return archive


def export_saved_model(pipeline, export_base, num_frames, version=None):
    """Writes a new version of the SavedModel.

    Args:
        pipeline: A `Seg2Vid` (stage 1 optional: without it only `img2vid` is
            exported and it becomes `serving_default`).
        export_base: The model's base directory (TF Serving's `base_path`).
        num_frames: Frames predicted after the first one.
        version: Integer version; the next free one (1 for an empty base) when None.

    Returns:
        The path of the version directory written.

    Raises:
        ValueError: A version that is not a positive integer.
        FileExistsError: The version exists already.
    """
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or version < 1):
        raise ValueError(f"--version must be a positive integer, got {version!r}.")
    os.makedirs(export_base, exist_ok=True)
    remove_stale_temporaries(export_base)
    if version is None:
        versions = existing_versions(export_base)
        version = versions[-1] + 1 if versions else 1
    final = os.path.join(export_base, str(version))
    if os.path.exists(final):
        raise FileExistsError(f"Version {version} exists already at {final}; an export never "
                              "overwrites a version (choose another --version or leave it out).")
    temporary = os.path.join(export_base, f".tmp-{version}-{os.getpid()}")
    try:
        archive = build_archive(pipeline, num_frames)
        with _without_tensorflow_info_logs():
            archive.write_out(temporary, verbose=False)
        info = {
            "num_frames": num_frames,
            "height": pipeline.height,
            "width": pipeline.width,
            "channels": pipeline.channels,
            "label_mode": pipeline.video_model.config.label_mode,
            "has_label2image": pipeline.painter is not None,
            "rollout": pipeline.rollout_options.to_dict(),
            "signatures": [name for name, _, _ in
                           signatures_lib.ServingFunctions(pipeline, num_frames).endpoints()],
            "tensorflow": tf.__version__,
        }
        # Beside the SavedModel in assets.extra, where TF Serving allows extra files.
        extra = os.path.join(temporary, "assets.extra")
        os.makedirs(extra, exist_ok=True)
        with open(os.path.join(extra, EXPORT_INFO_FILENAME), "w", encoding="utf-8") as handle:
            json.dump(info, handle, indent=2)
        if os.path.exists(final):
            raise FileExistsError(f"Version {version} appeared at {final} during the export.")
        os.rename(temporary, final)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return final
