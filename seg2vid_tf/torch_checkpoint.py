"""Reading PyTorch checkpoints (``torch.save`` files) without PyTorch, weights only.

A ``torch.save`` file is a pickle whose tensors refer to raw storages kept
beside it. Unpickling runs whatever the pickle names, so this reader, like
``torch.load(weights_only=True)``, lets a pickle name only what a state_dict
needs (:data:`ALLOWED_GLOBALS`): ``collections.OrderedDict``, the tensor and
parameter rebuild functions of ``torch._utils``, the storage classes
(``torch.FloatStorage``, ``torch.cuda.FloatStorage``, ...) and
``_codecs.encode`` (how protocol 2 writes bytes). Any other global (a
``__reduce__`` to ``os.system``, ``builtins.eval``, ``posix.system``, a model
class) is refused before anything is called, with an error naming the file
and the global. The stand-ins here never call back into the pickle's data:
tensors come out as read-only NumPy views of their storage, with the saved
shape, strides and storage offset.

Two layouts are read:

* zip (PyTorch >= 1.6): one top-level folder holding ``data.pkl`` (the
  pickle), ``data/<key>`` (each storage's raw bytes) and ``byteorder``
  (``little`` or ``big``; little when absent). A storage is the persistent id
  ``("storage", storage class, key, location, element count)``.
* legacy (PyTorch < 1.6, e.g. the authors' 2019 weights, PyTorch 0.4): five
  pickles in a row (the magic number ``0x1950a86a20f9469cfc6c``, the protocol
  version 1001, a dict of system information, the data, the sorted list of
  storage keys), then per key the element count as a little-endian int64
  and the little-endian elements. A storage is ``("storage", storage class,
  root key, location, element count, view)`` where ``view`` is None or
  ``(view key, element offset, element count)`` into the root storage.

Nothing is downloaded and PyTorch is not imported.
"""

import _compat_pickle
import collections
import io
import math
import os
import pickle
import struct
import zipfile

import numpy as np

__all__ = ["ALLOWED_GLOBALS", "CheckpointError", "ForbiddenGlobalError", "load"]

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
_ZIP_SIGNATURE = b"PK\x03\x04"
_PICKLE_PROTOCOL_OPCODE = b"\x80"

# torch.<Name>Storage -> NumPy dtype name ("bfloat16" comes from ml_dtypes).
_STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "UntypedStorage": "uint8",
}


class CheckpointError(ValueError):
    """A checkpoint that is corrupt, not a ``torch.save`` file, or not weights only."""


class ForbiddenGlobalError(CheckpointError):
    """The checkpoint's pickle names a global that a state_dict never needs."""


def _numpy_dtype(name):
    if name == "bfloat16":
        import ml_dtypes  # pylint: disable=import-outside-toplevel

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


class _StorageType:
    """Stands in for a storage class such as ``torch.FloatStorage``."""

    __slots__ = ("qualified_name", "dtype")

    def __init__(self, qualified_name, dtype_name):
        self.qualified_name = qualified_name
        self.dtype = _numpy_dtype(dtype_name)

    def __setstate__(self, state):
        raise pickle.UnpicklingError(f"unexpected state for {self.qualified_name}")


class _Storage:
    """One storage: a 1-D array (filled in later in the legacy layout), or a view of one."""

    __slots__ = ("key", "dtype", "numel", "array", "root", "offset")

    def __init__(self, key, dtype, numel, root=None, offset=0):
        self.key, self.dtype, self.numel = key, dtype, numel
        self.array, self.root, self.offset = None, root, offset

    def elements(self):
        """The storage's elements as a read-only 1-D array."""
        if self.root is not None:
            return self.root.elements()[self.offset:self.offset + self.numel]
        if self.array is None:
            raise CheckpointError(f"the bytes of storage {self.key!r} are missing")
        return self.array

    def __setstate__(self, state):
        raise pickle.UnpicklingError("unexpected state for a storage")


class _Tensor:
    """A tensor as the pickle describes it; becomes a NumPy view once storages are read."""

    __slots__ = ("storage", "offset", "size", "stride")

    def __init__(self, storage, offset, size, stride):
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError(f"a tensor's storage is a {type(storage).__name__}")
        for name, values in (("size", size), ("stride", stride)):
            if not isinstance(values, (tuple, list)) or not all(
                    type(value) is int and value >= 0 for value in values):
                raise pickle.UnpicklingError(f"a tensor's {name} is not non-negative ints: "
                                             f"{values!r}")
        if type(offset) is not int or offset < 0 or len(size) != len(stride):
            raise pickle.UnpicklingError(f"bad tensor layout: offset {offset!r}, size {size!r}, "
                                         f"stride {stride!r}")
        self.storage, self.offset = storage, offset
        self.size, self.stride = tuple(size), tuple(stride)

    def __setstate__(self, state):
        raise pickle.UnpicklingError("unexpected state for a tensor")

    def to_array(self):
        """A read-only NumPy view with the tensor's shape, strides and offset."""
        elements = self.storage.elements()
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        empty = math.prod(self.size) == 0
        if (empty and self.offset > elements.size) or (not empty and last >= elements.size):
            raise CheckpointError(
                f"a tensor of size {self.size}, stride {self.stride} at offset {self.offset} "
                f"reaches past its storage of {elements.size} elements")
        if empty:
            array = np.zeros(self.size, elements.dtype)
            array.flags.writeable = False
            return array
        itemsize = elements.dtype.itemsize
        return np.lib.stride_tricks.as_strided(
            elements[self.offset:], shape=self.size,
            strides=tuple(s * itemsize for s in self.stride), writeable=False)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    del requires_grad, backward_hooks, metadata
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, state=None):
    del requires_grad, backward_hooks, state
    if not isinstance(data, _Tensor):
        raise pickle.UnpicklingError(f"a parameter holds a {type(data).__name__}")
    return data


def _encode(text, encoding="utf-8"):
    """``_codecs.encode`` for the bytes protocol 2 writes: str to latin-1 bytes only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode({type(text).__name__}, {encoding!r})")
    return text.encode("latin-1")


def _allowed_globals():
    allowed = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
        ("torch.nn.parameter", "Parameter"): _rebuild_parameter,
        ("_codecs", "encode"): _encode,
    }
    for name, dtype in _STORAGE_DTYPES.items():
        for module in ("torch", "torch.cuda", "torch.storage"):
            if module != "torch.storage" or name == "UntypedStorage":
                allowed[(module, name)] = _StorageType(f"{module}.{name}", dtype)
    return allowed


# (module, name) -> what the pickle gets for it.
ALLOWED_GLOBALS = _allowed_globals()


class _WeightsOnlyUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only :data:`ALLOWED_GLOBALS` and the storages."""

    def __init__(self, file, path, persistent_load):
        super().__init__(file, encoding="utf-8")
        self._path = path
        self._persistent_load = persistent_load

    def find_class(self, module, name):
        # Python 2 names (protocol < 3 writes builtins as __builtin__), mapped as pickle does.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise ForbiddenGlobalError(
                f"{self._path}: refusing to load: the pickle calls for the global "
                f"{module}.{name}, which a weights-only PyTorch checkpoint never needs (only "
                "tensors, storages and OrderedDict are allowed; other globals can run code "
                "when unpickled). Nothing from the file was run.")
        return allowed

    def persistent_load(self, pid):
        return self._persistent_load(pid)


def _unpickle(file, path, persistent_load=None):
    def no_persistent_ids(pid):
        raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")

    unpickler = _WeightsOnlyUnpickler(file, path, persistent_load or no_persistent_ids)
    return unpickler.load()


def _storage_id(pid, length):
    """Checks a ``("storage", type, key, location, numel, ...)`` persistent id."""
    if not isinstance(pid, tuple) or not pid:
        raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
    kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
    if kind == "module":
        raise pickle.UnpicklingError("the file pickles a whole model (its class and source "
                                     "code), not a state_dict")
    if kind != "storage" or len(pid) != length:
        raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
    storage_type, key, numel = pid[1], pid[2], pid[4]
    if not isinstance(storage_type, _StorageType):
        raise pickle.UnpicklingError(f"storage type {storage_type!r} is not a storage class")
    if not isinstance(key, str) or type(numel) is not int or numel < 0:
        raise pickle.UnpicklingError(f"bad storage key {key!r} or size {numel!r}")
    return storage_type.dtype, key, numel


def _zip_prefix(archive, path):
    pickles = [name for name in archive.namelist() if name.endswith("data.pkl")
               and name.count("/") == 1]
    if len(pickles) != 1:
        raise CheckpointError(f"{path}: a zip checkpoint holds one <folder>/data.pkl, found "
                              f"{pickles or 'none'}")
    return pickles[0][:-len("data.pkl")]


def _read_storage_record(archive, name, dtype, numel, byteorder, path):
    """The elements of one storage record of a zip checkpoint, as a read-only array."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise CheckpointError(f"{path}: storage record {name} is missing") from None
    if info.file_size != numel * dtype.itemsize:
        raise CheckpointError(f"{path}: storage record {name} has {info.file_size} bytes, "
                              f"expected {numel} x {dtype.itemsize}")
    return _elements(archive.read(name), dtype, byteorder)


def _elements(data, dtype, byteorder):
    """Raw bytes in ``byteorder`` ("<" or ">") as a read-only native array of ``dtype``."""
    if dtype.kind in "biu" and dtype.itemsize == 1 or dtype == np.bool_:
        array = np.frombuffer(data, dtype)
    elif dtype.kind == "V" or dtype.name == "bfloat16":  # ml_dtypes: swap as 16-bit words.
        words = np.frombuffer(data, np.dtype(f"{byteorder}u{dtype.itemsize}"))
        array = words.astype(f"=u{dtype.itemsize}").view(dtype)
    else:
        array = np.frombuffer(data, dtype.newbyteorder(byteorder)).astype(dtype)
    array.flags.writeable = False
    return array


def _load_zip(path):
    with zipfile.ZipFile(path) as archive:
        prefix = _zip_prefix(archive, path)
        byteorder = "little"
        if f"{prefix}byteorder" in archive.namelist():
            byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise CheckpointError(f"{path}: unknown byte order {byteorder!r}")
        order = "<" if byteorder == "little" else ">"
        storages = {}

        def persistent_load(pid):
            dtype, key, numel = _storage_id(pid, 5)
            if key not in storages:
                storage = _Storage(key, dtype, numel)
                storage.array = _read_storage_record(archive, f"{prefix}data/{key}", dtype,
                                                     numel, order, path)
                storages[key] = storage
            return storages[key]

        with archive.open(f"{prefix}data.pkl") as handle:
            return _unpickle(io.BytesIO(handle.read()), path, persistent_load)


def _legacy_header(handle, path):
    """Reads and checks the magic number, protocol version and system information."""
    magic = _unpickle(handle, path)
    if magic != LEGACY_MAGIC_NUMBER:
        raise CheckpointError(f"{path}: not a PyTorch checkpoint (no zip archive, and the "
                              "first pickle is not the legacy magic number)")
    version = _unpickle(handle, path)
    if version != LEGACY_PROTOCOL_VERSION:
        raise CheckpointError(f"{path}: legacy protocol version {version!r}, expected "
                              f"{LEGACY_PROTOCOL_VERSION}")
    if not isinstance(_unpickle(handle, path), dict):
        raise CheckpointError(f"{path}: the legacy system information is not a dict")


def _load_legacy(path):
    with open(path, "rb") as handle:
        _legacy_header(handle, path)
        roots, views = {}, {}

        def persistent_load(pid):
            dtype, key, numel = _storage_id(pid, 6)
            root = roots.setdefault(key, _Storage(key, dtype, numel))
            if root.dtype != dtype or root.numel != numel:
                raise pickle.UnpicklingError(f"storage {key!r} is declared twice differently")
            view = pid[5]
            if view is None:
                return root
            if (not isinstance(view, tuple) or len(view) != 3 or not isinstance(view[0], str)
                    or not all(type(v) is int and v >= 0 for v in view[1:])
                    or view[1] + view[2] > numel):
                raise pickle.UnpicklingError(f"bad storage view {view!r} of storage {key!r}")
            return views.setdefault(view[0], _Storage(view[0], dtype, view[2], root, view[1]))

        result = _unpickle(handle, path, persistent_load)
        keys = _unpickle(handle, path)
        if not isinstance(keys, list) or set(keys) != set(roots) or len(keys) != len(roots):
            raise CheckpointError(f"{path}: the storage key list {keys!r} does not match the "
                                  f"storages the data uses ({sorted(roots)})")
        for key in keys:
            _read_legacy_storage(handle, roots[key], path)
    return result


def _read_legacy_storage(handle, storage, path):
    header = handle.read(8)
    if len(header) != 8:
        raise CheckpointError(f"{path}: truncated before storage {storage.key!r}")
    (numel,) = struct.unpack("<q", header)
    if numel != storage.numel:
        raise CheckpointError(f"{path}: storage {storage.key!r} holds {numel} elements, the "
                              f"data declares {storage.numel}")
    size = numel * storage.dtype.itemsize
    remaining = os.fstat(handle.fileno()).st_size - handle.tell()
    if size > remaining:
        raise CheckpointError(f"{path}: storage {storage.key!r} is truncated ({remaining} of "
                              f"{size} bytes)")
    data = handle.read(size)
    if len(data) != size:
        raise CheckpointError(f"{path}: storage {storage.key!r} is truncated ({len(data)} of "
                              f"{size} bytes)")
    storage.array = _elements(data, storage.dtype, "<")


def _materialize(value):
    """``value`` with every tensor replaced by its NumPy view (containers rebuilt)."""
    if isinstance(value, _Tensor):
        return value.to_array()
    if isinstance(value, _Storage):
        return value.elements()
    if isinstance(value, dict):
        items = [(key, _materialize(item)) for key, item in value.items()]
        return type(value)(items) if type(value) in (dict, collections.OrderedDict) else value
    if isinstance(value, (list, tuple)):
        return type(value)(_materialize(item) for item in value)
    return value


def load(path):
    """Reads a ``torch.save`` file without PyTorch, allowing weights only.

    Args:
        path: A zip (PyTorch >= 1.6) or legacy (PyTorch < 1.6) checkpoint.

    Returns:
        The saved object (typically an OrderedDict state_dict, or a dict
        holding one), with tensors as read-only NumPy arrays of the saved
        dtype, shape and strides (views of their storage's elements).

    Raises:
        FileNotFoundError: No such file.
        ForbiddenGlobalError: The pickle names a global outside
            :data:`ALLOWED_GLOBALS` (the message names the file and the
            global); nothing was called.
        CheckpointError: Any other problem: not a ``torch.save`` file,
            truncated or inconsistent storages, a pickled model class.
    """
    path = str(path)
    with open(path, "rb") as handle:
        head = handle.read(4)
    try:
        if head == _ZIP_SIGNATURE:
            result = _load_zip(path)
        elif head[:1] == _PICKLE_PROTOCOL_OPCODE:
            result = _load_legacy(path)
        else:
            raise CheckpointError(f"{path}: not a PyTorch checkpoint (neither a zip archive "
                                  "nor a pickle)")
        return _materialize(result)
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, TypeError,
            KeyError, IndexError, AttributeError, struct.error, RecursionError,
            MemoryError) as error:
        raise CheckpointError(f"{path}: not a readable weights-only PyTorch checkpoint "
                              f"({type(error).__name__}: {error})") from error
