"""TF Serving's gRPC `PredictionService` and `ModelService` for the locally loaded versions.

`seg2vid_tf.serve --grpc_port=8500` answers gRPC clients (such as
`seg2vid_tf.client --grpc=...`) the way `tensorflow_model_server` does for the
same export, checks and status codes in TF Serving's order
(`servables/tensorflow/predict_util.cc`, `get_model_metadata_impl.cc`,
`model_servers/get_model_status_impl.cc`, `server_core.cc`):

* `Predict`: `INVALID_ARGUMENT` `Missing ModelSpec` / `ModelSpec has no name
  specified.`; `NOT_FOUND` `Servable not found for request: Latest(NAME)`;
  `FAILED_PRECONDITION` `Serving signature key "S" not found.`; then
  `INVALID_ARGUMENT` for the inputs (`input size does not match signature ...`,
  `input tensor alias not found in signature ...`, `tensor parsing error: X`),
  the `output_filter` (`output tensor alias not found in signature ...`,
  `duplicate output tensor alias: X`; only the named outputs come back), a
  dtype (`Expects arg[i] to be int32 but int64 is provided`) and the graph's
  own checks. Outputs are written into the typed value fields
  (`Tensor::AsProtoField`), the answer's `model_spec` names the version and
  signature that ran.
* `GetModelMetadata`: the `signature_def` field only, as a packed
  `SignatureDefMap` (the same SignatureDefs as REST `/metadata`).
* `ModelService.GetModelStatus`: the versions, newest first.
* Messages over 1024 characters end in `...TRUNCATED` (grpc_status_util.cc).
"""

from concurrent import futures

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from seg2vid_tf.serving import rest
from seg2vid_tf.serving.json_errors import RequestError, invalid, type_name

MESSAGE_LIMIT = 1024
SIGNATURE_DEF = "signature_def"
# Tensor::AsProtoField: the repeated field that holds each dtype's values.
_VALUE_FIELDS = {"float": "float_val", "double": "double_val", "int32": "int_val",
                 "int16": "int_val", "int8": "int_val", "uint8": "int_val", "uint16": "int_val",
                 "int64": "int64_val", "uint32": "uint32_val", "uint64": "uint64_val",
                 "bool": "bool_val", "string": "string_val"}


def _abort(context, error):
    message = str(error)
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT] + "...TRUNCATED"
    context.abort(grpc.StatusCode[error.code], message)


def _set(names):
    return "{" + ",".join(sorted(names)) + "}"


def _find_predictor(registry, request):
    """The version a request's `model_spec` names (ServerCore::GetServableHandle)."""
    if not request.HasField("model_spec"):
        raise invalid("Missing ModelSpec")
    spec = request.model_spec
    version = spec.version.value if spec.HasField("version") else None
    label = spec.version_label if spec.WhichOneof("version_choice") == "version_label" else None
    return registry.get(spec.name, version, label)


def as_proto_field(array):
    """A NumPy array -> TensorProto with its values in the typed repeated field."""
    array = np.asarray(array)
    dtype = tf.string if array.dtype.kind in "OSU" else tf.as_dtype(array.dtype)
    field = _VALUE_FIELDS.get(type_name(dtype))
    if field is None:
        return tf.make_tensor_proto(array)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum)
    proto.tensor_shape.CopyFrom(tf.TensorShape(array.shape).as_proto())
    values = array.reshape(-1).tolist()
    if dtype == tf.string:
        values = [item if isinstance(item, bytes) else str(item).encode() for item in values]
    getattr(proto, field).extend(values)
    return proto


def _check_inputs(signature, request):
    """Input names, then each TensorProto (PreProcessPrediction) -> {alias: array}."""
    expected, given = set(signature.inputs), set(request.inputs)
    if len(given) != len(expected):
        raise invalid(f"input size does not match signature: {len(given)}!={len(expected)} "
                      f"len({_set(given)}) != len({_set(expected)}). Sent extra: "
                      f"{_set(given - expected)}. Missing but required: "
                      f"{_set(expected - given)}.")
    arrays = {}
    for alias in sorted(given):
        if alias not in expected:
            raise invalid(f"input tensor alias not found in signature: {alias}. Inputs expected "
                          f"to be in the set {_set(expected)}.")
        try:
            arrays[alias] = tf.make_ndarray(request.inputs[alias])
        except Exception:  # pylint: disable=broad-except
            raise invalid(f"tensor parsing error: {alias}") from None
    return arrays


def _check_output_filter(signature, request):
    seen = []
    for alias in request.output_filter:
        if alias not in signature.outputs:
            raise invalid(f"output tensor alias not found in signature: {alias} Outputs expected "
                          f"to be in the set {_set(signature.outputs)}.")
        if alias in seen:
            raise invalid(f"duplicate output tensor alias: {alias}")
        seen.append(alias)
    return seen or None


def _check_dtypes(signature, request):
    """The session's feed check; arg[i] counts the inputs in sorted tensor-name order."""
    order = sorted(signature.inputs, key=lambda alias: signature.inputs[alias].name)
    for index, alias in enumerate(order):
        want, got = signature.inputs[alias].dtype, request.inputs[alias].dtype
        if want != got:
            raise invalid(f"Expects arg[{index}] to be {type_name(want)} but "
                          f"{type_name(got)} is provided")


def predict(registry, request):
    """`PredictRequest` -> `PredictResponse`; RequestError in TF Serving's order and words."""
    predictor = _find_predictor(registry, request)
    signature_name = request.model_spec.signature_name or rest.DEFAULT_SIGNATURE
    signature = predictor.signature_defs.get(signature_name)
    if signature is None:
        raise RequestError(f"Serving signature key \"{signature_name}\" not found.",
                           code="FAILED_PRECONDITION")
    if signature.method_name not in rest.PREDICT_METHODS:
        raise RequestError("Expected prediction signature method_name to be one of {"
                           + ", ".join(rest.PREDICT_METHODS) + "}. Was: "
                           + signature.method_name, code="INTERNAL")
    arrays = _check_inputs(signature, request)
    output_names = _check_output_filter(signature, request)
    _check_dtypes(signature, request)
    outputs = predictor.run(signature_name, arrays, output_names)
    response = predict_pb2.PredictResponse()
    response.model_spec.name = request.model_spec.name
    response.model_spec.version.value = predictor.version
    response.model_spec.signature_name = signature_name
    for name, value in outputs.items():
        response.outputs[name].CopyFrom(as_proto_field(value))
    return response


def model_metadata(registry, request):
    """`GetModelMetadataRequest` -> response with the packed `SignatureDefMap`."""
    if not request.HasField("model_spec"):
        raise invalid("Missing ModelSpec")
    if not request.metadata_field:
        raise invalid("GetModelMetadataRequest must specify at least one metadata_field")
    for field in request.metadata_field:
        if field != SIGNATURE_DEF:
            raise invalid(f"Metadata field {field} is not supported")
    predictor = _find_predictor(registry, request)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for name, signature in predictor.signature_defs.items():
        signature_map.signature_def[name].CopyFrom(signature)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    response.model_spec.name = predictor.model_name
    response.model_spec.version.value = predictor.version
    response.metadata[SIGNATURE_DEF].Pack(signature_map)
    return response


def model_status(registry, request):
    """`GetModelStatusRequest` -> the versions' states (GetModelStatusImpl)."""
    if not request.HasField("model_spec"):
        raise invalid("Missing ModelSpec")
    spec = request.model_spec
    answer = registry.status(spec.name, spec.version.value if spec.HasField("version") else None)
    response = get_model_status_pb2.GetModelStatusResponse()
    for entry in answer["model_version_status"]:
        status = response.model_version_status.add()
        status.version = int(entry["version"])
        status.state = get_model_status_pb2.ModelVersionStatus.State.Value(entry["state"])
        status.status.error_message = entry["status"]["error_message"]
    return response


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """`Predict` and `GetModelMetadata` over a `seg2vid_tf.serving.local_server.ModelRegistry`."""

    def __init__(self, registry):
        self.registry = registry

    def Predict(self, request, context):  # pylint: disable=invalid-name
        try:
            return predict(self.registry, request)
        except RequestError as error:
            return _abort(context, error)

    def GetModelMetadata(self, request, context):  # pylint: disable=invalid-name
        try:
            return model_metadata(self.registry, request)
        except RequestError as error:
            return _abort(context, error)


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    """`GetModelStatus` over a `seg2vid_tf.serving.local_server.ModelRegistry` (no config reloads)."""

    def __init__(self, registry):
        self.registry = registry

    def GetModelStatus(self, request, context):  # pylint: disable=invalid-name
        try:
            return model_status(self.registry, request)
        except RequestError as error:
            return _abort(context, error)


def make_grpc_server(registry, host="127.0.0.1", port=8500, max_workers=8,
                     max_message_mb=64.0):
    """A started gRPC server; returns `(server, bound_port)` (`port=0` picks a free one)."""
    limit = int(max_message_mb * 1024 * 1024)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers),
                         options=[("grpc.max_receive_message_length", limit),
                                  ("grpc.max_send_message_length", limit)])
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionService(registry), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(registry), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    return server, bound
