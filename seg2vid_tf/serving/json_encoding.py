"""Signature outputs to TF Serving's response text (`predictions` or `outputs`).

Floats as absl's six-digit `%g` when that reads back to the same value, else
`%.9g` (float32) / `%.17g` (float64), `.0` added to whole numbers; integers as
integers; `_bytes` strings as `{"b64": ...}`.
"""

import base64
import json

import numpy as np
import tensorflow as tf

from seg2vid_tf.serving.json_errors import format_decimals, invalid, type_name

BYTES_SUFFIX = "_bytes"


def _jsonable(array, name):
    """An output array -> `(values, quoted_numbers)` for `_dump` (AddSingleValueAndAdvance).

    Floats become TF Serving's decimal texts (`quoted_numbers`: written as JSON
    strings, then unquoted: the texts hold no quote); `_bytes` strings become
    `{"b64": ...}`, other strings text (raw bytes kept through `surrogateescape`).
    """
    if array.dtype in (np.float32, np.float64):
        return format_decimals(array), True
    if array.dtype.kind in "iub":
        return array, False
    if array.dtype.kind in "OSU":
        flat = [item if isinstance(item, bytes) else str(item).encode("utf-8")
                for item in array.reshape(-1)]
        if name.endswith(BYTES_SUFFIX):
            flat = [{"b64": base64.b64encode(item).decode("ascii")} for item in flat]
        else:
            flat = [item.decode("utf-8", "surrogateescape") for item in flat]
        values = np.empty(len(flat), dtype=object)
        values[:] = flat
        return values.reshape(array.shape), False
    raise invalid("Failed to write JSON value for tensor type: "
                  f"{type_name(tf.as_dtype(array.dtype))}")


def _dump(values, quoted_numbers):
    """Values (or one row of them) -> JSON text."""
    text = json.dumps(values.tolist(), ensure_ascii=False)
    return text.replace('"', "") if quoted_numbers else text


def _check_batches(arrays):
    """Row format: every output has the same first dimension (MakeRowFormatJsonFromTensors)."""
    batch = 0
    for name, array in arrays.items():
        if array.ndim == 0:
            raise invalid(f"Tensor name: {name} has no shape information ")
        if array.shape[0] < 1:
            raise invalid(f"Tensor name: {name} has invalid batch size: {array.shape[0]}")
        if batch and array.shape[0] != batch:
            raise invalid(f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} "
                          f"expecting: {batch}")
        batch = array.shape[0]
    return batch


def make_json(outputs, row_format):
    """Signature outputs -> TF Serving's response text (MakeJsonFromTensors).

    Args:
        outputs: dict output name -> array (batch first for the row format).
        row_format: Whether the request used `instances` (`predictions`), else
            `inputs` (`outputs`).

    Raises:
        RequestError: No outputs, a row-format batch mismatch, or a dtype JSON
            cannot carry.
    """
    if not outputs:
        raise invalid("Cannot convert empty tensor map to JSON")
    arrays = {name: np.asarray(outputs[name]) for name in sorted(outputs)}
    batch = _check_batches(arrays) if row_format else None
    values = {name: _jsonable(array, name) for name, array in arrays.items()}
    if not row_format:
        if len(values) == 1:
            return '{"outputs": ' + _dump(*next(iter(values.values()))) + "}"
        return '{"outputs": {' + ", ".join(json.dumps(name) + ": " + _dump(*value)
                                           for name, value in values.items()) + "}}"
    rows = []
    for index in range(batch):
        if len(values) == 1:
            (value, quoted), = values.values()
            rows.append(_dump(value[index], quoted))
        else:
            rows.append("{" + ", ".join(json.dumps(name) + ": " + _dump(value[index], quoted)
                                        for name, (value, quoted) in values.items()) + "}")
    return '{"predictions": [' + ", ".join(rows) + "]}"
