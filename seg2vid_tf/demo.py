"""`make demo`: held-out label maps turned into videos, with the shipped demo weights.

    python -m seg2vid_tf.demo --output_dir=demo_output [--weights_dir=DIR] \
        [--video_format=gif,mp4]

1. verifies the shipped weights (`seg2vid_tf/assets/demo_weights`, SHA-256)
   and writes them as checkpoints under `output_dir/checkpoints/`;
2. renders held-out synthetic street scenes with a seed never used in
   training (`seg2vid_tf.demos.data.HELD_OUT_SEED`) and the training data's other settings;
3. evaluates stage 2 on the held-out clips (reconstruction and prior samples,
   next to the copy-the-start-frame and zero-flow baselines);
4. evaluates stage 1 and the whole pipeline on the held-out label maps
   (first-frame PSNR, FCN-score, Fréchet segmenter distance, FCN-score per
   frame of the generated videos; `seg2vid_tf.evaluation.label_maps`);
5. writes `label_map_videos.gif` / `.mp4` (label map colours | generated
   video | ground truth | forward flow), `futures.gif` / `.mp4` (one map, four
   sampled futures side by side), `long_video.gif` / `.mp4` (one map, 24
   frames), the report `report/report.html` (with stage 2's clips from the real
   first frame) and `demo.json`;
6. exports the full pipeline for TensorFlow Serving under
   `output_dir/export/seg2vid/1` and prints the command that serves it with the
   web page.

The work is `seg2vid_tf.demos.showcase.run_demo`; the weights come from
`make demo-train` (`seg2vid_tf.demo_train`).
"""

from absl import flags

from seg2vid_tf import cli
from seg2vid_tf.command_flags import define_flag


def _print_summary(summary):
    from seg2vid_tf.demos import pictures  # pylint: disable=import-outside-toplevel

    metrics = summary["metrics"]
    print(f"Stage 1: FCN mIoU {metrics['fcn_miou_generated']:.3f} on painted frames vs "
          f"{metrics['fcn_miou_real']:.3f} on real ones; first-frame PSNR "
          f"{metrics['first_frame_psnr']:.2f} dB vs {metrics['first_frame_psnr_class_mean']:.2f}"
          " dB (class-mean colours).")
    print(f"Stage 2: PSNR {metrics['psnr']:.2f} dB vs copy-the-start-frame "
          f"{metrics['psnr_copy_first_frame']:.2f} dB; flow EPE {metrics['flow_epe']:.3f} px vs "
          f"zero flow {metrics['flow_epe_zero']:.3f} px.")
    for target, holds in summary["targets"].items():
        print(f"  {'holds ' if holds else 'MISSED'}  {target}")
    print(f"Videos: {', '.join(summary['videos']['label_map_videos'])}; "
          f"{pictures.NUM_FUTURES} futures of one map: {', '.join(summary['videos']['futures'])}; "
          f"report: {summary['videos']['report']} ({summary['minutes']:.1f} min).")
    print("Open the web page on the export:\n  " + summary["serve_command"])


def define_flags():
    define_flag("string", "output_dir", "demo_output", "Where the demo writes everything.")
    define_flag("string", "weights_dir", None, "The shipped demo weights "
                                               "(seg2vid_tf/assets/demo_weights by default).")
    define_flag("string", "video_format", "gif,mp4", "gif, mp4 or gif,mp4 for label_map_videos.")


def main(argv):
    cli.check_usage(argv)
    values = flags.FLAGS
    # Imported here so that flag errors do not wait for TensorFlow.
    from seg2vid_tf.demos import showcase  # pylint: disable=import-outside-toplevel

    summary = showcase.run_demo(values.output_dir, values.weights_dir, values.video_format)
    _print_summary(summary)
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
