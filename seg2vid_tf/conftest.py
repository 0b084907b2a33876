"""Fixtures shared by the tests of the whole package (a test module may override them)."""

import pytest

from seg2vid_tf.testing.tiny_pipeline import save_tiny_models


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """`(img2vid_dir, label2image_dir)` of tiny untrained checkpoints (one pair per module)."""
    return save_tiny_models(str(tmp_path_factory.mktemp("models")))


@pytest.fixture(scope="module")
def pipeline(model_dirs):  # pylint: disable=redefined-outer-name
    """The `seg2vid.Seg2Vid` of `model_dirs`."""
    from seg2vid_tf.conversion import checkpoints  # pylint: disable=import-outside-toplevel

    return checkpoints.load_seg2vid(*model_dirs)
