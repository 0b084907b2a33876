"""`make demo-pipeline`: its precondition and a tiny end-to-end run."""

import json
import os

import imageio.v2 as imageio
import numpy as np
import pytest

from seg2vid_tf import demo_pipeline
from seg2vid_tf.data import synthetic
from seg2vid_tf.testing.tiny_pipeline import SIZE, save_tiny_models


def test_missing_demo_outputs_say_to_run_make_demo(tmp_path):
    with pytest.raises(FileNotFoundError, match="Run `make demo` first") as error:
        demo_pipeline.run_demo(str(tmp_path))
    assert "synthetic data" in str(error.value) and "img2vid checkpoint" in str(error.value)


def test_tiny_pipeline_demo_writes_the_video_of_a_held_out_label_map(tmp_path):
    synthetic.generate_dataset(str(tmp_path / "data"), 3, 2, SIZE, SIZE, seed=2,
                               val_fraction=0.34)
    img2vid_dir, _ = save_tiny_models(str(tmp_path / "models"))
    os.rename(img2vid_dir, tmp_path / "model")
    flagfile = tmp_path / "stage1.cfg"
    flagfile.write_text("\n".join([
        f"--height={SIZE}", f"--width={SIZE}", "--batch_size=2", "--train_steps=2", "--ngf=4",
        "--n_downsample_global=2", "--n_blocks_global=1", "--ndf=4", "--n_layers_d=2",
        "--weight_vgg=0", "--num_samples=1"]) + "\n")
    summary = demo_pipeline.run_demo(str(tmp_path), str(flagfile), num_frames=5,
                                     progress=False)
    assert "/val/" in summary["label_map"]
    frames = np.stack([np.asarray(f)[..., :3] for f in imageio.mimread(summary["gif"])])
    assert frames.shape == (6, SIZE, 3 * SIZE, 3)  # label colours | first frame | frame
    assert os.path.isfile(tmp_path / "label2image" / "label2image_config.json")
    with open(tmp_path / "demo_pipeline.json", encoding="utf-8") as handle:
        assert json.load(handle)["num_frames"] == 5
