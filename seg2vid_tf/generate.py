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

import sys

from absl import flags

from seg2vid_tf import cli, command_flags
from seg2vid_tf.command_flags import FlagError
from seg2vid_tf.generation.inputs import (  # noqa: F401 (the library's names, re-exported)
    LABEL_ID_SETS, read_first_frame, read_label_map)
from seg2vid_tf.generation.panels import video_panels, write_video  # noqa: F401
from seg2vid_tf.generation.runs import run, run_folder, segment_photo  # noqa: F401
from seg2vid_tf.segmentation import frames as frames_lib


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
        rollout_options=command_flags.rollout_options(values),
        label2image_checkpoint_dir=values.label2image_checkpoint_dir, num_frames=values.num_frames,
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
