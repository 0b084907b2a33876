"""TensorFlow Serving's REST predict API: its JSON rules, and a SavedModel behind them.

The rules (tensorflow.org/tfx/serving/api_rest), which this module follows:

* A request is `{"signature_name": ..., "instances": ...}` (row format) or
  `{"signature_name": ..., "inputs": ...}` (columnar format); the signature
  defaults to `serving_default`.
* Row format: `instances` is a list with one entry per batch row. With several
  named inputs each entry is an object `{input_name: value}`; with a single
  input it is the value itself (an object naming that input is accepted too).
  The answer is `{"predictions": [...]}`, one entry per row: an object
  `{output_name: value}` with several outputs, the value itself with one.
* Columnar format: `inputs` is an object `{input_name: tensor}` (or, with a
  single input, the tensor itself), each tensor with its batch dimension. The
  answer is `{"outputs": {output_name: tensor}}`, or `{"outputs": tensor}` with
  a single output.
* Binary strings travel as `{"b64": "<base64>"}`; output tensors whose name
  ends in `_bytes` are answered that way.
* Errors are `{"error": "<message>"}`.

`Predictor` runs such requests through a loaded SavedModel and answers the
status and metadata requests too; the test server of the export and
`seg2vid_tf.serve` use it.
"""

import base64
import json
import os
import re

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import types_pb2

DEFAULT_SIGNATURE = "serving_default"
BYTES_SUFFIX = "_bytes"


class RequestError(ValueError):
    """A request that cannot be served; `status` is the HTTP status to answer with."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def _decode_strings(value, name):
    """Nested lists of str / {"b64": ...} -> nested lists of bytes."""
    if isinstance(value, list):
        return [_decode_strings(item, name) for item in value]
    if isinstance(value, dict):
        if set(value) != {"b64"} or not isinstance(value["b64"], str):
            raise RequestError(f"Input '{name}': a binary value must be {{\"b64\": \"...\"}}, "
                               f"got an object with keys {sorted(value)}.")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except ValueError as error:
            raise RequestError(f"Input '{name}': invalid base64 ({error}).") from None
    if isinstance(value, str):
        return value.encode("utf-8")
    raise RequestError(f"Input '{name}' is a string tensor: expected strings or "
                       f"{{\"b64\": ...}} objects, got {type(value).__name__}.")


def _shape_of(value, name):
    """The shape of a rectangular nested list; RequestError when ragged."""
    if not isinstance(value, list):
        return ()
    if not value:
        return (0,)
    shapes = {_shape_of(item, name) for item in value}
    if len(shapes) != 1:
        raise RequestError(f"Input '{name}' is ragged: its lists have different lengths.")
    return (len(value),) + shapes.pop()


def _check_numbers(value, name, integer):
    if isinstance(value, list):
        for item in value:
            _check_numbers(item, name, integer)
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RequestError(f"Input '{name}' must hold numbers, got {type(value).__name__} "
                           f"{json.dumps(value)[:40]}.")
    if integer and isinstance(value, float) and not value.is_integer():
        raise RequestError(f"Input '{name}' is an integer tensor, got {value}.")


def to_array(value, dtype, name):
    """A JSON value -> a NumPy array of the input's `tf.DType` (TF Serving's conversion)."""
    shape = _shape_of(value, name)
    if dtype == tf.string:
        decoded = _decode_strings(value, name)
        array = np.empty(shape, dtype=object)
        array[...] = decoded if not shape else np.array(decoded, dtype=object).reshape(shape)
        return array
    _check_numbers(value, name, dtype.is_integer)
    numpy_dtype = dtype.as_numpy_dtype
    array = np.asarray(value, dtype=np.float64 if not dtype.is_integer else object)
    if dtype.is_integer:
        info = np.iinfo(numpy_dtype)
        flat = [int(item) for item in array.reshape(-1)]
        if any(item < info.min or item > info.max for item in flat):
            raise RequestError(f"Input '{name}' has values outside the range of {dtype.name}.")
        return np.array(flat, dtype=numpy_dtype).reshape(shape)
    return array.astype(numpy_dtype)


def decode_request(body, input_dtypes):
    """Parses a predict request.

    Args:
        body: The request body (bytes or str) or an already parsed object.
        input_dtypes: dict input name -> `tf.DType` of the signature.

    Returns:
        `(signature_name, inputs, row_format)`: inputs a dict name -> NumPy array.

    Raises:
        RequestError: Anything the rules above do not allow, named.
    """
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise RequestError(f"The request body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise RequestError("The request must be a JSON object with \"instances\" or \"inputs\".")
    unknown = set(body) - {"signature_name", "instances", "inputs"}
    if unknown:
        raise RequestError(f"Unknown request fields {sorted(unknown)}; expected "
                           "\"signature_name\" and one of \"instances\" or \"inputs\".")
    if ("instances" in body) == ("inputs" in body):
        raise RequestError("The request must have exactly one of \"instances\" (row format) "
                           "or \"inputs\" (columnar format).")
    signature_name = body.get("signature_name", DEFAULT_SIGNATURE)
    if not isinstance(signature_name, str):
        raise RequestError("\"signature_name\" must be a string.")
    names = sorted(input_dtypes)
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise RequestError("\"instances\" must be a non-empty list, one entry per row.")
        columns = {}
        for index, row in enumerate(rows):
            if isinstance(row, dict) and not (len(names) == 1 and set(row) == {"b64"}):
                _check_names(row, names, f"instances[{index}]")
                for name in names:
                    columns.setdefault(name, []).append(row[name])
            elif len(names) == 1:
                columns.setdefault(names[0], []).append(row)
            else:
                raise RequestError(f"instances[{index}] must be an object naming the inputs "
                                   f"{names}.")
        inputs = {name: to_array(columns[name], input_dtypes[name], name) for name in names}
        return signature_name, inputs, True
    columns = body["inputs"]
    if isinstance(columns, dict) and not (len(names) == 1 and set(columns) == {"b64"}):
        _check_names(columns, names, "inputs")
    elif len(names) == 1:
        columns = {names[0]: columns}
    else:
        raise RequestError(f"\"inputs\" must be an object naming the inputs {names}.")
    inputs = {name: to_array(columns[name], input_dtypes[name], name) for name in names}
    return signature_name, inputs, False


def _check_names(given, names, where):
    missing = sorted(set(names) - set(given))
    extra = sorted(set(given) - set(names))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing inputs {missing}")
        if extra:
            parts.append(f"unknown inputs {extra}")
        raise RequestError(f"{where}: {' and '.join(parts)}; the signature takes {names}.")


def _to_json_value(array, name):
    array = np.asarray(array)
    if array.dtype == object or array.dtype.kind in "SU":
        flat = [item if isinstance(item, bytes) else str(item).encode("utf-8")
                for item in array.reshape(-1)]
        if name.endswith(BYTES_SUFFIX):
            flat = [{"b64": base64.b64encode(item).decode("ascii")} for item in flat]
        else:
            flat = [item.decode("utf-8", errors="replace") for item in flat]
        return np.array(flat, dtype=object).reshape(array.shape).tolist() if array.shape \
            else flat[0]
    return array.tolist()


def encode_response(outputs, row_format):
    """Signature outputs -> the response object (`predictions` or `outputs`).

    Args:
        outputs: dict output name -> array (batch first).
        row_format: Whether the request used `instances`.

    Raises:
        RequestError: Row format with outputs of different batch sizes.
    """
    names = sorted(outputs)
    if not row_format:
        if len(names) == 1:
            return {"outputs": _to_json_value(outputs[names[0]], names[0])}
        return {"outputs": {name: _to_json_value(outputs[name], name) for name in names}}
    batch_sizes = {np.shape(outputs[name])[0] for name in names}
    if len(batch_sizes) != 1:
        raise RequestError("The outputs have different batch sizes; use the columnar "
                           "(\"inputs\") format.", status=500)
    rows = []
    for index in range(batch_sizes.pop()):
        values = {name: _to_json_value(np.asarray(outputs[name])[index], name) for name in names}
        rows.append(values[names[0]] if len(names) == 1 else values)
    return {"predictions": rows}


def clean_error_message(message):
    """TensorFlow's error text without its node and stack decorations.

    `"Graph execution error: ... assertion failed: [label_map has ids ...] [20]
    ... [[{{node ...}}]] [Op:...]"` -> `"assertion failed: [label_map has ids ...] [20]"`.
    """
    kept = []
    for line in str(message).splitlines():
        line = re.sub(r"\s*\[\[\{\{(function_)?node [^]]*\]\]", "", line)
        line = re.sub(r"\s*\[Op:[^]]*\]", "", line).strip()
        if not line or line.startswith(("Graph execution error", "Detected at node",
                                        "<stack traces")):
            continue
        kept.append(line)
    return " ".join(kept) or str(message)


def error_response(message):
    return {"error": str(message)}


def _tensor_info(spec):
    shape = spec.shape
    info = {"dtype": types_pb2.DataType.Name(spec.dtype.as_datatype_enum)}
    if shape.rank is None:
        info["tensor_shape"] = {"unknown_rank": True}
    else:
        info["tensor_shape"] = {"dim": [{"size": str(-1 if size is None else size)}
                                        for size in shape.as_list()]}
    return info


class Predictor:
    """One loaded SavedModel version answering REST requests.

    Args:
        export_dir: A version directory written by `seg2vid_tf.serving.export`.
        model_name: The name the model is served under.
        version: Its integer version.
    """

    def __init__(self, export_dir, model_name, version):
        self.export_dir = export_dir
        self.model_name = model_name
        self.version = int(version)
        self._model = tf.saved_model.load(export_dir)
        self.signatures = dict(self._model.signatures)
        info_path = os.path.join(export_dir, "assets.extra", "seg2vid_export.json")
        self.export_info = {}
        if os.path.isfile(info_path):
            with open(info_path, encoding="utf-8") as handle:
                self.export_info = json.load(handle)

    def input_specs(self, signature_name):
        function = self._signature(signature_name)
        _, specs = function.structured_input_signature
        return specs

    def _signature(self, signature_name):
        if signature_name not in self.signatures:
            raise RequestError(
                f"Serving signature name: \"{signature_name}\" not found in signature def; "
                f"the model has {sorted(self.signatures)}.", status=404)
        return self.signatures[signature_name]

    def predict(self, body):
        """A predict request body -> the response object.

        Raises:
            RequestError: A bad request (400), an unknown signature (404), or the
                model's own `INVALID_ARGUMENT` message (400).
        """
        if isinstance(body, (bytes, str)):
            try:
                body = json.loads(body)
            except (ValueError, UnicodeDecodeError) as error:
                raise RequestError(f"The request body is not valid JSON: {error}.") from None
        signature_name = body.get("signature_name", DEFAULT_SIGNATURE) \
            if isinstance(body, dict) else DEFAULT_SIGNATURE
        if not isinstance(signature_name, str):
            raise RequestError("\"signature_name\" must be a string.")
        specs = self.input_specs(signature_name)
        dtypes = {name: spec.dtype for name, spec in specs.items()}
        _, inputs, row_format = decode_request(body, dtypes)
        function = self._signature(signature_name)
        try:
            outputs = function(**{name: tf.constant(value, dtype=dtypes[name])
                                  for name, value in inputs.items()})
        except tf.errors.InvalidArgumentError as error:
            raise RequestError(clean_error_message(error.message)) from None
        return encode_response({name: value.numpy() for name, value in outputs.items()},
                               row_format)

    def status(self):
        """`GET /v1/models/<name>`: TF Serving's model version status."""
        return {"model_version_status": [{
            "version": str(self.version), "state": "AVAILABLE",
            "status": {"error_code": "OK", "error_message": ""}}]}

    def metadata(self):
        """`GET /v1/models/<name>/metadata`: the signature defs, in TF Serving's layout."""
        signature_def = {}
        for name, function in sorted(self.signatures.items()):
            _, specs = function.structured_input_signature
            outputs = function.structured_outputs
            signature_def[name] = {
                "inputs": {key: dict(_tensor_info(spec), name=key) for key, spec in specs.items()},
                "outputs": {key: dict(_tensor_info(tf.TensorSpec(tensor.shape, tensor.dtype)),
                                      name=key) for key, tensor in outputs.items()},
                "method_name": "tensorflow/serving/predict",
            }
        return {"model_spec": {"name": self.model_name, "signature_name": "",
                               "version": str(self.version)},
                "metadata": {"signature_def": {"signature_def": signature_def}}}
