"""Reference files: .npz and PyTorch checkpoints read without PyTorch, and refused pickles."""

import collections
import os
import shlex
import subprocess
import sys

import numpy as np
import pytest

from seg2vid_tf.conversion.pix2pixhd import label2image_from_reference
from seg2vid_tf.conversion.state_dicts import ConversionError, load_reference_state_dict
from seg2vid_tf.models import pix2pixhd
from seg2vid_tf.testing import torch_files
from seg2vid_tf.testing.torch_files import Storage, Tensor

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_npz_reader_strips_data_parallel_prefix(tmp_path):
    path = tmp_path / "weights.npz"
    np.savez(path, **{"module.fc.weight": np.ones((2, 2)), "module.fc.bias": np.zeros(2)})
    state = load_reference_state_dict(str(path))
    assert sorted(state) == ["fc.bias", "fc.weight"]


def test_reference_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="--reference"):
        load_reference_state_dict(str(tmp_path / "missing.npz"))
    odd = tmp_path / "weights.bin"
    odd.write_bytes(b"123")
    with pytest.raises(ConversionError, match="unknown reference format"):
        load_reference_state_dict(str(odd))


def tiny_generator_state():
    config = pix2pixhd.Pix2PixHDConfig(input_channels=4, ngf=2, n_downsampling=1, n_blocks=1,
                                       n_local_enhancers=1, n_blocks_local=1)
    state = pix2pixhd.random_reference_state_dict(
        pix2pixhd.build_generator(config).build_for_size(), seed=5)
    return config, state


def as_torch_tensors(state, prefix=""):
    """Stand-in tensors (one float32 storage each) holding `state`'s arrays."""
    tensors = collections.OrderedDict()
    for name, value in state.items():
        value = np.asarray(value, np.float32)
        strides = tuple(int(np.prod(value.shape[i + 1:])) for i in range(value.ndim))
        tensors[prefix + name] = Tensor(Storage(value), 0, value.shape, strides)
    return tensors


@pytest.mark.parametrize("layout", ["legacy", "zip"])
def test_pytorch_checkpoints_load_without_pytorch(tmp_path, layout):
    # The authors' files: {"epoch": ..., "state_dict": ...} with DataParallel's prefix.
    config, state = tiny_generator_state()
    checkpoint = {"epoch": 12, "state_dict": as_torch_tensors(state, "module.")}
    writer = torch_files.write_legacy if layout == "legacy" else torch_files.write_zip
    path = writer(str(tmp_path / "latest_net_G.pth.tar"), checkpoint)
    loaded = load_reference_state_dict(path)
    assert sorted(loaded) == sorted(state)
    for name, value in state.items():
        assert loaded[name].dtype == np.float32 and loaded[name].shape == np.shape(value)
        np.testing.assert_array_equal(loaded[name], value)
    generator = label2image_from_reference(loaded)
    assert generator.config == config
    np.testing.assert_array_equal(generator.model1_1.module_1.bias.numpy(),
                                  state["model1_1.1.bias"])


class WritesAFile:
    """Unpickles as `os.system("touch <path>")`."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(self.path)}",)


def test_malicious_pytorch_checkpoint_is_refused_and_not_run(tmp_path):
    marker = str(tmp_path / "pwned")
    checkpoint = {"state_dict": as_torch_tensors({"fc.weight": np.ones((2, 2))}),
                  "hook": WritesAFile(marker)}
    path = torch_files.write_legacy(str(tmp_path / "evil.pth.tar"), checkpoint)
    with pytest.raises(ConversionError) as caught:
        load_reference_state_dict(path, "label2image_reference")
    message = str(caught.value)
    assert path in message and f"{os.system.__module__}.system" in message
    assert "--label2image_reference" in message
    assert not os.path.exists(marker)
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.convert", f"--label2image_reference={path}",
         f"--output_dir={tmp_path / 'out'}"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1 and f"error: {path}: refusing to load" in result.stderr
    assert "Traceback" not in result.stderr and not os.path.exists(marker)
