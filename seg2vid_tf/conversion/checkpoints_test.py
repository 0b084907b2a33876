"""Converted networks as checkpoint directories: written at one size, loaded at another."""

import numpy as np
import pytest

from seg2vid_tf.conversion import checkpoints
from seg2vid_tf.conversion.img2vid import img2vid_from_reference
from seg2vid_tf.testing.reference_weights import img2vid_test_weights


@pytest.fixture(scope="module")
def model():
    return img2vid_from_reference(img2vid_test_weights(), height=128, width=128)


def test_checkpoint_written_at_one_size_loads_at_another(model, tmp_path):
    checkpoints.save_img2vid(model, str(tmp_path))
    loaded = checkpoints.load_img2vid(str(tmp_path), height=128, width=256)
    assert (loaded.config.height, loaded.config.width) == (128, 256)
    for (name, (a, _)), (_, (b, _)) in zip(sorted(model.reference_variables().items()),
                                           sorted(loaded.reference_variables().items())):
        if a is not None:
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    rng = np.random.default_rng(0)
    outputs = loaded({"video": rng.uniform(size=(1, 1, 128, 256, 3)).astype(np.float32),
                      "label_map": rng.integers(0, 20, (1, 128, 256)).astype(np.int32)},
                     training=False)
    assert outputs["frames"].shape == (1, 4, 128, 256, 3)


def test_load_img2vid_missing_directory_names_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match="--checkpoint_dir"):
        checkpoints.load_img2vid(str(tmp_path / "nothing"))
