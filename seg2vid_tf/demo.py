"""`make demo`: synthetic street scenes -> train img2vid -> evaluate -> GIFs.

    python -m seg2vid_tf.demo --output_dir=demo_output [--train_steps=N]

Runs on the embedded default (configs/synthetic.cfg) on a CPU: generates the
synthetic dataset, trains (resuming if `output_dir/model` holds a checkpoint),
evaluates on held-out clips against the copy-the-start-frame and zero-flow
baselines, and writes `output_dir/videos.gif` (start frame | prediction from the
posterior | ground truth | flow | occlusion mask, per held-out clip),
`output_dir/generated.gif` (videos sampled from the prior) and the evaluation
report `output_dir/report/report.html` (both modes, per-frame plots, GIF grids;
`seg2vid_tf.evaluate`).
"""

import dataclasses
import json
import os
import sys
import time

import numpy as np
from absl import app, flags

from seg2vid_tf.training import config as config_lib

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_FLAGFILE = os.path.join(_REPO, "configs", "synthetic.cfg")
REPORT_SAMPLES = 3  # prior samples per held-out clip in the report's generation mode


def write_videos(model, config, output_dir, num_clips=4):
    """GIFs of held-out clips: reconstruction (posterior mean) and prior samples."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from seg2vid_tf import evaluate, visualization  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import summaries  # pylint: disable=import-outside-toplevel

    # Clips of a sequence are consecutive in the val split: spread the picks over all of it.
    clips = list(evaluate.eval_dataset(dataclasses.replace(config, batch_size=1)))
    picks = [clips[index] for index in np.linspace(0, len(clips) - 1, min(num_clips, len(clips)))
             .round().astype(int)]
    batch = {key: tf.concat([clip[key] for clip in picks], axis=0) for key in picks[0]}
    video, label_map = batch["video"], batch.get("label_map")
    base = {"video": video[:, :1], "noise": tf.zeros_like(video[:, 0])}
    if label_map is not None:
        base["label_map"] = label_map
    mu, _ = model.encode_motion(video, label_map, training=False)
    reconstructed = model(dict(base, z=mu), training=False)
    prior = tf.random.stateless_normal(mu.shape, seed=[config.seed, 1])
    generated = model(dict(base, z=prior), training=False)
    paths = {}
    for name, outputs in (("videos", reconstructed), ("generated", generated)):
        rows = [summaries.sample_frames(video.numpy(), outputs, index)
                for index in range(video.shape[0])]
        paths[name] = visualization.write_gif(
            os.path.join(output_dir, f"{name}.gif"), np.concatenate(rows, axis=1), fps=3)
    return paths


def _check_existing_data(data_dir, values):
    """Refuses to train on synthetic data generated with other settings than the config's."""
    from seg2vid_tf.data import synthetic  # pylint: disable=import-outside-toplevel

    with open(os.path.join(data_dir, "synthetic.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    settings = meta.get("settings", {})
    renderer = meta.get("renderer_version", 1)
    if renderer != synthetic.RENDERER_VERSION:
        raise app.UsageError(
            f"{data_dir} holds synthetic data from renderer version {renderer}; this code renders "
            f"version {synthetic.RENDERER_VERSION} (other pixels for the same settings). Move it "
            "away or pass another --output_dir (or --data_dir); nothing was deleted.")
    expected = {"num_sequences": values.num_sequences, "num_frames": values.num_frames,
                "height": values.height, "width": values.width, "seed": values.seed,
                "val_fraction": values.val_fraction, "city": values.city,
                "motion_scale": values.motion_scale, "speed_variation": values.speed_variation}
    # Settings added after the first datasets were written, at the values those had.
    missing = {"motion_scale": 1.0, "speed_variation": 1.0}
    different = {key: (settings.get(key, missing.get(key)), value)
                 for key, value in expected.items()
                 if settings.get(key, missing.get(key)) != value}
    if different:
        details = ", ".join(f"{key}: {old!r} there, {new!r} in the config"
                            for key, (old, new) in sorted(different.items()))
        raise app.UsageError(
            f"{data_dir} holds synthetic data generated with other settings ({details}). "
            "Move it away or pass another --output_dir (or --data_dir); nothing was deleted.")


def main(argv):
    del argv
    values = flags.FLAGS
    from seg2vid_tf import convert  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.data import synthetic  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import trainer  # pylint: disable=import-outside-toplevel

    output_dir = os.path.abspath(values.output_dir or "demo_output")
    data_dir = values.data_dir or os.path.join(output_dir, "data")
    start = time.time()
    if not os.path.isfile(os.path.join(data_dir, "synthetic.json")):
        print(f"[1/3] Generating {values.num_sequences} synthetic sequences in {data_dir}")
        synthetic.generate_dataset(data_dir, values.num_sequences, values.num_frames, values.height,
                                   values.width, values.seed, val_fraction=values.val_fraction,
                                   city=values.city, progress=True,
                                   motion_scale=values.motion_scale, num_workers=0,
                                   speed_variation=values.speed_variation)
    else:
        _check_existing_data(data_dir, values)
        print(f"[1/3] Using the synthetic data in {data_dir}")
    values.data_dir = data_dir
    config = config_lib.config_from_flags()
    print(f"[2/3] Training {config.train_steps} steps (batch {config.batch_size}, "
          f"{config.model.height}x{config.model.width}, width x{config.model.width_multiplier})")
    # One evaluation of the held-out clips: reconstruction and generation on the same clips.
    result = trainer.train_and_evaluate(config, os.path.join(output_dir, "model"),
                                        num_samples=REPORT_SAMPLES, keep_clips=4)
    print("[3/3] Writing videos and the evaluation report")
    model = convert.load_img2vid(os.path.join(output_dir, "model"))
    paths = write_videos(model, config, output_dir)
    from seg2vid_tf import evaluate  # pylint: disable=import-outside-toplevel
    metrics = result["eval"]
    paths["report"] = evaluate.write_report(os.path.join(output_dir, "report"), metrics,
                                            result["clips"])
    summary = {"metrics": metrics, "videos": paths, "minutes": (time.time() - start) / 60.0,
               "tensorboard": f"tensorboard --logdir {os.path.join(output_dir, 'model')}"}
    with open(os.path.join(output_dir, "demo.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
    print(json.dumps(summary, indent=2, sort_keys=True))
    print(f"PSNR {metrics['psnr']:.2f} dB vs copy-the-start-frame {metrics['psnr_copy_first_frame']:.2f} dB; "
          f"flow EPE {metrics.get('flow_epe', float('nan')):.3f} px vs zero flow "
          f"{metrics.get('flow_epe_zero', float('nan')):.3f} px")
    return 0


if __name__ == "__main__":
    config_lib.define_flags()
    flags.FLAGS.set_default("output_dir", "demo_output")
    if not any(arg.startswith("--flagfile") for arg in sys.argv[1:]):
        sys.argv.insert(1, f"--flagfile={DEFAULT_FLAGFILE}")
    sys.exit(app.run(main))
