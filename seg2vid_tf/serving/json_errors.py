"""TF Serving's JSON API errors and number text (`util/json_tensor.cc`, `http_server.cc`).

`RequestError` carries TF Serving's canonical code and HTTP status; values
quoted in its messages (`json_value_text`) and decimals in responses
(`format_decimals`) are written the way TF Serving writes them.
"""

import json

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

# TF Serving's HTTP status for each canonical error code (http_server.cc ToHTTPStatusCode).
HTTP_STATUS = {"CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400,
               "DEADLINE_EXCEEDED": 504, "NOT_FOUND": 404, "ALREADY_EXISTS": 409,
               "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429,
               "FAILED_PRECONDITION": 400, "ABORTED": 409, "OUT_OF_RANGE": 400,
               "UNIMPLEMENTED": 501, "INTERNAL": 500, "UNAVAILABLE": 503, "DATA_LOSS": 500,
               "UNAUTHENTICATED": 401}
_CODE_OF_STATUS = {404: "NOT_FOUND", 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE"}
_RAPIDJSON_FLOAT_RANGE = 3.4028234e38  # rapidjson's Value::IsFloat() bound
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


def json_type(value):
    """rapidjson's type names (JsonTypeString)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return {type(None): "Null", dict: "Object", list: "Array", str: "String"}.get(type(value),
                                                                                 "Number")


def type_error(value, dtype_name):
    return invalid(f"JSON Value: {json_value_text(value)} Type: {json_type(value)} is not of "
                   f"expected type: {dtype_name}")
