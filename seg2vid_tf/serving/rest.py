"""TensorFlow Serving's REST API over a loaded SavedModel, answering as TF Serving does.

The routes and their errors follow `model_servers/http_rest_api_handler.cc` and
`http_rest_api_util.cc` (the JSON codec is `seg2vid_tf.serving.json_tensor`'s modules):

* `POST /v1/models/NAME[/versions/N | /labels/L]:predict`: the body is parsed
  (and its `signature_name` checked) before the model is looked up, so a bad
  body is 400 even for an unknown model; an unknown model or version is 404
  (`Servable not found for request: Latest(NAME)` / `Specific(NAME, N)`), an
  unknown signature 400 (`Serving signature name: "S" not found in signature
  def`), a label 400 (`Unrecognized servable version label: L`: this server
  has no labels).
* `GET /v1/models/NAME[/versions/N]`: version status, newest first; 404
  `Could not find any versions of model NAME` / `Could not find version N of
  model NAME`.
* `GET /v1/models/NAME[/versions/N]/metadata`: the SavedModel's SignatureDefs
  (`__saved_model_init_op` included) as protobuf's JSON printer writes them.
* Any other `/v1/...` path or method is 400 `Malformed request: METHOD PATH`;
  paths match case-insensitively, model names and labels are URL-decoded, a
  version beyond int64 is 400 `Failed to convert version: N to numeric.`.
* Errors are `{"error": "<message>"}` with TF Serving's HTTP status for the
  canonical code (400 INVALID_ARGUMENT and FAILED_PRECONDITION, 404 NOT_FOUND,
  501 UNIMPLEMENTED, 500 INTERNAL).

`Predictor` runs one version for both transports (`seg2vid_tf.serving.
grpc_service` uses it too); `handle_request` answers one HTTP request against
a registry of versions (`seg2vid_tf.serving.local_server.ModelRegistry`).
"""

import base64
import json
import os
import re
import urllib.parse

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from seg2vid_tf.serving import batching as batching_lib
from seg2vid_tf.serving import json_parsing
from seg2vid_tf.serving.json_decoding import decode_request
from seg2vid_tf.serving.json_encoding import BYTES_SUFFIX, make_json  # noqa: F401  (public here)
from seg2vid_tf.serving.json_errors import RequestError, invalid
from seg2vid_tf.serving.json_parsing import DEFAULT_SIGNATURE, parse_json  # noqa: F401  (public)

PREDICT_METHODS = ("tensorflow/serving/predict", "tensorflow/serving/classify",
                   "tensorflow/serving/regress")
# tf.errors codes -> canonical names (tensorflow/core/protobuf/error_codes.proto).
_TF_CODES = {1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED",
             5: "NOT_FOUND", 6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED",
             8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION", 10: "ABORTED",
             11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
             15: "DATA_LOSS", 16: "UNAUTHENTICATED"}
_VERSION = r"(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?"
_PREDICT_PATH = re.compile(r"/v1/models/([^/:]+)" + _VERSION + r":(classify|regress|predict)",
                           re.IGNORECASE)
_MODEL_PATH = re.compile(r"/v1/models(?:/([^/:]+))?" + _VERSION + r"(?:/(metadata))?",
                         re.IGNORECASE)
API_PATH = re.compile(r"/v1/.*", re.IGNORECASE)


def encode_response(outputs, row_format):
    """Signature outputs -> the response as a parsed object (see `json_encoding.make_json`)."""
    return json.loads(make_json(outputs, row_format))


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
    """TF Serving's error body."""
    return {"error": str(message)}


# --------------------------------------------------------------------------- protobuf JSON
def _json_scalar(field, value):
    kinds = type(field)
    if field.type == kinds.TYPE_MESSAGE:
        return proto_to_json(value)
    if field.type == kinds.TYPE_ENUM:
        known = field.enum_type.values_by_number.get(value)
        return known.name if known else value
    if field.type in (kinds.TYPE_INT64, kinds.TYPE_UINT64, kinds.TYPE_SINT64,
                      kinds.TYPE_FIXED64, kinds.TYPE_SFIXED64):
        return str(value)
    if field.type == kinds.TYPE_BYTES:
        return base64.b64encode(value).decode("ascii")
    if field.type in (kinds.TYPE_FLOAT, kinds.TYPE_DOUBLE) and value != value:
        return "NaN"
    return value


def proto_to_json(message):
    """A message -> what protobuf's JSON printer writes with TF Serving's options.

    `always_print_primitive_fields` and `preserve_proto_field_names`
    (http_rest_api_util.cc ToJsonString): fields without presence always,
    message and oneof fields when set, int64 as strings, enums by name,
    `google.protobuf.*Value` wrappers as their value.
    """
    descriptor = message.DESCRIPTOR
    if descriptor.full_name.startswith("google.protobuf.") and \
            descriptor.full_name.endswith("Value") and "value" in descriptor.fields_by_name:
        return _json_scalar(descriptor.fields_by_name["value"], message.value)
    result = {}
    for field in descriptor.fields:
        if field.has_presence and not message.HasField(field.name):
            continue
        value = getattr(message, field.name)
        entry = field.message_type and field.message_type.GetOptions().map_entry
        if entry:
            value_field = field.message_type.fields_by_name["value"]
            result[field.name] = {str(key): _json_scalar(value_field, item)
                                  for key, item in value.items()}
        elif field.is_repeated:
            result[field.name] = [_json_scalar(field, item) for item in value]
        else:
            result[field.name] = _json_scalar(field, value)
    return result


def read_signature_defs(export_dir):
    """The `serve` MetaGraph's SignatureDefs of a SavedModel: {name: SignatureDef}."""
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as handle:
        saved_model.ParseFromString(handle.read())
    for meta_graph in saved_model.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise ValueError(f"{export_dir} has no MetaGraph tagged 'serve'.")


def check_shapes(specs, inputs):
    """Refuses an input whose shape the signature does not declare, before the model runs.

    The signatures declare their ranks and sizes (`[None, H, W]`, `[None]`, ...);
    a request that breaks them gets the same words the graph's own check uses,
    with the shape that was sent. Inputs declared with unknown rank (exports
    made before the shapes were declared) are left to the graph.

    Args:
        specs: {input name: `tf.TensorSpec`} of the signature.
        inputs: {input name: array-like} of the request.

    Raises:
        RequestError: INVALID_ARGUMENT naming the input, its declared layout and
            the shape received.
    """
    for name, value in inputs.items():
        spec = specs.get(name)
        if spec is None or spec.shape.rank is None:
            continue
        declared = spec.shape.as_list()
        shape = np.shape(value)
        fits = (len(shape) == len(declared) and shape[0] > 0
                and all(size is None or size == got for size, got in zip(declared, shape)))
        if not fits:
            layout = ", ".join(["batch"] + [str(size) for size in declared[1:]])
            raise invalid(f"{name} must be {spec.dtype.name} [{layout}] with at least one row; "
                          f"got shape [{' '.join(str(size) for size in shape)}]")


# --------------------------------------------------------------------------- one version
class Predictor:
    """One loaded SavedModel version answering REST and gRPC requests.

    Args:
        export_dir: A version directory written by `seg2vid_tf.serving.export`.
        model_name: The name the model is served under.
        version: Its integer version.
        batching: `batching.BatchingParameters` to merge concurrent predicts
            (TF Serving's `--enable_batching`), or None to run each alone.
        batcher: A `batching.Batcher` shared with other versions (its threads
            run this version's batches from their own queues); `batching` is then
            not used.
    """

    def __init__(self, export_dir, model_name, version, batching=None, batcher=None):
        self.export_dir = export_dir
        self.model_name = model_name
        self.version = int(version)
        self._model = tf.saved_model.load(export_dir)
        self.signatures = dict(self._model.signatures)
        self.signature_defs = read_signature_defs(export_dir)
        info_path = os.path.join(export_dir, "assets.extra", "seg2vid_export.json")
        self.export_info = {}
        if os.path.isfile(info_path):
            with open(info_path, encoding="utf-8") as handle:
                self.export_info = json.load(handle)
        if batcher is None and batching is not None:
            batcher = batching_lib.Batcher(None, batching)
        self.batcher = batcher

    def input_specs(self, signature_name):
        """{input name: `tf.TensorSpec`} of a loaded signature."""
        _, specs = self._signature(signature_name).structured_input_signature
        return specs

    def _signature(self, signature_name):
        if signature_name not in self.signatures:
            raise invalid(f"Serving signature name: \"{signature_name}\" not found in "
                          "signature def")
        return self.signatures[signature_name]

    def input_dtypes(self, signature_name):
        """{input name: `tf.DType`} of a signature, from its SignatureDef (REST's GetInfoMap)."""
        if signature_name not in self.signature_defs:
            raise invalid(f"Serving signature name: \"{signature_name}\" not found in "
                          "signature def")
        return {name: tf.as_dtype(info.dtype)
                for name, info in sorted(self.signature_defs[signature_name].inputs.items())}

    def run(self, signature_name, inputs, output_names=None):
        """Runs a signature on NumPy inputs of its dtypes.

        Args:
            signature_name: A loaded signature.
            inputs: dict input name -> array.
            output_names: The outputs to return (all when `None`).

        Returns:
            dict output name -> NumPy array.

        Raises:
            RequestError: An input of a shape the signature does not declare
                (INVALID_ARGUMENT), or the graph's own error with its canonical code.
        """
        self._signature(signature_name)
        check_shapes(self.input_specs(signature_name), inputs)
        if self.batcher is None:
            outputs = self._run_now(signature_name, inputs)
        else:
            outputs = self.batcher.run(signature_name, inputs, run_now=self._run_now)
        names = sorted(outputs) if output_names is None else output_names
        return {name: outputs[name] for name in names}

    def _run_now(self, signature_name, inputs):
        """One call of the signature on checked inputs: all its outputs, as NumPy arrays."""
        function = self._signature(signature_name)
        specs = self.input_specs(signature_name)
        try:
            outputs = function(**{name: tf.constant(value, dtype=specs[name].dtype)
                                  for name, value in inputs.items()})
        except tf.errors.OpError as error:
            raise RequestError(clean_error_message(error.message),
                               code=_TF_CODES.get(error.error_code, "UNKNOWN")) from None
        except (TypeError, ValueError) as error:
            raise invalid(clean_error_message(error)) from None
        return {name: value.numpy() for name, value in outputs.items()}

    def predict_json(self, body):
        """A REST predict body (bytes, str or parsed object) -> TF Serving's response text."""
        signature_name, inputs, row_format = decode_request(body, self.input_dtypes)
        return make_json(self.run(signature_name, inputs), row_format)

    def predict(self, body):
        """A REST predict body -> the response as a parsed object."""
        return json.loads(self.predict_json(body))

    def version_status(self):
        """This version's entry in a GetModelStatus answer."""
        return {"version": str(self.version), "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""}}

    def status(self):
        """`GET /v1/models/<name>/versions/<this version>`."""
        return {"model_version_status": [self.version_status()]}

    def metadata(self):
        """`GET /v1/models/<name>/metadata`: the SignatureDefs, in TF Serving's layout."""
        return {"model_spec": {"name": self.model_name, "signature_name": "",
                               "version": str(self.version)},
                "metadata": {"signature_def": {"signature_def": {
                    name: proto_to_json(signature)
                    for name, signature in sorted(self.signature_defs.items())}}}}


# --------------------------------------------------------------------------- HTTP
def parse_model_path(method, path):
    """TF Serving's ParseModelInfo.

    Returns:
        `(model_name, version, label, verb)` (`verb`: `predict`, `metadata`, ... or
        `""`), or `None` when the path does not match the method's route.

    Raises:
        RequestError: A version beyond int64.
    """
    pattern = {"POST": _PREDICT_PATH, "GET": _MODEL_PATH}.get(method)
    match = pattern.fullmatch(path) if pattern else None
    if not match:
        return None
    name, version, label, verb = match.groups()
    name = urllib.parse.unquote(name or "", errors="surrogateescape")
    if version is not None:
        if int(version) >= 2 ** 63:
            raise invalid(f"Failed to convert version: {version} to numeric.")
        version = int(version)
    if label is not None:
        label = urllib.parse.unquote(label, errors="surrogateescape")
    return name, version, label, verb or ""


def handle_request(registry, method, path, body=b""):
    """One REST request under `/v1/` -> `(HTTP status, response JSON text)`.

    Args:
        registry: Has `get(name, version, label)` -> `Predictor` and
            `status(name, version)` -> dict (`seg2vid_tf.serving.local_server.ModelRegistry`).
        method: HTTP method.
        path: Request path without the query string.
        body: Request body.
    """
    try:
        parsed = parse_model_path(method, path)
        if parsed is None:
            raise invalid(f"Malformed request: {method} {path}")
        name, version, label, verb = parsed
        if method == "POST":
            if verb == "predict":
                document = parse_json(body)
                json_parsing.signature_of(document)  # checked before the model is looked up
                return 200, registry.get(name, version, label).predict_json(document)
            if verb in ("classify", "regress"):
                raise RequestError(f"The {verb} API is not served here: the seg2vid export has "
                                   "predict signatures only; use :predict.", code="UNIMPLEMENTED")
            raise invalid(f"Malformed request: {method} {path}")
        if not name:
            raise invalid("Missing model name in request.")
        if verb == "metadata":
            return 200, json.dumps(registry.get(name, version, label).metadata())
        return 200, json.dumps(registry.status(name, version))
    except RequestError as error:
        return error.status, json.dumps(error_response(error))
