"""Tests for seg2vid_tf.torch_checkpoint on files written by hand in PyTorch's layouts.

The expected arrays are the elements put into the files, indexed with NumPy
(never outputs of the reader).
"""

import builtins
import collections
import os
import pickle
import shlex
import struct
import zipfile

import ml_dtypes
import numpy as np
import pytest

from seg2vid_tf import torch_checkpoint
from seg2vid_tf.testing import torch_files
from seg2vid_tf.testing.torch_files import Parameter, Storage, StorageView, Tensor


def sample_state():
    """(a state_dict of stand-ins, the arrays it must read back as, their strides in elements)."""
    weights = np.arange(24, dtype=np.float32) / 7.0
    shared = Storage(weights)
    square = np.arange(12, dtype=np.float64) * -1.5
    counters = np.array([7, -3, 2**40], np.int64)
    bf16 = np.array([1.5, -2.0, 3.25, 0.0], ml_dtypes.bfloat16)
    state = collections.OrderedDict([
        ("conv.weight", Tensor(shared, 0, (2, 3, 2, 2), (12, 4, 2, 1))),
        ("every_other", Tensor(shared, 5, (3,), (2,))),  # A view with a storage offset.
        ("transposed", Tensor(Storage(square, "DoubleStorage"), 0, (4, 3), (1, 4))),
        ("counter", Tensor(Storage(counters, "LongStorage"), 2, (), ())),
        ("half", Tensor(Storage(np.array([0.5, -1, 2], np.float16), "HalfStorage"), 0, (3,), (1,))),
        ("mask", Tensor(Storage(np.array([True, False, True]), "BoolStorage"), 1, (2,), (1,))),
        ("bf16", Tensor(Storage(bf16, "BFloat16Storage"), 0, (2, 2), (2, 1))),
        ("int8", Tensor(Storage(np.array([-128, 5, 127], np.int8), "CharStorage"), 0, (3,), (1,))),
        ("complex", Tensor(Storage(np.array([1 + 2j, -3j], np.complex64), "ComplexFloatStorage"),
                           0, (2,), (1,))),
        ("empty", Tensor(Storage(np.zeros(0, np.float32)), 0, (0, 3), (3, 1))),
        ("parameter", Parameter(Tensor(Storage(np.array([9.0, 8.0], np.float32)), 0, (2,), (1,)))),
    ])
    expected = {
        "conv.weight": (weights.reshape(2, 3, 2, 2), (12, 4, 2, 1)),
        "every_other": (weights[5:11:2], (2,)),
        "transposed": (square.reshape(3, 4).T, (1, 4)),
        "counter": (counters[2], ()),
        "half": (np.array([0.5, -1, 2], np.float16), (1,)),
        "mask": (np.array([False, True]), (1,)),
        "bf16": (bf16.reshape(2, 2), (2, 1)),
        "int8": (np.array([-128, 5, 127], np.int8), (1,)),
        "complex": (np.array([1 + 2j, -3j], np.complex64), (1,)),
        "empty": (np.zeros((0, 3), np.float32), None),
        "parameter": (np.array([9.0, 8.0], np.float32), (1,)),
    }
    return state, expected


def check_state(loaded, expected):
    assert list(loaded) == list(expected)
    for name, (array, stride) in expected.items():
        value = loaded[name]
        assert isinstance(value, np.ndarray), name
        assert value.dtype == array.dtype and value.shape == array.shape, name
        np.testing.assert_array_equal(value, array, err_msg=name)
        if stride is not None:
            assert value.strides == tuple(s * array.dtype.itemsize for s in stride), name
        assert not value.flags.writeable, name


@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_zip_layout_round_trips_dtypes_shapes_strides_and_offsets(tmp_path, byteorder):
    state, expected = sample_state()
    checkpoint = {"epoch": 3, "state_dict": state, "note": b"\x00\xffbytes",
                  "optimizer": {"param_groups": [{"lr": 0.1, "betas": (0.5, 0.999)}]}}
    path = torch_files.write_zip(str(tmp_path / "model.pth"), checkpoint, byteorder=byteorder)
    loaded = torch_checkpoint.load(path)
    assert loaded["epoch"] == 3 and loaded["note"] == b"\x00\xffbytes"
    assert loaded["optimizer"] == {"param_groups": [{"lr": 0.1, "betas": (0.5, 0.999)}]}
    assert isinstance(loaded["state_dict"], collections.OrderedDict)
    check_state(loaded["state_dict"], expected)
    # Two tensors of one storage share its elements, as in PyTorch.
    assert np.shares_memory(loaded["state_dict"]["conv.weight"],
                            loaded["state_dict"]["every_other"])


def test_zip_layout_without_byteorder_record_or_with_another_folder(tmp_path):
    state, expected = sample_state()
    path = torch_files.write_zip(str(tmp_path / "old.pt"), state, folder="old",
                                 byteorder_record=False)
    check_state(torch_checkpoint.load(path), expected)


def test_legacy_layout_round_trips_including_storage_views(tmp_path):
    state, expected = sample_state()
    root = Storage(np.arange(10, dtype=np.float32), "FloatStorage", module="torch.cuda")
    view = StorageView(root, 4, 5)  # Elements 4..8 of the root storage.
    state["view"] = Tensor(view, 1, (2, 2), (1, 2))  # Elements 5, 7 / 6, 8 of the root.
    state["v1"] = Tensor(Storage(np.array([1, 2, 3], np.int32), "IntStorage"), 0, (3,), (1,),
                         function="_rebuild_tensor")
    expected["view"] = (np.array([[5, 7], [6, 8]], np.float32), (1, 2))
    expected["v1"] = (np.array([1, 2, 3], np.int32), (1,))
    path = torch_files.write_legacy(str(tmp_path / "model.pth.tar"),
                                    {"epoch": 40, "state_dict": state})
    loaded = torch_checkpoint.load(path)
    assert loaded["epoch"] == 40
    check_state(loaded["state_dict"], expected)


# --------------------------------------------------------------------------- hostile pickles
class SystemPayload:
    """Unpickles as ``os.system("touch <path>")`` (pickled as posix.system here)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(self.path)}",)


class ExecPayload:
    """Unpickles as ``builtins.exec`` of code that creates a file."""

    def __init__(self, path, function=builtins.exec):
        self.path, self.function = path, function

    def __reduce__(self):
        return self.function, (f"open({self.path!r}, 'w').close()",)


@pytest.mark.parametrize("payload, global_name", [
    (SystemPayload, f"{os.system.__module__}.system"),
    (ExecPayload, "builtins.exec"),
    (lambda path: ExecPayload(path, builtins.eval), "builtins.eval"),
])
@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_code_in_the_pickle_is_refused_before_it_runs(tmp_path, payload, global_name, layout):
    # The payload is real: plain pickle would create the file.
    proof = str(tmp_path / "proof")
    pickle.loads(pickle.dumps(payload(proof), protocol=2))
    assert os.path.exists(proof)
    marker = str(tmp_path / "pwned")
    state = collections.OrderedDict(
        [("w", Tensor(Storage(np.ones(2, np.float32)), 0, (2,), (1,))), ("x", payload(marker))])
    writer = torch_files.write_zip if layout == "zip" else torch_files.write_legacy
    path = writer(str(tmp_path / "evil.pth"), state)
    with pytest.raises(torch_checkpoint.ForbiddenGlobalError) as caught:
        torch_checkpoint.load(path)
    assert path in str(caught.value) and global_name in str(caught.value)
    assert not os.path.exists(marker)


def test_a_payload_as_storage_class_or_in_the_header_is_refused(tmp_path):
    marker = str(tmp_path / "pwned")
    path = torch_files.write_legacy(str(tmp_path / "header.pth"), {},
                                    system_info={"little_endian": SystemPayload(marker)})
    with pytest.raises(torch_checkpoint.ForbiddenGlobalError, match="system"):
        torch_checkpoint.load(path)
    storage = Storage(np.ones(1, np.float32))
    storage.storage_class = os.system  # The persistent id names os.system as the class.
    path = torch_files.write_zip(str(tmp_path / "class.pth"), [Tensor(storage, 0, (1,), (1,))])
    with pytest.raises(torch_checkpoint.ForbiddenGlobalError, match="system"):
        torch_checkpoint.load(path)
    assert not os.path.exists(marker)


# --------------------------------------------------------------------------- broken files
def test_inconsistent_or_foreign_files_are_checkpoint_errors(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"hello, not a checkpoint")
    with pytest.raises(torch_checkpoint.CheckpointError, match="not a PyTorch checkpoint"):
        torch_checkpoint.load(str(junk))
    plain = tmp_path / "plain.pth"
    plain.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(torch_checkpoint.CheckpointError, match="magic number"):
        torch_checkpoint.load(str(plain))
    beyond = Tensor(Storage(np.ones(4, np.float32)), 2, (2, 2), (2, 1))  # Needs element 5.
    path = torch_files.write_zip(str(tmp_path / "beyond.pth"), {"w": beyond})
    with pytest.raises(torch_checkpoint.CheckpointError, match="reaches past its storage"):
        torch_checkpoint.load(path)


def test_truncated_or_resized_storages_are_checkpoint_errors(tmp_path):
    tensor = Tensor(Storage(np.arange(6, dtype=np.float32)), 0, (6,), (1,))
    legacy = torch_files.write_legacy(str(tmp_path / "legacy.pth"), {"w": tensor})
    data = open(legacy, "rb").read()
    with open(legacy, "wb") as handle:
        handle.write(data[:-5])
    with pytest.raises(torch_checkpoint.CheckpointError, match="truncated"):
        torch_checkpoint.load(legacy)
    with open(legacy, "wb") as handle:  # The stored element count disagrees with the pickle.
        handle.write(data[:-(8 + 24)] + struct.pack("<q", 5) + data[-24:])
    with pytest.raises(torch_checkpoint.CheckpointError, match="holds 5 elements"):
        torch_checkpoint.load(legacy)
    archive_path = torch_files.write_zip(str(tmp_path / "zip.pth"), {"w": tensor})
    with zipfile.ZipFile(archive_path) as archive:
        records = {name: archive.read(name) for name in archive.namelist()}
    records["archive/data/0"] = records["archive/data/0"][:8]
    with zipfile.ZipFile(archive_path, "w") as archive:
        for name, record in records.items():
            archive.writestr(name, record)
    with pytest.raises(torch_checkpoint.CheckpointError, match="has 8 bytes, expected 6 x 4"):
        torch_checkpoint.load(archive_path)


def test_a_pickled_model_class_is_refused(tmp_path):
    class ModulePickler(pickle.Pickler):
        def persistent_id(self, value):
            return ("module", "Net", "net.py", "class Net: ...") if value == "net" else None

    path = tmp_path / "model.pth"
    with open(path, "wb") as handle:
        for header in (torch_files.LEGACY_MAGIC_NUMBER, torch_files.LEGACY_PROTOCOL_VERSION, {}):
            pickle.dump(header, handle, protocol=2)
        ModulePickler(handle, protocol=2).dump(["net"])
    with pytest.raises(torch_checkpoint.CheckpointError, match="whole model"):
        torch_checkpoint.load(str(path))
