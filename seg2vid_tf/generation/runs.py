"""Generating videos: one from a label map, a first frame or a photo (`run`), or one per
photo of a folder (`run_folder`); the work of `python -m seg2vid_tf.generate`.
"""

import os

import numpy as np
import tqdm
from absl import logging
from PIL import Image

from seg2vid_tf import labels, visualization
from seg2vid_tf.command_flags import FlagError
from seg2vid_tf.conversion.checkpoints import load_seg2vid
from seg2vid_tf.data import kitti
from seg2vid_tf.generation.inputs import LABEL_ID_SETS, check_file, read_first_frame, read_label_map
from seg2vid_tf.generation.panels import video_panels, write_video
from seg2vid_tf.models import seg2vid
from seg2vid_tf.segmentation import frames as frames_lib
from seg2vid_tf.segmentation import segmenters


def _check_settings(num_frames, video_format, label_ids, resize):
    """Raises `FlagError` (naming the flag) for a setting out of range."""
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise FlagError(f"--num_frames must be an integer >= 1, got {num_frames!r}.")
    try:
        visualization.parse_video_formats(video_format)
    except ValueError as error:
        raise FlagError(str(error)) from error
    if label_ids not in LABEL_ID_SETS:
        raise FlagError(f"--label_ids must be one of {LABEL_ID_SETS}, got {label_ids!r}.")
    if resize not in frames_lib.RESIZE_MODES:
        raise FlagError(f"--resize must be one of {frames_lib.RESIZE_MODES}, got {resize!r}.")


def segment_photo(image, segmenter, pipeline, output, resize="fit"):
    """The first frame and label map of a photo, segmented; writes the label map used.

    The photo is resized to the model's size by `resize` and segmented at that
    size, so the label map lines up with the first frame. Written beside
    `output`: `<stem>_label_map.png` (train ids, 255 = void, readable by
    `--label_map`) and `<stem>_label_map_color.png`.

    Args:
        image: Photo path (`--image`).
        segmenter: A loaded `segmentation.segmenters.Segmenter`.
        pipeline: The loaded `seg2vid.Seg2Vid` (its size and channels).
        output: The video's output path.
        resize: "fit" or "crop".

    Returns:
        `(frame float32 [H, W, C], train_ids int32 [H, W], written paths)`.
    """
    check_file(image, "image")
    pixels = frames_lib.read_image(image, "image")
    pixels = frames_lib.resize_image(pixels, pipeline.height, pipeline.width, resize)
    train_ids = segmenter.segment(pixels[None], source=f"segmenter output on {image}")[0]
    stem = os.path.splitext(output)[0]
    paths = [stem + "_label_map.png", stem + "_label_map_color.png"]
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    Image.fromarray(labels.train_id_png_values(train_ids)).save(paths[0])
    Image.fromarray(labels.colorize(train_ids)).save(paths[1])
    frame = pixels.astype(np.float32) / 255.0
    if pipeline.channels == 1:
        frame = np.asarray(Image.fromarray(pixels).convert("L"), np.float32)[..., None] / 255.0
    return frame, train_ids, paths


def run(*, checkpoint_dir, output, num_frames=12, seed=0, label_map=None, first_frame=None,
        label2image_checkpoint_dir=None, show_flow=False, label_ids="train", fps=4,
        pipeline=None, video_format="gif,mp4", image=None, segmenter=None,
        segmenter_label_space=None, resize="fit", loaded_segmenter=None, rollout_options=None):
    """Loads both stages, generates one video and writes it (`python -m seg2vid_tf.generate`).

    Args:
        checkpoint_dir: img2vid checkpoint directory.
        output: Output path (.gif or .mp4; each of `video_format` gets its extension).
        num_frames: Frames after the first one (>= 1).
        seed: Key of the latent and the fill noise.
        label_map: Label PNG path (optional for a no-label model with a first frame).
        first_frame: Optional image path; painted by stage 1 when None.
        label2image_checkpoint_dir: Stage-1 directory; needed without `first_frame`.
        show_flow: Add the flow and mask panels.
        label_ids: `"train"` or `"cityscapes"` (the ids of the label PNG).
        fps: Frames per second of the animation.
        pipeline: An already loaded `seg2vid.Seg2Vid` (then the directories are
            not read).
        video_format: "gif", "mp4" or "gif,mp4".
        image: A photo (`--image`): segmented by `segmenter`, it is the first
            frame and its segmentation the label map (no stage 1).
        segmenter: Segmenter path for `image` (None: the shipped one).
        segmenter_label_space: Its label space (None: cityscapes_train_id).
        resize: "fit" or "crop": how inputs of another size reach the model's.
        loaded_segmenter: An already loaded segmenter (then `segmenter` is not read).
        rollout_options: `RolloutOptions` for videos longer than one round (the
            reference's by default); ignored when `pipeline` is given.

    Returns:
        dict: `paths` (written files) and `result` (`Seg2Vid.generate`'s arrays).

    Raises:
        FileNotFoundError, ValueError: Missing or bad inputs, naming the flag or file.
    """
    _check_settings(num_frames, video_format, label_ids, resize)
    if image is not None and (label_map is not None or first_frame):
        raise FlagError("--image is segmented into the first frame and its label map: do not "
                        "combine it with --label_map or --first_frame.")
    for path, flag_name in ((label_map, "label_map"), (first_frame, "first_frame"),
                            (image, "image")):
        if path:
            check_file(path, flag_name)
    if pipeline is None:
        pipeline = _load_pipeline(checkpoint_dir, label2image_checkpoint_dir,
                                  bool(first_frame or image), rollout_options)
    paths = []
    if image:
        if loaded_segmenter is None:
            loaded_segmenter = segmenters.load_segmenter(segmenter, segmenter_label_space)
        logging.info("Segmenter: %s", loaded_segmenter.describe())
        frame, train_ids, paths = segment_photo(image, loaded_segmenter, pipeline, output, resize)
        frame, train_ids, cityscapes_ids = frame[None], train_ids[None], None
    else:
        frame, train_ids, cityscapes_ids = _read_inputs(pipeline, label_map, first_frame,
                                                        label_ids, resize)
    result = pipeline.generate(num_frames, seed, label_map=train_ids, first_frame=frame,
                               cityscapes_label_map=cityscapes_ids)
    paths = write_video(output, video_panels(result, show_flow=show_flow), fps=fps,
                        video_format=video_format) + paths
    return {"paths": paths, "result": result}


def _load_pipeline(checkpoint_dir, label2image_checkpoint_dir, has_frame, rollout_options):
    """Loads `run`'s `Seg2Vid`: stage 1 only where it paints (no start frame, or repaints)."""
    if not has_frame and not label2image_checkpoint_dir:
        raise FlagError("Set --label2image_checkpoint_dir (stage 1 paints the first frame "
                        "from the label map), --first_frame or --image.")
    if not checkpoint_dir:
        raise FlagError("Set --checkpoint_dir to the img2vid checkpoint directory.")
    rollout_options = rollout_options or seg2vid.RolloutOptions()
    painting = rollout_options.painting_flags
    if painting and not label2image_checkpoint_dir:
        raise FlagError(f"{painting[0]} > 0 paints with stage 1: set "
                        "--label2image_checkpoint_dir.")
    return load_seg2vid(
        checkpoint_dir, None if has_frame and not painting else label2image_checkpoint_dir,
        rollout_options=rollout_options)


def _read_inputs(pipeline, label_map, first_frame, label_ids, resize):
    """`run`'s batched (first frame, train ids, Cityscapes ids) from the label/frame files."""
    if label_map is None and (pipeline.uses_labels or not first_frame):
        raise FlagError(
            "Set --label_map: this img2vid model is label-conditioned." if pipeline.uses_labels
            else "Set --label_map (to paint the first frame) or --first_frame.")
    train_ids = cityscapes_ids = frame = None
    if label_map is not None:
        train_ids, cityscapes_ids = read_label_map(label_map, label_ids, pipeline.height,
                                                   pipeline.width, resize=resize)
        train_ids = train_ids[None]
        cityscapes_ids = None if cityscapes_ids is None else cityscapes_ids[None]
    if first_frame:
        frame = read_first_frame(first_frame, pipeline.channels, pipeline.height,
                                 pipeline.width, resize=resize)[None]
    return frame, train_ids, cityscapes_ids


def run_folder(*, image_dir, output_dir, checkpoint_dir=None, image_pattern="*.png",
               segmenter=None, segmenter_label_space=None, pipeline=None, loaded_segmenter=None,
               rollout_options=None, label2image_checkpoint_dir=None, **settings):
    """Generates one video per photo of a folder (e.g. KITTI's `training/image_2`).

    Every photo is a start frame, segmented as with `--image` (`run`); the
    model and the segmenter are loaded once. Written to `output_dir`:
    `<photo stem>.gif` / `.mp4` and its `_label_map.png` /
    `_label_map_color.png`. A photo that cannot be read is reported and
    skipped; the others are still generated.

    Args:
        image_dir: Folder of PNG/JPEG photos (`seg2vid_tf.data.kitti.find_frames`).
        output_dir: Folder of the videos (created).
        checkpoint_dir: img2vid checkpoint directory (unless `pipeline`).
        image_pattern: Shell pattern of the photos' file names (`*_10.png`
            keeps the first frame of each KITTI flow pair).
        segmenter, segmenter_label_space, loaded_segmenter: As in `run`.
        pipeline: An already loaded `seg2vid.Seg2Vid`.
        rollout_options: As in `run`.
        label2image_checkpoint_dir: Stage 1, loaded only for a rollout that paints
            (`--repaint_weight` or `--detail_weight` > 0).
        **settings: `run`'s `num_frames`, `seed`, `show_flow`, `fps`,
            `video_format` and `resize`.

    Returns:
        dict: `videos` (photo path -> written paths) and `failed` (photo path
        -> error message).

    Raises:
        FileNotFoundError: `image_dir` or the checkpoint is missing.
        ValueError: No photo matches `image_pattern`, or a setting is bad.
    """
    _check_settings(settings.get("num_frames", 12), settings.get("video_format", "gif,mp4"),
                    "train", settings.get("resize", "fit"))
    photos = [clip.frame_paths[0] for clip in kitti.find_frames(image_dir, None, image_pattern,
                                                                on_error="skip")]
    if pipeline is None:  # every photo is a first frame: stage 1 only where the rollout paints
        pipeline = _load_pipeline(checkpoint_dir, label2image_checkpoint_dir, True,
                                  rollout_options)
    if loaded_segmenter is None:
        loaded_segmenter = segmenters.load_segmenter(segmenter, segmenter_label_space)
    os.makedirs(output_dir, exist_ok=True)
    videos, failed = {}, {}
    for photo in tqdm.tqdm(photos, desc="videos", unit="video", disable=len(photos) < 2):
        stem = os.path.splitext(os.path.basename(photo))[0]
        try:
            outcome = run(checkpoint_dir=None, output=os.path.join(output_dir, stem + ".gif"),
                          image=photo, pipeline=pipeline, loaded_segmenter=loaded_segmenter,
                          **settings)
        except ValueError as error:
            logging.error("Skipped %s: %s", photo, error)
            failed[photo] = str(error)
            continue
        videos[photo] = outcome["paths"]
    return {"videos": videos, "failed": failed}
