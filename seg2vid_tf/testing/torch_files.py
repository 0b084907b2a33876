"""Writing ``torch.save``-format files without PyTorch (tests only).

Follows the documented layouts (see `seg2vid_tf.torch_checkpoint`): a pickle
(protocol 2) whose storages are persistent ids, plus the raw storage bytes,
either in a zip archive (PyTorch >= 1.6) or after the pickles (legacy). The
tensors, storages and storage classes are stand-ins whose pickled names are
PyTorch's (``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage``, ...):
pickle writes a global by name after checking that the name leads back to
the object, so fake ``torch`` modules sit in ``sys.modules`` while a file is
written, and only then.
"""

import collections
import contextlib
import io
import pickle
import struct
import sys
import types
import zipfile

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
STORAGE_CLASS_NAMES = ("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage",
                       "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage",
                       "BoolStorage", "ComplexFloatStorage", "ComplexDoubleStorage")


def _stand_in_function(module, name):
    def stand_in(*args, **kwargs):
        raise AssertionError(f"the stand-in {module}.{name} is never called")

    stand_in.__module__, stand_in.__name__, stand_in.__qualname__ = module, name, name
    return stand_in


def _stand_in_modules():
    modules = {name: types.ModuleType(name) for name in ("torch", "torch._utils", "torch.cuda",
                                                           "torch.nn", "torch.nn.parameter")}
    for module in ("torch", "torch.cuda"):
        for name in STORAGE_CLASS_NAMES:
            setattr(modules[module], name, type(name, (), {"__module__": module,
                                                           "__qualname__": name}))
    for name in ("_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter"):
        setattr(modules["torch._utils"], name, _stand_in_function("torch._utils", name))
    modules["torch.nn.parameter"].Parameter = type(
        "Parameter", (), {"__module__": "torch.nn.parameter", "__qualname__": "Parameter"})
    return modules


_MODULES = _stand_in_modules()


@contextlib.contextmanager
def _torch_names():
    """The stand-in ``torch`` modules in ``sys.modules`` (restored afterwards)."""
    saved = {name: sys.modules.get(name) for name in _MODULES}
    sys.modules.update(_MODULES)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def storage_class(name, module="torch"):
    """The stand-in of e.g. ``torch.FloatStorage`` (pickled under that name)."""
    return getattr(_MODULES[module], name)


class Storage:
    """A storage: a storage class and its elements (a 1-D array of the storage's dtype)."""

    def __init__(self, elements, class_name="FloatStorage", module="torch"):
        self.elements = np.asarray(elements).reshape(-1)
        self.storage_class = storage_class(class_name, module)


class StorageView:
    """A legacy storage view: ``size`` elements of ``root`` from element ``offset``."""

    def __init__(self, root, offset, size):
        self.root, self.offset, self.size = root, offset, size


class Tensor:
    """Pickles as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``."""

    def __init__(self, storage, offset, size, stride, function="_rebuild_tensor_v2"):
        self.storage, self.offset = storage, offset
        self.size, self.stride, self.function = tuple(size), tuple(stride), function

    def __reduce__(self):
        function = getattr(_MODULES["torch._utils"], self.function)
        args = (self.storage, self.offset, self.size, self.stride)
        if self.function == "_rebuild_tensor_v2":
            args += (False, collections.OrderedDict())
        return function, args


class Parameter:
    """Pickles as ``torch._utils._rebuild_parameter(tensor, requires_grad, hooks)``."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce__(self):
        return (_MODULES["torch._utils"]._rebuild_parameter,
                (self.tensor, True, collections.OrderedDict()))


def _storage_bytes(elements, byteorder):
    order = "<" if byteorder == "little" else ">"
    if elements.dtype.name == "bfloat16":
        return elements.view(np.uint16).astype(f"{order}u2").tobytes()
    return elements.astype(elements.dtype.newbyteorder(order)).tobytes()


def write_zip(path, obj, byteorder="little", folder="archive", byteorder_record=True):
    """Writes ``obj`` in the zip layout of PyTorch >= 1.6.

    Returns:
        ``path``.
    """
    keys = {}

    class ZipPickler(pickle.Pickler):
        def persistent_id(self, value):  # pylint: disable=missing-function-docstring
            if not isinstance(value, Storage):
                return None
            key = keys.setdefault(id(value), (str(len(keys)), value))[0]
            return ("storage", value.storage_class, key, "cpu", value.elements.size)

    buffer = io.BytesIO()
    with _torch_names():
        ZipPickler(buffer, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{folder}/data.pkl", buffer.getvalue())
        if byteorder_record:
            archive.writestr(f"{folder}/byteorder", byteorder)
        for key, storage in keys.values():
            archive.writestr(f"{folder}/data/{key}", _storage_bytes(storage.elements, byteorder))
        archive.writestr(f"{folder}/version", "3\n")
    return path


def write_legacy(path, obj, system_info=None, location="cuda:0"):
    """Writes ``obj`` in the legacy layout of PyTorch < 1.6 (e.g. 0.4).

    Returns:
        ``path``.
    """
    roots, views = {}, {}

    def root_key(storage):
        return roots.setdefault(id(storage), (str(1000 + len(roots)), storage))[0]

    class LegacyPickler(pickle.Pickler):
        def persistent_id(self, value):  # pylint: disable=missing-function-docstring
            if isinstance(value, StorageView):
                root = value.root
                view_key = views.setdefault(id(value), (f"view{len(views)}", value))[0]
                return ("storage", root.storage_class, root_key(root), location,
                        root.elements.size, (view_key, value.offset, value.size))
            if isinstance(value, Storage):
                return ("storage", value.storage_class, root_key(value), location,
                        value.elements.size, None)
            return None

    info = system_info or {"protocol_version": LEGACY_PROTOCOL_VERSION, "little_endian": True,
                           "type_sizes": {"short": 2, "int": 4, "long": 4}}
    with open(path, "wb") as handle, _torch_names():
        pickle.dump(LEGACY_MAGIC_NUMBER, handle, protocol=2)
        pickle.dump(LEGACY_PROTOCOL_VERSION, handle, protocol=2)
        pickle.dump(info, handle, protocol=2)
        LegacyPickler(handle, protocol=2).dump(obj)
        ordered = sorted(roots.values())
        pickle.dump([key for key, _ in ordered], handle, protocol=2)
        for _, storage in ordered:
            handle.write(struct.pack("<q", storage.elements.size))
            handle.write(_storage_bytes(storage.elements, "little"))
    return path
