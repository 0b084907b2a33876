"""Frames of video files: the imageio video backend, extraction to PNGs and their cache.

Datasets that ship ``.avi`` files (KTH, UCF101) are read as frames: each
video is decoded once with imageio (its ``ffmpeg`` plugin from
imageio-ffmpeg, else PyAV) into numbered PNGs under a cache folder
(:func:`default_video_cache_dir`: a folder of the temp dir keyed by the
dataset root), and later runs reuse them. Without a backend the error says
how to extract the frames by hand or which package to install.
"""

import dataclasses
import hashlib
import os
import shutil
import tempfile
import threading

import numpy as np
from absl import logging

from seg2vid_tf.data.clips import list_frame_files

__all__ = ["default_video_cache_dir", "extract_video_frames", "materialize_videos"]

_VIDEO_BACKEND_HELP = (
    "imageio cannot decode videos here: neither imageio-ffmpeg nor PyAV is "
    "installed. Either extract the frames first (e.g. `ffmpeg -i {video} "
    "{frames_dir}/%05d.png`, giving <category>/<video>/<frames>), or "
    "`pip install imageio-ffmpeg`."
)


def _video_backend():
    """"ffmpeg", "pyav" or None: the imageio plugin able to read .avi files."""
    try:
        import imageio_ffmpeg  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
        return "ffmpeg"
    except ImportError:
        pass
    try:
        import av  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
        return "pyav"
    except ImportError:
        return None


def _iter_video_frames(video_path):
    """Yields the frames of a video file as uint8 numpy arrays (imageio)."""
    import imageio  # pylint: disable=import-outside-toplevel

    backend = _video_backend()
    if backend is None:
        raise RuntimeError(
            f"Cannot read {video_path}: "
            + _VIDEO_BACKEND_HELP.format(
                video=video_path, frames_dir=os.path.splitext(video_path)[0]
            )
        )
    if backend == "ffmpeg":
        reader = imageio.v2.get_reader(video_path, format="FFMPEG")
        try:
            for frame in reader:
                yield np.asarray(frame)
        finally:
            reader.close()
    else:
        for frame in imageio.v3.imiter(video_path, plugin="pyav"):
            yield np.asarray(frame)


def default_video_cache_dir(data_dir):
    """Where frames extracted from videos go by default (a temp-dir folder)."""
    digest = hashlib.sha1(os.path.abspath(os.fspath(data_dir)).encode()).hexdigest()[:12]
    return os.path.join(tempfile.gettempdir(), "seg2vid_tf_frames", digest)


def _save_video_frames(video_path, out_dir, grayscale):
    """Decodes ``video_path`` into ``out_dir/frame_00001.png, ...``; returns the frame count.

    Raises:
        ValueError: The decoder fails; the message names the video and the frame.
    """
    from PIL import Image  # pylint: disable=import-outside-toplevel

    count = 0
    frames = _iter_video_frames(video_path)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except (OSError, ValueError, IndexError, KeyError) as err:  # Decoder errors.
            raise ValueError(
                f"Cannot decode video {video_path} (frame {count + 1}): {err}"
            ) from err
        count += 1
        frame = np.asarray(frame)
        if frame.ndim == 3 and frame.shape[-1] == 1:
            frame = frame[..., 0]
        image = Image.fromarray(frame.astype(np.uint8))
        image = image.convert("L" if grayscale else "RGB")
        image.save(os.path.join(out_dir, f"frame_{count:05d}.png"))
    return count


def extract_video_frames(video_path, out_dir, grayscale=False):
    """Decodes a video file once into numbered PNG frames (cached).

    Frames go to ``out_dir/frame_00001.png, ...``; a ``.complete`` marker makes
    later calls reuse them.

    Args:
        video_path: The video file.
        out_dir: Folder for the frames.
        grayscale: Store single-channel frames.

    Returns:
        Sorted tuple of frame paths.

    Raises:
        RuntimeError: No imageio video backend is installed.
        ValueError: The video cannot be decoded or has no frames.
    """
    marker = os.path.join(out_dir, ".complete")
    if os.path.isfile(marker):
        return tuple(list_frame_files(out_dir))
    tmp_dir = f"{out_dir}.tmp-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    try:
        count = _save_video_frames(video_path, tmp_dir, grayscale)
        if count == 0:
            raise ValueError(f"Video {video_path} has no frames.")
        with open(os.path.join(tmp_dir, ".complete"), "w", encoding="utf-8") as f:
            f.write(f"{count}\n")
        shutil.rmtree(out_dir, ignore_errors=True)
        os.makedirs(os.path.dirname(out_dir) or ".", exist_ok=True)
        os.replace(tmp_dir, out_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return tuple(list_frame_files(out_dir))


def materialize_videos(videos, video_cache_dir, grayscale=False, description="dataset"):
    """Replaces video-file sources by their extracted frames.

    Args:
        videos: List of :class:`VideoSource`.
        video_cache_dir: Folder for extracted frames
            (``<cache>/<category>/<video>/``).
        grayscale: Store single-channel frames.
        description: Dataset name used in messages.

    Returns:
        List of :class:`VideoSource` that all have ``frame_paths``.

    Raises:
        RuntimeError: Video files are present but imageio has no video backend.
    """
    files = [v for v in videos if v.frame_paths is None]
    if not files:
        return list(videos)
    if _video_backend() is None:
        raise RuntimeError(
            f"{description}: found {len(files)} video file(s) such as {files[0].video_path}, but "
            + _VIDEO_BACKEND_HELP.format(
                video=files[0].video_path,
                frames_dir=os.path.splitext(files[0].video_path)[0],
            )
        )
    logging.info(
        "%s: extracting frames of %d video(s) to %s.", description, len(files), video_cache_dir
    )
    out = []
    for video in videos:
        if video.frame_paths is None:
            frames = extract_video_frames(
                video.video_path,
                os.path.join(video_cache_dir, video.category, video.name),
                grayscale=grayscale,
            )
            video = dataclasses.replace(video, frame_paths=frames)
        out.append(video)
    return out
