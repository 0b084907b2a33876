"""TF Serving's JSON <-> tensor rules (`tensorflow_serving/util/json_tensor.cc`), ported.

What a predict request may hold, how its values convert to the signature's
dtypes and how outputs are written back follow TF Serving's code case for case,
with its error messages (clients match on them):

* Parsing: `JSON Parse error: ...` in rapidjson's words; `NaN`, `Infinity`,
  `-Infinity` are numbers; the document is an object; keys other than
  `signature_name`, `instances` and `inputs` are ignored.
* Numbers keep their JSON kind (`1` integer, `1.0` decimal): integer tensors
  take integers within range; float32 takes integers up to 2^24-1 and decimals
  within +-FLT_MAX, float64 integers up to 2^53-1 (`... without loss of
  precision`); bool takes `true`/`false`; strings take strings or `{"b64": ...}`.
* Shapes come from each list's first element; every other list must match.
* Row format (`instances`): all plain values or all objects (exactly one key
  per input), rows of one shape. Columnar (`inputs`): a bare tensor for a
  one-input signature, else an object naming every input (others ignored).
* Outputs: floats as absl's six-digit `%g` when that reads back to the same
  value, else `%.9g` (float32) / `%.17g` (float64), `.0` added to whole numbers;
  integers as integers; `_bytes` strings as `{"b64": ...}`.

Deliberate differences are marked where they are (`docs/serving.md` lists them).
"""

import base64
import binascii
import json
import math
import re

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

DEFAULT_SIGNATURE = "serving_default"
BYTES_SUFFIX = "_bytes"
# TF Serving's HTTP status for each canonical error code (http_server.cc ToHTTPStatusCode).
HTTP_STATUS = {"CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400,
               "DEADLINE_EXCEEDED": 504, "NOT_FOUND": 404, "ALREADY_EXISTS": 409,
               "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429,
               "FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400,
               "UNIMPLEMENTED": 501, "INTERNAL": 500, "UNAVAILABLE": 503, "DATA_LOSS": 500,
               "UNAUTHENTICATED": 401}
_CODE_OF_STATUS = {404: "NOT_FOUND", 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE"}
_FLT_MAX = float(np.finfo(np.float32).max)
_RAPIDJSON_FLOAT_RANGE = 3.4028234e38  # rapidjson's Value::IsFloat() bound
MAX_JSON_DEPTH = 32  # arrays/objects; a predict request to this model needs at most 6
_MESSAGE_VALUE_LIMIT = 240  # characters of a JSON value quoted in an error (TF Serving: all)


class RequestError(ValueError):
    """A request that cannot be served, with TF Serving's canonical code and HTTP status.

    Args:
        message: The error text (TF Serving's words where it has some).
        status: HTTP status; derived from `code` when not given.
        code: Canonical error code name (`INVALID_ARGUMENT`, `NOT_FOUND`, ...);
            derived from `status` when not given.
    """

    def __init__(self, message, status=None, code=None):
        super().__init__(message)
        if code is None:
            code = _CODE_OF_STATUS.get(status, "INVALID_ARGUMENT")
        self.code = code
        self.status = HTTP_STATUS.get(code, 400) if status is None else status


def invalid(message):
    """`INVALID_ARGUMENT` (HTTP 400)."""
    return RequestError(message, code="INVALID_ARGUMENT")


def type_name(dtype):
    """TF's `DataTypeString`: `tf.float32` -> `"float"`, `tf.string` -> `"string"`."""
    return types_pb2.DataType.Name(tf.as_dtype(dtype).as_datatype_enum)[3:].lower()


# --------------------------------------------------------------------------- number text
def format_decimal(value):
    """One float the way TF Serving writes it (json_tensor.cc WriteDecimal)."""
    return str(format_decimals(np.asarray([value]))[0])


def format_decimals(values):
    """float32/float64 array -> array of TF Serving's decimal texts (same shape).

    absl's `StrCat` (six significant digits, `%g`) when that text reads back to
    the same value, else `%.9g` (float32) / `%.17g` (float64); `.0` appended
    when the text has neither `.` nor `e`; `NaN`, `Infinity`, `-Infinity`.
    """
    values = np.asarray(values)
    flat = values.reshape(-1)
    wide = flat.astype(np.float64)
    finite = np.isfinite(flat)
    texts = np.char.mod("%g", np.where(finite, wide, 0.0)).astype("<U26")
    lossy = finite & (texts.astype(np.float64).astype(flat.dtype) != flat)
    if lossy.any():
        digits = 9 if flat.dtype == np.float32 else 17
        texts[lossy] = np.char.mod(f"%.{digits}g", wide[lossy])
    whole = finite & (np.char.find(texts, ".") < 0) & (np.char.find(texts, "e") < 0)
    texts[whole] = np.char.add(texts[whole], ".0")
    texts[np.isnan(flat)] = "NaN"
    texts[np.isposinf(flat)] = "Infinity"
    texts[np.isneginf(flat)] = "-Infinity"
    return texts.reshape(values.shape)


def json_value_text(value):
    """A JSON value quoted in an error message (json_tensor.cc JsonValueToString)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if -_RAPIDJSON_FLOAT_RANGE <= value <= _RAPIDJSON_FLOAT_RANGE:
            return format_decimal(np.float32(value))
        return format_decimal(np.float64(value))
    text = json.dumps(value, indent=4, ensure_ascii=False)
    return text if len(text) <= _MESSAGE_VALUE_LIMIT else text[:_MESSAGE_VALUE_LIMIT] + "..."


def _json_type(value):
    """rapidjson's type names (JsonTypeString)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return {type(None): "Null", dict: "Object", list: "Array", str: "String"}.get(type(value),
                                                                                 "Number")


def _type_error(value, dtype_name):
    return invalid(f"JSON Value: {json_value_text(value)} Type: {_json_type(value)} is not of "
                   f"expected type: {dtype_name}")


# --------------------------------------------------------------------------- parsing
class _TooBig(ValueError):
    pass


def _parse_float(text):
    value = float(text)
    if math.isinf(value):
        raise _TooBig(text)
    return value


def _parse_int(text):
    value = int(text)
    if -2 ** 63 <= value < 2 ** 64:
        return value
    # rapidjson keeps integers beyond int64/uint64 as doubles.
    try:
        return float(value)
    except OverflowError:
        raise _TooBig(text) from None


_RAPIDJSON_WORDS = {
    "Expecting value": "Invalid value.",
    "Extra data": "The document root must not be followed by other values.",
    "Expecting property name enclosed in double quotes": "Missing a name for object member.",
    "Expecting ':' delimiter": "Missing a colon after a name of object member.",
    "Unterminated string starting at": "Missing a closing quotation mark in string.",
    "Invalid \\escape": "Invalid escape character in string.",
}


def _innermost_bracket(text, end):
    """`{` or `[`: the innermost container still open at `end` (strings skipped)."""
    stack, in_string, escaped = [], False, False
    for char in text[:end]:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else "["


def json_depth(data, chunk_bytes=1 << 22):
    """The deepest nesting of arrays and objects in JSON text, strings skipped.

    Vectorised (NumPy, chunk by chunk), so that a 64 MiB body is measured in a
    fraction of a second before any recursive decoder sees it.

    Args:
        data: JSON text as bytes.
        chunk_bytes: Bytes per step (bounds the memory used).

    Returns:
        int: 0 for a scalar document, 1 for `[]` or `{}`, and so on.
    """
    # Escaped backslashes first, then escaped quotes: what is left of `"` delimits strings.
    data = bytes(data).replace(b"\\\\", b"").replace(b'\\"', b"")
    parity, depth, deepest = 0, 0, 0
    for start in range(0, len(data), chunk_bytes):
        codes = np.frombuffer(data, np.uint8, count=min(chunk_bytes, len(data) - start),
                              offset=start)
        # uint8 sums wrap at 256, which keeps their parity.
        in_string = (np.cumsum(codes == 34, dtype=np.uint8) + parity) % 2 == 1
        step = (np.isin(codes, (91, 123)).astype(np.int32)
                - np.isin(codes, (93, 125)).astype(np.int32))
        step[in_string] = 0
        levels = depth + np.cumsum(step)
        if levels.size:
            deepest = max(deepest, int(levels.max()))
            depth = int(levels[-1])
        parity = int((parity + np.count_nonzero(codes == 34)) % 2)
    return deepest


def parse_json(body):
    """Request body (bytes, str) -> JSON object, with rapidjson's error words.

    The body's nesting is measured first (`json_depth`): a document deeper than
    `MAX_JSON_DEPTH` is refused before decoding (a recursive decoder would run
    out of stack; a predict request to this model needs at most 6 levels).

    Raises:
        RequestError: `INVALID_ARGUMENT`: empty, too deep, not JSON, or not an object.
    """
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogateescape")
    depth = json_depth(body)
    if depth > MAX_JSON_DEPTH:
        raise invalid(f"JSON Parse error: the document nests arrays/objects {depth} levels deep, "
                      f"over the limit of {MAX_JSON_DEPTH} (a predict request to this model "
                      "needs at most 6).")
    body = bytes(body).decode("utf-8", "surrogateescape")
    if not body:
        raise invalid("JSON Parse error: The document is empty")
    try:
        document = json.loads(body, parse_float=_parse_float, parse_int=_parse_int)
    except RecursionError:
        raise invalid("JSON Parse error: the document nests too deeply.") from None
    except _TooBig:
        raise invalid("JSON Parse error: Number too big to be stored in double.") from None
    except json.JSONDecodeError as error:
        words = _RAPIDJSON_WORDS.get(error.msg, error.msg + ".")
        if not body.strip():
            words = "The document is empty."
        elif error.msg == "Expecting ',' delimiter":
            words = ("Missing a comma or '}' after an object member."
                     if _innermost_bracket(body, error.pos) == "{" else
                     "Missing a comma or ']' after an array element.")
        raise invalid(f"JSON Parse error: {words} at offset: {error.pos}") from None
    if not isinstance(document, dict):
        raise invalid(f"JSON Value: {json_value_text(document)} Is not object")
    return document


def signature_of(document):
    """The document's `signature_name` (default: `serving_default`); FillSignature's check."""
    name = document.get("signature_name", "")
    if not isinstance(name, str):
        raise invalid(f"JSON Value: {json_value_text(document)} not formatted correctly. "
                      "'signature_name' key must be a string value.")
    return name or DEFAULT_SIGNATURE


# --------------------------------------------------------------------------- values
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
            raise _type_error(value, dtype_name)
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
            raise _type_error(value, dtype_name)
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
        raise _type_error(value, dtype_name)
    return value


def _string_rule(value, dtype_name):
    if not isinstance(value, str):
        raise _type_error(value, dtype_name)
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
                raise _type_error(value, dtype_name)
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


# --------------------------------------------------------------------------- requests
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


# --------------------------------------------------------------------------- responses
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
