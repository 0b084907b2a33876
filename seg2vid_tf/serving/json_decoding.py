"""Predict requests to input arrays, value by value as TF Serving converts them.

Numbers keep their JSON kind (`1` integer, `1.0` decimal): integer tensors take
integers within range; float32 takes integers up to 2^24-1 and decimals within
+-FLT_MAX, float64 integers up to 2^53-1 (`... without loss of precision`);
bool takes `true`/`false`; strings take strings or `{"b64": ...}`. Shapes come
from each list's first element; every other list must match. Row format
(`instances`): all plain values or all objects (exactly one key per input),
rows of one shape. Columnar (`inputs`): a bare tensor for a one-input
signature, else an object naming every input (others ignored).
"""

import base64
import binascii
import math
import re

import numpy as np
import tensorflow as tf

from seg2vid_tf.serving.json_errors import (
    RequestError,
    invalid,
    json_value_text,
    type_error,
    type_name,
)
from seg2vid_tf.serving.json_parsing import parse_json, signature_of

_FLT_MAX = float(np.finfo(np.float32).max)


_B64_ALPHABET = re.compile(r"[A-Za-z0-9+/]*")


def decode_b64(text):
    """absl::Base64Unescape: ASCII whitespace skipped, padding (`=` or `.`) optional but
    exact when given; `None` when the text is not base64."""
    text = re.sub(r"[ \t\n\v\f\r]", "", text)
    data = re.match(r"[^=.]*", text).group(0)
    padding = text[len(data):]
    if not _B64_ALPHABET.fullmatch(data) or padding.strip("=."):
        return None
    missing = {0: 0, 2: 2, 3: 1}.get(len(data) % 4)
    if missing is None or len(padding) not in (0, missing):
        return None
    try:
        return base64.b64decode(data + "=" * missing)
    except binascii.Error:
        return None


def is_b64_object(value):
    """`{"b64": "<string>"}` and nothing else (IsValBase64Object)."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _integer_rule(low, high, narrow=None):
    """An integer dtype: a JSON integer within [low, high) (rapidjson IsInt/IsInt64/...)."""
    def convert(value, dtype_name):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
            raise type_error(value, dtype_name)
        if narrow and not narrow[0] <= value <= narrow[1]:
            # Deliberate: TF Serving takes any int32 here and wraps it (300 -> 44 for uint8).
            raise invalid(f"JSON Value: {value} Type: Number is not of expected type: "
                          f"{dtype_name} (outside {narrow[0]}..{narrow[1]})")
        return value
    return convert


def _decimal_rule(max_int, max_value, target):
    """float/double: numbers that the type holds without loss (IsLosslessDecimal)."""
    def convert(value, dtype_name):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise type_error(value, dtype_name)
        if isinstance(value, int) and not -2 ** 63 <= value < 2 ** 64:
            value = float(value)
        if isinstance(value, int):
            lossless = abs(value) <= max_int
        else:
            lossless = not math.isfinite(value) or -max_value <= value <= max_value
        if not lossless:
            raise invalid(f"Cannot convert JSON value: {json_value_text(value)} to {target} "
                          "without loss of precision.")
        return value
    return convert


def _bool_rule(value, dtype_name):
    if not isinstance(value, bool):
        raise type_error(value, dtype_name)
    return value


def _string_rule(value, dtype_name):
    if not isinstance(value, str):
        raise type_error(value, dtype_name)
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise invalid(f"JSON Value: {json_value_text(value)} is not a valid UTF-8 "
                      "string") from None


_RULES = {
    "float": _decimal_rule(2 ** 24 - 1, _FLT_MAX, "float"),
    "double": _decimal_rule(2 ** 53 - 1, float("inf"), "double"),
    "int32": _integer_rule(-2 ** 31, 2 ** 31),
    "int16": _integer_rule(-2 ** 31, 2 ** 31, (-2 ** 15, 2 ** 15 - 1)),
    "int8": _integer_rule(-2 ** 31, 2 ** 31, (-2 ** 7, 2 ** 7 - 1)),
    "uint8": _integer_rule(-2 ** 31, 2 ** 31, (0, 255)),
    "int64": _integer_rule(-2 ** 63, 2 ** 63),
    "uint32": _integer_rule(0, 2 ** 32),
    "uint64": _integer_rule(0, 2 ** 64),
    "bool": _bool_rule,
    "string": _string_rule,
}


def _leaf_converter(dtype):
    """A function JSON leaf -> Python value of `dtype`, raising TF Serving's errors."""
    dtype_name = type_name(dtype)
    rule = _RULES.get(dtype_name)

    def convert(value):
        if isinstance(value, dict):
            if dtype_name != "string":
                raise type_error(value, dtype_name)
            if not is_b64_object(value):
                raise invalid(f"JSON Value: {json_value_text(value)} not formatted correctly "
                              "for base64 data")
            decoded = decode_b64(value["b64"])
            if decoded is None:
                raise invalid("Unable to base64 decode")
            return decoded
        if rule is None:
            raise RequestError(f"Conversion of JSON Value: {json_value_text(value)} to type: "
                               f"{dtype_name}", code="UNIMPLEMENTED")
        return rule(value, dtype_name)
    return convert


def _dense_shape(value):
    """Shape from the first element of every list (GetDenseTensorShape)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


def _fill(value, level, shape, convert, out):
    """Checks `value` against `shape` and appends its converted leaves (FillTensorProto)."""
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise invalid(f"JSON Value: {json_value_text(value)} found at incorrect level: "
                          f"{level + 1} in the JSON DOM. Expected at level: {rank}")
        out.append(convert(value))
        return
    if level >= rank:
        raise invalid(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise invalid(f"Encountered list at unexpected size: {len(value)} at level: {level} "
                      f"expected size: {shape[level]}")
    if level == rank - 1:
        for item in value:
            if isinstance(item, list):
                raise invalid(f"Encountered list at unexpected level: {rank} expected < {rank}")
            out.append(convert(item))
        return
    for item in value:
        _fill(item, level + 1, shape, convert, out)


def tensor_values(value, dtype):
    """One JSON tensor -> `(shape, leaves)`, the leaves converted for `dtype`."""
    shape = _dense_shape(value)
    leaves = []
    _fill(value, 0, shape, _leaf_converter(dtype), leaves)
    return shape, leaves


def to_array(leaves, shape, dtype):
    """Converted leaves -> a NumPy array of `dtype` and `shape`."""
    dtype = tf.as_dtype(dtype)
    if dtype == tf.string:
        array = np.empty(len(leaves), dtype=object)
        array[:] = leaves
        return array.reshape(shape)
    if dtype.is_floating:  # decimal -> double -> nearest float, as static_cast<float>
        return np.array(leaves, np.float64).astype(dtype.as_numpy_dtype).reshape(shape)
    return np.array(leaves, dtype.as_numpy_dtype).reshape(shape)


def _shape_text(shape):
    return "[" + ",".join(str(size) for size in shape) + "]"


class _Column:
    """The rows of one named input, checked against the first row (AddInstanceItem)."""

    def __init__(self, dtype):
        self.dtype, self.shape, self.size, self.leaves = dtype, None, None, []

    def add(self, value):
        shape, leaves = tensor_values(value, self.dtype)
        if self.shape is None:
            self.shape, self.size = shape, len(leaves)
        elif len(leaves) != self.size:
            raise invalid(f"Expecting tensor size: {self.size} but got: {len(leaves)}")
        elif shape != self.shape:
            raise invalid(f"Expecting shape {_shape_text(self.shape)} but got: "
                          f"{_shape_text(shape)}")
        self.leaves.extend(leaves)

    def array(self, rows):
        return to_array(self.leaves, (rows,) + self.shape, self.dtype)


def _element_error(index, error, key=None):
    where = f"Failed to process element: {index} " + (f"key: {key} " if key is not None else "")
    return RequestError(f"{where}of 'instances' list. Error: {error.code}: {error}",
                        code="INVALID_ARGUMENT")


def _is_element_object(value):
    return isinstance(value, dict) and not is_b64_object(value)


def _add_object_row(index, row, dtypes, columns):
    for key, value in row.items():
        if key not in dtypes:
            raise _element_error(index, invalid(f"JSON object: does not have named input: {key}"),
                                 key)
        try:
            columns.setdefault(key, _Column(dtypes[key])).add(value)
        except RequestError as error:
            raise _element_error(index, error, key) from None
    if set(row) != set(dtypes):
        raise invalid(f"Failed to process element: {index} of 'instances' list. JSON object: "
                      f"{json_value_text(row)} must only have keys: {','.join(sorted(dtypes))}")


def _rows_to_inputs(rows, dtypes):
    """`instances` -> {name: array} (FillTensorMapFromInstancesList)."""
    if len(dtypes) > 1 and not _is_element_object(rows[0]):
        # TF Serving lets a first `{"b64": ...}` row through here and fails later, when the
        # inputs are counted; this names the problem at once.
        raise invalid("instances is a plain list, but expecting list of objects as multiple "
                      "input tensors required as per tensorinfo_map")
    objects = _is_element_object(rows[0])
    columns = {}
    for index, row in enumerate(rows):
        if objects != _is_element_object(row):
            raise invalid(f"Expecting object but got list at item {index} of input list" if objects
                          else f"Expecting value/list but got object at item {index} of input list")
        if objects:
            _add_object_row(index, row, dtypes, columns)
            continue
        name = next(iter(dtypes))
        try:
            columns.setdefault(name, _Column(dtypes[name])).add(row)
        except RequestError as error:
            wrapped = _element_error(index, error)
            raise RequestError(f"{wrapped} (input '{name}')", code=wrapped.code) from None
    return {name: column.array(len(rows)) for name, column in columns.items()}


def _columns_to_inputs(value, dtypes):
    """`inputs` -> {name: array} (FillTensorMapFromInputsMap); unknown keys are ignored."""
    if not isinstance(value, dict) or is_b64_object(value):
        if len(dtypes) > 1:
            raise invalid("inputs is a plain value/list, but expecting an object as multiple "
                          "input tensors required as per tensorinfo_map")
        value = {next(iter(dtypes)): value}
    inputs = {}
    for name in sorted(dtypes):
        if name not in value:
            raise invalid(f"Missing named input: {name} in 'inputs' object.")
        try:
            shape, leaves = tensor_values(value[name], dtypes[name])
        except RequestError as error:
            raise RequestError(f"{error} (input '{name}')", code=error.code) from None
        inputs[name] = to_array(leaves, shape, dtypes[name])
    return inputs


def decode_request(body, input_dtypes):
    """A predict request -> `(signature_name, inputs, row_format)` (FillPredictRequestFromJson).

    Args:
        body: The request body (bytes or str) or its parsed JSON object.
        input_dtypes: dict input name -> dtype of the signature, or a function
            signature name -> that dict (called once the body is parsed and its
            `signature_name` checked, where TF Serving looks the servable up).

    Returns:
        The signature name (`serving_default` when absent or empty), dict input
        name -> NumPy array, and whether the request used `instances`.

    Raises:
        RequestError: Anything TF Serving refuses, in its words.
    """
    document = body if isinstance(body, dict) else parse_json(body)
    signature_name = signature_of(document)
    dtypes = input_dtypes(signature_name) if callable(input_dtypes) else input_dtypes
    if not dtypes:
        raise invalid(f"Failed to get input map for signature: {signature_name}")
    if "instances" in document:
        if "inputs" in document:
            raise invalid(f"JSON Value: {json_value_text(document)} Not formatted correctly "
                          "expecting only one of 'inputs' or 'instances' keys to exist ")
        rows = document["instances"]
        if not isinstance(rows, list):
            raise invalid(f"JSON Value: {json_value_text(document)} Excepting 'instances' to be "
                          "an list/array")
        if not rows:
            raise invalid(f"JSON Value: {json_value_text(document)} No values in 'instances' "
                          "array")
        return signature_name, _rows_to_inputs(rows, dtypes), True
    if "inputs" in document:
        return signature_name, _columns_to_inputs(document["inputs"], dtypes), False
    raise invalid("Missing 'inputs' or 'instances' key")
