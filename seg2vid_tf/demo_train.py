"""`make demo-train`: the recipe that makes the demo's shipped weights, from scratch.

    python -m seg2vid_tf.demo_train --output_dir=demo_train \
        [--weights_dir=seg2vid_tf/assets/demo_weights]

1. renders the synthetic training data (`configs/synthetic.cfg`: seed 0, 48
   sequences of 9 frames at 128x128) into `output_dir/data`;
2. trains stage 2, img2vid (`configs/synthetic.cfg`), into `output_dir/img2vid`;
3. trains stage 1, pix2pixHD (`configs/label2image_synthetic.cfg`), into
   `output_dir/label2image`;
4. trains the FCN-score segmenter (`configs/segmenter_synthetic.cfg`) on the
   real frames, into `output_dir/segmenter`;
5. packs the three networks into `--weights_dir` (`seg2vid_tf.demo_weights`:
   float16 weights, configs, SHA-256 manifest with this recipe).

Every stage resumes from its checkpoints, so an interrupted run continues
where it stopped. `make demo` then runs on the new weights. The time it takes
is in docs/training.md.
"""

import dataclasses
import json
import os
import time

from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf.command_flags import define_flag
from seg2vid_tf.training import config as config_lib

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {
    "img2vid": os.path.join(_REPO, "configs", "synthetic.cfg"),
    "label2image": os.path.join(_REPO, "configs", "label2image_synthetic.cfg"),
    "segmenter": os.path.join(_REPO, "configs", "segmenter_synthetic.cfg"),
}
DATA_SETTINGS = ("num_sequences", "num_frames", "height", "width", "seed", "val_fraction",
                 "city", "motion_scale", "speed_variation")


def check_existing_data(data_dir, settings):
    """Refuses synthetic data rendered with other settings (or renderer) than `settings`.

    Raises:
        ValueError: Naming every setting that differs; nothing is deleted.
    """
    from seg2vid_tf.data import synthetic  # pylint: disable=import-outside-toplevel

    with open(os.path.join(data_dir, "synthetic.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    renderer = meta.get("renderer_version", 1)
    if renderer != synthetic.RENDERER_VERSION:
        raise ValueError(
            f"{data_dir} holds synthetic data from renderer version {renderer}; this code renders "
            f"version {synthetic.RENDERER_VERSION} (other pixels for the same settings). Move it "
            "away or pass another --output_dir; nothing was deleted.")
    # Settings added after the first datasets were written, at the values those had.
    stored = dict({"motion_scale": 1.0, "speed_variation": 1.0}, **meta.get("settings", {}))
    different = {key: (stored.get(key), value) for key, value in settings.items()
                 if stored.get(key) != value}
    if different:
        details = ", ".join(f"{key}: {old!r} there, {new!r} wanted"
                            for key, (old, new) in sorted(different.items()))
        raise ValueError(
            f"{data_dir} holds synthetic data generated with other settings ({details}). "
            "Move it away or pass another --output_dir; nothing was deleted.")


def ensure_data(data_dir, settings, progress=True):
    """Renders the synthetic data into `data_dir` unless it is there with `settings`."""
    from seg2vid_tf.data import synthetic  # pylint: disable=import-outside-toplevel

    if os.path.isfile(os.path.join(data_dir, "synthetic.json")):
        check_existing_data(data_dir, settings)
        return False
    synthetic.generate_dataset(data_dir, progress=progress, num_workers=0, **settings)
    return True


def parse_flagfile(define, flagfile, data_dir, overrides=()):
    """Flags of one config file, parsed apart from this command's own flags."""
    values = flags.FlagValues()
    define(values)
    values(["demo_train", f"--flagfile={flagfile}", f"--data_dir={data_dir}", *overrides])
    return values


def run(output_dir, weights_dir, steps_scale=1.0, progress=True):
    """Trains the three demo networks and packs them; returns the summary dict.

    Args:
        output_dir: Work directory (data and checkpoints; resumed when present).
        weights_dir: Where the shipped weights are written.
        steps_scale: Multiplies every network's `train_steps` (1.0 is the recipe;
            tests use tiny values).
        progress: Show progress bars.
    """
    from seg2vid_tf import demo_weights  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import label2image, segmenter  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.training import trainer  # pylint: disable=import-outside-toplevel

    start = time.time()
    output_dir = os.path.abspath(output_dir)
    data_dir = os.path.join(output_dir, "data")
    seconds = {}

    def scaled(steps):
        return max(1, int(round(steps * steps_scale)))

    video_flags = parse_flagfile(config_lib.define_flags, CONFIGS["img2vid"], data_dir)
    settings = {name: getattr(video_flags, name) for name in DATA_SETTINGS}
    print(f"[1/5] Synthetic training data in {data_dir} (seed {settings['seed']}, "
          f"{settings['num_sequences']} sequences)")
    ensure_data(data_dir, settings, progress)
    seconds["data"] = time.time() - start

    video_config = config_lib.config_from_flags(video_flags)
    video_config = dataclasses.replace(video_config,
                                       train_steps=scaled(video_config.train_steps))
    directories = {name: os.path.join(output_dir, name) for name in demo_weights.NETWORKS}
    print(f"[2/5] Stage 2 (img2vid): {video_config.train_steps} steps into "
          f"{directories['img2vid']}")
    mark = time.time()
    video = trainer.Trainer(video_config, directories["img2vid"])
    video.restore()
    video.fit(progress=progress)
    seconds["img2vid"] = time.time() - mark

    stage1_flags = parse_flagfile(label2image.define_flags, CONFIGS["label2image"], data_dir)
    stage1_config = label2image.config_from_flags(stage1_flags)
    stage1_config = stage1_config.replace(train_steps=scaled(stage1_config.train_steps))
    print(f"[3/5] Stage 1 (pix2pixHD): {stage1_config.train_steps} steps into "
          f"{directories['label2image']}")
    mark = time.time()
    label2image.train(stage1_config, directories["label2image"], progress=progress)
    seconds["label2image"] = time.time() - mark

    from seg2vid_tf import train_segmenter  # pylint: disable=import-outside-toplevel

    segmenter_flags = parse_flagfile(train_segmenter.define_flags, CONFIGS["segmenter"], data_dir)
    segmenter_config = train_segmenter.config_from_flags(segmenter_flags)
    segmenter_config = dataclasses.replace(segmenter_config,
                                           train_steps=scaled(segmenter_config.train_steps))
    print(f"[4/5] FCN-score segmenter: {segmenter_config.train_steps} steps into "
          f"{directories['segmenter']}")
    mark = time.time()
    segmenter.train(segmenter_config, directories["segmenter"], progress=progress)
    seconds["segmenter"] = time.time() - mark

    print(f"[5/5] Packing the weights into {weights_dir}")
    recipe = {"command": "make demo-train", "data": settings,
              "configs": {name: os.path.relpath(path, _REPO) for name, path in CONFIGS.items()},
              "train_steps": {"img2vid": video_config.train_steps,
                              "label2image": stage1_config.train_steps,
                              "segmenter": segmenter_config.train_steps},
              "seconds": {key: round(value, 1) for key, value in seconds.items()}}
    manifest = demo_weights.pack(directories, weights_dir, recipe)
    summary = {"weights_dir": weights_dir, "checkpoints": directories, "recipe": recipe,
               "parameters": {name: entry["parameters"]
                              for name, entry in manifest["networks"].items()},
               "minutes": (time.time() - start) / 60.0}
    with open(os.path.join(output_dir, "demo_train.json"), "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
    return summary


def define_flags():
    define_flag("string", "output_dir", "demo_train", "Work directory: data and checkpoints.")
    define_flag("string", "weights_dir", None, "Where the shipped weights are written "
                                               "(seg2vid_tf/assets/demo_weights by default).")
    define_flag("float", "steps_scale", 1.0, "Multiplies every network's training steps "
                                             "(1.0: the recipe).")


def main(argv):
    cli.check_usage(argv)
    from seg2vid_tf import demo_weights  # pylint: disable=import-outside-toplevel

    values = flags.FLAGS
    if not values.steps_scale > 0:
        raise app.UsageError(f"--steps_scale must be > 0, got {values.steps_scale}.")
    summary = run(values.output_dir, values.weights_dir or demo_weights.DEFAULT_DIR,
                  values.steps_scale)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
