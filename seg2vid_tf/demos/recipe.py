"""`make demo-train`'s recipe: the three demo networks trained from scratch, then packed.

`train_demo_networks` renders the training data (`seg2vid_tf.demos.data`),
trains img2vid, pix2pixHD and the FCN-score segmenter from their config files
(`seg2vid_tf.demos.data.CONFIGS`), each resuming from its checkpoints, and packs them as the shipped
weights (`seg2vid_tf.demo_weights`).
"""

import dataclasses
import json
import os
import time

from seg2vid_tf import demo_weights
from seg2vid_tf.demos.data import REPO, CONFIGS, DATA_SETTINGS, ensure_data, parse_flagfile
from seg2vid_tf.training import config as config_lib
from seg2vid_tf.training import label2image, segmenter, trainer


def train_demo_networks(output_dir, weights_dir, steps_scale=1.0, progress=True):
    """Trains the three demo networks and packs them; returns the summary dict.

    Args:
        output_dir: Work directory (data and checkpoints; resumed when present).
        weights_dir: Where the shipped weights are written.
        steps_scale: Multiplies every network's `train_steps` (1.0 is the recipe;
            tests use tiny values).
        progress: Show progress bars.
    """
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

    segmenter_flags = parse_flagfile(segmenter.define_flags, CONFIGS["segmenter"], data_dir)
    segmenter_config = segmenter.config_from_flags(segmenter_flags)
    segmenter_config = dataclasses.replace(segmenter_config,
                                           train_steps=scaled(segmenter_config.train_steps))
    print(f"[4/5] FCN-score segmenter: {segmenter_config.train_steps} steps into "
          f"{directories['segmenter']}")
    mark = time.time()
    segmenter.train(segmenter_config, directories["segmenter"], progress=progress)
    seconds["segmenter"] = time.time() - mark

    print(f"[5/5] Packing the weights into {weights_dir}")
    recipe = {"command": "make demo-train", "data": settings,
              "configs": {name: os.path.relpath(path, REPO) for name, path in CONFIGS.items()},
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
