"""Generate a video from a single semantic label map (both stages of seg2vid).

    python -m seg2vid_tf.generate --label_map=labels.png --num_frames=12 --seed=0 \
        --output=video.gif --checkpoint_dir=IMG2VID_DIR \
        --label2image_checkpoint_dir=LABEL2IMAGE_DIR [--first_frame=frame.png] \
        [--show_flow] [--label_ids=train|cityscapes]
    python -m seg2vid_tf.generate --image=photo.jpg [--segmenter=PATH] \
        --checkpoint_dir=IMG2VID_DIR --output=video.gif [--resize=fit|crop]
    python -m seg2vid_tf.generate --image_dir=KITTI/training/image_2 \
        --image_pattern='*_10.png' --checkpoint_dir=IMG2VID_DIR --output_dir=VIDEOS

Stage 1 (pix2pixHD, `--label2image_checkpoint_dir`) paints the first frame
from the label map, unless `--first_frame` gives it; stage 2 (img2vid,
`--checkpoint_dir`) predicts `--num_frames` frames after it with a latent
drawn from the prior by a stateless RNG keyed by `--seed` (same seed, same
video). Beyond the model's 4 frames per round the label map is warped with
the predicted flow and the next round starts from the last frame
(`seg2vid_tf.models.seg2vid`). A no-label img2vid model (`label_mode=none`)
needs only `--first_frame`.

From a photo (`--image`): the photo is the first frame, and a segmenter
(`--segmenter`, a local file; `seg2vid_tf.segmentation.segmenters`) gives its
label map, written beside the video as `<stem>_label_map.png` (train ids,
255 = void) and `<stem>_label_map_color.png`; stage 1 is not needed.
`--image_dir` does the same for every photo of a folder matching
`--image_pattern` (KITTI's start frames, `seg2vid_tf.data.kitti`), one video
each in `--output_dir`; a photo that cannot be read is reported and skipped.

Label PNGs are 8-bit single-channel (grayscale or palette) images of ids:
train ids 0..19 (255, Cityscapes' ignore value, reads as 19 = void) with
`--label_ids=train`, or Cityscapes label ids 0..33 (`*_gtFine_labelIds.png`)
with `--label_ids=cityscapes`, mapped to train ids by the standard table. A
label map, first frame or photo of another size than the model's is resized
(nearest neighbour for labels, bilinear for frames) with a notice, by
`--resize`: `fit` scales the whole picture (the default), `crop` first cuts
the largest centred window of the model's aspect ratio.

Written: the animation at `--output`, once per `--video_format` (gif, mp4 or
both, the default; MP4 through imageio-ffmpeg's own ffmpeg), per frame: the
label map colours and the frame; with `--show_flow` also the forward flow in
the Middlebury colour wheel with its legend and the forward and backward
occlusion masks.
"""

import os
import sys

import numpy as np
import tqdm
from absl import flags, logging
from PIL import Image

from seg2vid_tf import cli
from seg2vid_tf import command_flags, labels, visualization
from seg2vid_tf.command_flags import FlagError
from seg2vid_tf.image_formats import PNG_SIGNATURE
from seg2vid_tf.models import seg2vid
from seg2vid_tf.segmentation import frames as frames_lib
from seg2vid_tf.conversion.checkpoints import load_seg2vid

LABEL_ID_SETS = ("train", "cityscapes")
# What Pillow raises for a corrupt, truncated or hostile image file (the last: a header
# claiming more pixels than Image.MAX_IMAGE_PIXELS allows, e.g. a decompression bomb).
_UNREADABLE_IMAGE = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


# --------------------------------------------------------------------------- inputs
def _check_file(path, flag_name):
    if not path or not os.path.isfile(path):
        raise FileNotFoundError(f"File not found: {path!r} (--{flag_name}).")


def read_label_map(path, label_ids="train", height=None, width=None, flag_name="label_map",
                   resize="fit"):
    """Reads a label PNG as train ids, resized to `height` x `width` if needed.

    Args:
        path: 8-bit single-channel (mode L or P) PNG of ids.
        label_ids: `"train"` (0..19, 255 -> 19) or `"cityscapes"` (label ids 0..33).
        height, width: The model's size; the map is resized by nearest
            neighbour (with a logged notice) when it differs.
        flag_name: The flag that named the file, for messages.
        resize: "fit" or "crop" (`segmentation.frames.resize_image`).

    Returns:
        `(train_ids, cityscapes_ids)`: int32 `[H, W]` arrays, the second the
        original Cityscapes label ids (None with `label_ids="train"`).

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a PNG, not 8-bit single-channel, or ids out of range
            (naming the file and the ids).
    """
    if label_ids not in LABEL_ID_SETS:
        raise ValueError(f"--label_ids must be one of {LABEL_ID_SETS}, got {label_ids!r}.")
    _check_file(path, flag_name)
    with open(path, "rb") as handle:
        if handle.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
            raise ValueError(f"{path} (--{flag_name}) is not a PNG file; label maps must be "
                             "8-bit single-channel PNGs of ids.")
    try:
        with Image.open(path) as image:
            mode = image.mode
            if mode in ("L", "P"):
                ids = np.asarray(image, dtype=np.uint8)
    except _UNREADABLE_IMAGE as error:
        raise ValueError(f"{path} (--{flag_name}) is not a readable PNG ({error}); expected a "
                         "complete 8-bit single-channel PNG of label ids.") from error
    if mode not in ("L", "P"):
        raise ValueError(
            f"{path} (--{flag_name}) has image mode {mode!r}; a label map must be an 8-bit "
            "single-channel PNG (mode 'L' or palette 'P') whose pixel values are the class ids, "
            "not a colour rendering or a 16-bit image.")
    if height and width and ids.shape != (height, width):
        logging.warning("Label map %s is %dx%d; resizing it to the model's %dx%d (nearest "
                        "neighbour, --resize=%s).", path, ids.shape[0], ids.shape[1], height,
                        width, resize)
        ids = frames_lib.resize_image(ids, height, width, resize, Image.NEAREST)
    ids = ids.astype(np.int32)
    if label_ids == "cityscapes":
        bad = np.unique(ids[ids > 33])
        if bad.size:
            raise ValueError(
                f"{path} (--{flag_name}) has ids {bad.tolist()} outside the Cityscapes label ids "
                "0..33 (--label_ids=cityscapes); use --label_ids=train for train-id maps.")
        return seg2vid.cityscapes_to_train_ids(ids), ids
    bad = np.unique(ids[(ids > labels.VOID_ID) & (ids != labels.IGNORE_ID)])
    if bad.size:
        raise ValueError(
            f"{path} (--{flag_name}) has ids {bad.tolist()} outside the train ids "
            f"0..{labels.VOID_ID} (255 reads as void); use --label_ids=cityscapes for "
            "Cityscapes label-id maps.")
    ids[ids == labels.IGNORE_ID] = labels.VOID_ID
    return ids, None


def read_first_frame(path, channels, height, width, flag_name="first_frame", resize="fit"):
    """Reads an image as float32 `[H, W, channels]` in [0, 1] at the model's size.

    An image of another size is resized bilinearly by the `resize` policy
    ("fit" or "crop", `segmentation.frames.resize_image`), with a notice.

    Raises:
        FileNotFoundError: No such file.
        ValueError: Not a readable image (naming the file).
    """
    _check_file(path, flag_name)
    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"), np.uint8)
    except _UNREADABLE_IMAGE as error:
        raise ValueError(f"{path} (--{flag_name}) is not a readable image ({error}); expected "
                         "a complete PNG or JPEG picture.") from error
    if pixels.shape[:2] != (height, width):
        logging.warning("First frame %s is %dx%d; resizing it to the model's %dx%d (bilinear, "
                        "--resize=%s).", path, pixels.shape[0], pixels.shape[1], height, width,
                        resize)
        pixels = frames_lib.resize_image(pixels, height, width, resize)
    pixels = pixels.astype(np.float32) / 255.0
    return pixels.reshape(height, width, channels)


# --------------------------------------------------------------------------- outputs
def video_panels(result, index=0, show_flow=False):
    """uint8 animation frames `[N + 1, H, W', 3]` of one generated video.

    Per frame, side by side: the (warped) label map colours when there is a
    label map, the frame, and with `show_flow` the forward flow (Middlebury
    colour wheel, one scale for the whole video), the forward and the
    backward occlusion mask, and the colour-wheel legend. Frame 0 (the first
    frame) has blank flow and mask panels.
    """
    video = visualization.to_uint8(result["video"][index])
    count, height, width = video.shape[:3]
    blank = np.full((height, width, 3), 255, np.uint8)
    flow = result["flow"][index]
    largest = visualization.robust_flow_scale(flow)
    legend = None
    if show_flow:
        size = min(height, width)
        legend = np.full((height, size, 3), 255, np.uint8)
        top = (height - size) // 2
        legend[top:top + size] = visualization.color_wheel_legend(size)
    panels = []
    for t in range(count):
        row = []
        if "label_maps" in result:
            row.append(labels.colorize(result["label_maps"][index, t]))
        row.append(video[t])
        if show_flow:
            if t == 0:
                row += [blank, blank, blank]
            else:
                row += [visualization.flow_to_color(flow[t - 1], largest),
                        visualization.mask_to_image(result["mask_fw"][index, t - 1]),
                        visualization.mask_to_image(result["mask_bw"][index, t - 1])]
            row.append(legend)
        panels.append(np.concatenate(row, axis=1))
    return np.stack(panels)


def write_video(path, frames, fps=4, video_format="gif,mp4"):
    """Writes the animation in each format of `video_format` (ValueError on a bad path/format).

    Returns:
        List of the written paths.
    """
    if os.path.splitext(path)[1].lower() not in (".gif", ".mp4"):
        raise ValueError(f"--output must end in .gif or .mp4, got {path!r} (each format of "
                         "--video_format is written with its own extension).")
    formats = visualization.parse_video_formats(video_format)
    return visualization.write_videos(path, frames, fps=fps, formats=formats)


# --------------------------------------------------------------------------- run
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
    _check_file(image, "image")
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
    """Loads both stages, generates one video and writes it (the command's work).

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
            _check_file(path, flag_name)
    if pipeline is None:
        pipeline = _load_pipeline(checkpoint_dir, label2image_checkpoint_dir,
                                  bool(first_frame or image), rollout_options)
    paths = []
    if image:
        if loaded_segmenter is None:
            from seg2vid_tf.segmentation import segmenters  # pylint: disable=import-outside-toplevel

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
    repaints = rollout_options.repaint_weight > 0
    if repaints and not label2image_checkpoint_dir:
        raise FlagError("--repaint_weight > 0 repaints with stage 1: set "
                        "--label2image_checkpoint_dir.")
    return load_seg2vid(
        checkpoint_dir, None if has_frame and not repaints else label2image_checkpoint_dir,
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
               rollout_options=None, **settings):
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
        **settings: `run`'s `num_frames`, `seed`, `show_flow`, `fps`,
            `video_format` and `resize`.

    Returns:
        dict: `videos` (photo path -> written paths) and `failed` (photo path
        -> error message).

    Raises:
        FileNotFoundError: `image_dir` or the checkpoint is missing.
        ValueError: No photo matches `image_pattern`, or a setting is bad.
    """
    from seg2vid_tf.data import kitti  # pylint: disable=import-outside-toplevel

    _check_settings(settings.get("num_frames", 12), settings.get("video_format", "gif,mp4"),
                    "train", settings.get("resize", "fit"))
    photos = [clip.frame_paths[0] for clip in kitti.find_frames(image_dir, None, image_pattern,
                                                                on_error="skip")]
    if pipeline is None:
        if not checkpoint_dir:
            raise FlagError("Set --checkpoint_dir to the img2vid checkpoint directory.")
        pipeline = load_seg2vid(checkpoint_dir, None,
                                        rollout_options=rollout_options or seg2vid.RolloutOptions())
    if loaded_segmenter is None:
        from seg2vid_tf.segmentation import segmenters  # pylint: disable=import-outside-toplevel

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


def define_flags():
    """The command's flags (only when run as a program)."""
    flags.DEFINE_string("label_map", None, "Label PNG (8-bit ids, see --label_ids).")
    flags.DEFINE_string("first_frame", None,
                        "Optional first frame (PNG/JPEG); painted by stage 1 when absent.")
    flags.DEFINE_integer("num_frames", 12, "Frames generated after the first one (>= 1).")
    flags.DEFINE_integer("seed", 0, "Seed of the latent and the fill noise (same seed, same "
                         "video).")
    flags.DEFINE_string("output", "video.gif", "Output path (.gif or .mp4); every format of "
                        "--video_format is written with its own extension.")
    flags.DEFINE_string("video_format", "gif,mp4", "gif, mp4 or gif,mp4.")
    flags.DEFINE_string("checkpoint_dir", None, "img2vid (stage 2) checkpoint directory.")
    flags.DEFINE_string("label2image_checkpoint_dir", None,
                        "pix2pixHD (stage 1) checkpoint directory (train_label2image's "
                        "--model_dir, or convert's OUTPUT_DIR/label2image).")
    flags.DEFINE_bool("show_flow", False, "Also show the flow (with legend) and occlusion masks.")
    flags.DEFINE_enum("label_ids", "train", list(LABEL_ID_SETS),
                      "Ids in the label PNG: train ids 0..19 or Cityscapes label ids 0..33.")
    flags.DEFINE_integer("fps", 4, "Frames per second of the GIF/MP4.")
    flags.DEFINE_string("image", None, "A photo: segmented by --segmenter, it is the first frame "
                        "and its label map (writes <output stem>_label_map.png).")
    flags.DEFINE_string("segmenter", None, "Segmenter for --image (DeepLab .pb, SavedModel, "
                        ".keras/.h5 or a seg2vid_tf segmenter); default: the shipped one.")
    flags.DEFINE_string("segmenter_label_space", None, "Label space of --segmenter "
                        "(cityscapes_train_id, cityscapes_id, ade20k, pascal_voc).")
    flags.DEFINE_string("image_dir", None, "A folder of photos (e.g. KITTI's training/image_2): "
                        "one video per photo, as with --image, written to --output_dir.")
    flags.DEFINE_string("image_pattern", "*.png", "With --image_dir: shell pattern of the photos' "
                        "names (e.g. *_10.png: the first frame of each KITTI flow pair).")
    flags.DEFINE_string("output_dir", None, "With --image_dir: folder of the videos.")
    command_flags.define_rollout_flags()
    flags.DEFINE_enum("resize", "fit", list(frames_lib.RESIZE_MODES),
                      "Inputs of another size than the model's: fit (scale) or crop (centre "
                      "crop to its aspect ratio, then scale).")


def _main_folder(values):
    if not values.output_dir:
        raise FlagError("--image_dir writes one video per photo: set --output_dir.")
    if values.image or values.label_map or values.first_frame:
        raise FlagError("--image_dir gives the photos: do not combine it with --image, "
                        "--label_map or --first_frame.")
    outcome = run_folder(
        image_dir=values.image_dir, output_dir=values.output_dir,
        checkpoint_dir=values.checkpoint_dir, image_pattern=values.image_pattern,
        segmenter=values.segmenter, segmenter_label_space=values.segmenter_label_space,
        rollout_options=command_flags.rollout_options(values), num_frames=values.num_frames,
        seed=values.seed, show_flow=values.show_flow, fps=values.fps,
        video_format=values.video_format, resize=values.resize)
    total = len(outcome["videos"]) + len(outcome["failed"])
    print(f"Wrote {len(outcome['videos'])} of {total} videos to {values.output_dir}")
    if outcome["failed"]:
        print(f"error: {len(outcome['failed'])} photos could not be used: "
              + "; ".join(f"{path}: {message}" for path, message in outcome["failed"].items()),
              file=sys.stderr)
        return cli.FAILURE
    return 0


def main(argv):
    cli.check_usage(argv)
    values = flags.FLAGS
    if values.image_dir:
        return _main_folder(values)
    outcome = run(checkpoint_dir=values.checkpoint_dir, output=values.output,
                  num_frames=values.num_frames, seed=values.seed,
                  label_map=values.label_map, first_frame=values.first_frame,
                  label2image_checkpoint_dir=values.label2image_checkpoint_dir,
                  show_flow=values.show_flow, label_ids=values.label_ids, fps=values.fps,
                  video_format=values.video_format, image=values.image,
                  segmenter=values.segmenter,
                  segmenter_label_space=values.segmenter_label_space, resize=values.resize,
                  rollout_options=command_flags.rollout_options(values))
    video = outcome["result"]["video"]
    print(f"Wrote {video.shape[1]} frames ({video.shape[2]}x{video.shape[3]}) to "
          + ", ".join(outcome["paths"]))
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
