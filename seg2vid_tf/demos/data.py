"""The demo's synthetic data: the recipe's config files, and the data rendered for them.

`CONFIGS` names the three config files of `make demo-train`; `ensure_data`
renders the synthetic data of a recipe (or reuses it after
`check_existing_data` found the same settings); `held_out_data` renders the
held-out scenes `make demo` scores, from a seed never used in training.
"""

import json
import os

from absl import flags

from seg2vid_tf.data import synthetic

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = {
    "img2vid": os.path.join(REPO, "configs", "synthetic_diverse.cfg"),
    "label2image": os.path.join(REPO, "configs", "label2image_synthetic.cfg"),
    "segmenter": os.path.join(REPO, "configs", "segmenter_synthetic.cfg"),
}
DATA_SETTINGS = ("num_sequences", "num_frames", "height", "width", "seed", "val_fraction",
                 "city", "motion_scale", "speed_variation")
HELD_OUT_SEED = 1000  # the training data is rendered with seed 0
HELD_OUT_SEQUENCES = 16
HELD_OUT_VAL_FRACTION = 0.875  # 14 val sequences scored; 2 train ones give the class means


def check_existing_data(data_dir, settings):
    """Refuses synthetic data rendered with other settings (or renderer) than `settings`.

    Raises:
        ValueError: Naming every setting that differs; nothing is deleted.
    """
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
    if os.path.isfile(os.path.join(data_dir, "synthetic.json")):
        check_existing_data(data_dir, settings)
        return False
    synthetic.generate_dataset(data_dir, progress=progress, num_workers=0, **settings)
    return True


def parse_flagfile(define, flagfile, data_dir, overrides=()):
    """Flags of one config file, parsed apart from the calling command's own (`flags.FLAGS`)."""
    values = flags.FlagValues()
    define(values)
    values(["demo_train", f"--flagfile={flagfile}", f"--data_dir={data_dir}", *overrides])
    return values


def held_out_data(output_dir, data_settings, progress=True):
    """Renders (or reuses) the held-out synthetic data; returns its directory."""
    settings = dict(data_settings, seed=HELD_OUT_SEED, num_sequences=HELD_OUT_SEQUENCES,
                    val_fraction=HELD_OUT_VAL_FRACTION)
    data_dir = os.path.join(output_dir, "heldout_data")
    ensure_data(data_dir, settings, progress)
    return data_dir
