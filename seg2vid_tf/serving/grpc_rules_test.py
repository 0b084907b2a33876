"""TF Serving's gRPC rules, row by row, against a local server (`serving.grpc_service`),
and the deliberate differences `docs/serving.md` lists.

Every row names the tensorflow/serving source or test it mirrors; expected codes and messages
are TF Serving's, never this code's output.
"""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from seg2vid_tf.serving.json_decoding import decode_request
from seg2vid_tf.serving.json_errors import RequestError
from seg2vid_tf.testing.tf_serving_rules import (
    ALL_VERSIONS,
    MODEL,
    PREDICT,
    PREDICT_TEST,
    http,
)


def _predict_request(name=MODEL, signature="", version=None, inputs=None, filters=(), spec=True,
                     label=None):
    request = predict_pb2.PredictRequest()
    if spec:
        request.model_spec.name = name
        request.model_spec.signature_name = signature
        if version is not None:
            request.model_spec.version.value = version
        if label is not None:
            request.model_spec.version_label = label
    for key, value in (inputs if inputs is not None else {"x": np.float32(2.0)}).items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    request.output_filter.extend(filters)
    return request


def _metadata_request(name=MODEL, fields=("signature_def",), spec=True):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=list(fields))
    if spec:
        request.model_spec.name = name
    return request


def _status_request(name=MODEL, version=None):
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = name
    if version is not None:
        request.model_spec.version.value = version
    return request


GRPC_RULES = [  # (rule, source, method, request, status code, message fragment)
    ("no-model-spec", f"{PREDICT_TEST} MissingOrEmptyModelSpec; predict_impl.cc", "Predict",
     _predict_request(spec=False), "INVALID_ARGUMENT", "Missing ModelSpec"),
    ("empty-model-name", "server_core.cc ServableRequestFromModelSpec", "Predict",
     _predict_request(name=""), "INVALID_ARGUMENT", "ModelSpec has no name specified."),
    ("unknown-model", "basic_manager.cc GetUntypedServableHandle", "Predict",
     _predict_request(name="foo"), "NOT_FOUND", "Servable not found for request: Latest(foo)"),
    ("unknown-version", "basic_manager.cc GetUntypedServableHandle", "Predict",
     _predict_request(version=9), "NOT_FOUND",
     f"Servable not found for request: Specific({MODEL}, 9)"),
    ("unknown-label", "server_core.cc GetModelVersionForLabel", "Predict",
     _predict_request(label="stable"), "INVALID_ARGUMENT",
     "Unrecognized servable version label: stable"),
    ("unknown-signature", f"{PREDICT} RunPredict (FailedPrecondition)", "Predict",
     _predict_request(signature="nope"), "FAILED_PRECONDITION",
     'Serving signature key "nope" not found.'),
    ("init-op-method-name", f"{PREDICT} VerifySignature", "Predict",
     _predict_request(signature="__saved_model_init_op"), "INTERNAL",
     "Expected prediction signature method_name to be one of"),
    ("inputs-do-not-match", f"{PREDICT_TEST} InputTensorsDontMatchModelSpecInputs", "Predict",
     _predict_request(inputs={"unknown_key1": np.array([b"any_value"]),
                              "unknown_key2": np.float32([1.0])}), "INVALID_ARGUMENT",
     "input size does not match signature: 2!=1 len({unknown_key1,unknown_key2}) != len({x}). "
     "Sent extra: {unknown_key1,unknown_key2}. Missing but required: {x}."),
    ("input-alias-not-found", f"{PREDICT} PreProcessPrediction", "Predict",
     _predict_request(inputs={"z": np.float32(1)}), "INVALID_ARGUMENT",
     "input tensor alias not found in signature: z. Inputs expected to be in the set {x}."),
    ("bool-for-float", f"{PREDICT_TEST} PredictionInvalidTensor", "Predict",
     _predict_request(inputs={"x": np.array(True)}), "INVALID_ARGUMENT",
     "Expects arg[0] to be float but bool is provided"),
    ("string-for-float", f"{PREDICT_TEST} InputTensorsHaveWrongType", "Predict",
     _predict_request(inputs={"x": np.array([b"any_value"])}, filters=["y"]), "INVALID_ARGUMENT",
     "to be float but string is provided"),
    ("unknown-output-filter", f"{PREDICT_TEST} OutputFiltersDontMatchModelSpecOutputs", "Predict",
     _predict_request(filters=["output_filter"]), "INVALID_ARGUMENT",
     "output tensor alias not found in signature: output_filter"),
    ("duplicate-output-filter", f"{PREDICT_TEST} OutputFiltersDontMatchModelSpecOutputs",
     "Predict", _predict_request(filters=["y", "y"]), "INVALID_ARGUMENT",
     "duplicate output tensor alias: y"),
    ("graph-error", f"{PREDICT} session->Run status", "Predict",
     _predict_request(signature="checked", inputs={"ids": np.int32([25])}), "INVALID_ARGUMENT",
     "ids < 20"),
    ("long-message-truncated", "grpc_status_util.cc ToGRPCStatus (1024 + ...TRUNCATED)", "Predict",
     _predict_request(signature="s" * 2000), "FAILED_PRECONDITION",
     'Serving signature key "' + "s" * 1001 + "...TRUNCATED"),
    ("metadata-no-model-spec", "get_model_metadata_impl.cc GetModelMetadata", "GetModelMetadata",
     _metadata_request(spec=False), "INVALID_ARGUMENT", "Missing ModelSpec"),
    ("metadata-no-field", "get_model_metadata_impl.cc ValidateGetModelMetadataRequest",
     "GetModelMetadata", _metadata_request(fields=()), "INVALID_ARGUMENT",
     "GetModelMetadataRequest must specify at least one metadata_field"),
    ("metadata-unknown-model", "get_model_metadata_impl.cc SavedModelGetSignatureDef",
     "GetModelMetadata", _metadata_request(name="foo"), "NOT_FOUND",
     "Servable not found for request: Latest(foo)"),
    ("status-unknown-model", "get_model_status_impl.cc", "GetModelStatus",
     _status_request(name="foo"), "NOT_FOUND", "Could not find any versions of model foo"),
    ("status-unknown-version", "get_model_status_impl.cc", "GetModelStatus",
     _status_request(version=9), "NOT_FOUND", f"Could not find version 9 of model {MODEL}"),
    ("status-no-model-spec", "get_model_status_impl.cc GetModelStatus", "GetModelStatus",
     get_model_status_pb2.GetModelStatusRequest(), "INVALID_ARGUMENT", "Missing ModelSpec"),
]


def _stub_method(channel, method):
    if method == "GetModelStatus":
        return getattr(model_service_pb2_grpc.ModelServiceStub(channel), method)
    return getattr(prediction_service_pb2_grpc.PredictionServiceStub(channel), method)


@pytest.mark.parametrize("rule, source, method, request_proto, code, fragment", GRPC_RULES,
                         ids=[row[0] for row in GRPC_RULES])
def test_grpc_rules(servers, rule, source, method, request_proto, code, fragment):
    del rule, source
    with pytest.raises(grpc.RpcError) as caught:
        _stub_method(servers[1], method)(request_proto, timeout=60)
    assert caught.value.code() == grpc.StatusCode[code], caught.value.details()
    assert fragment in caught.value.details()


def test_grpc_predict_success_answers_in_typed_fields(servers):
    """predict_util_test.cc PredictionSuccess: y = 3 for x = 2, model_spec with the signature."""
    response = _stub_method(servers[1], "Predict")(_predict_request(version=1), timeout=60)
    assert response.model_spec.name == MODEL and response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"
    assert list(response.outputs) == ["y"] and list(response.outputs["y"].float_val) == [3.0]
    assert response.outputs["y"].dtype == tf.float32.as_datatype_enum


def test_grpc_output_filter_returns_only_the_named_outputs(servers):
    """predict_util.cc PreProcessPrediction: only the output_filter's aliases are fetched."""
    inputs = {"a": np.int32([1]), "b": np.float64([0.5]), "flag": np.array([True]),
              "text_bytes": np.array([b"\x00\x01"])}
    response = _stub_method(servers[1], "Predict")(
        _predict_request(signature="echo", inputs=inputs, filters=["a", "text_bytes"]), timeout=60)
    assert sorted(response.outputs) == ["a", "text_bytes"]
    assert list(response.outputs["a"].int_val) == [2]
    assert list(response.outputs["text_bytes"].string_val) == [b"\x00\x01"]


def test_grpc_metadata_and_status_carry_what_rest_does(servers):
    """get_model_metadata_impl.cc (SignatureDefMap packed in Any) and GetModelStatus, newest
    version first, with the same content as REST /metadata and /v1/models/NAME."""
    from seg2vid_tf.serving import rest  # pylint: disable=import-outside-toplevel

    metadata = _stub_method(servers[1], "GetModelMetadata")(_metadata_request(), timeout=60)
    assert metadata.model_spec.name == MODEL and metadata.model_spec.version.value == 2
    assert not metadata.model_spec.signature_name
    packed = metadata.metadata["signature_def"]
    assert packed.type_url == "type.googleapis.com/tensorflow.serving.SignatureDefMap"
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert packed.Unpack(signature_map)
    _, over_rest = http(servers[0], "GET", f"/v1/models/{MODEL}/metadata")
    assert rest.proto_to_json(signature_map) == over_rest["metadata"]["signature_def"]
    status = _stub_method(servers[1], "GetModelStatus")(_status_request(), timeout=60)
    assert [(entry.version, get_model_status_pb2.ModelVersionStatus.State.Name(entry.state),
             entry.status.error_code) for entry in status.model_version_status] == [
        (2, "AVAILABLE", 0), (1, "AVAILABLE", 0)]
    assert rest.proto_to_json(status) == ALL_VERSIONS


def test_deliberate_differences_are_what_docs_serving_md_lists(servers):
    """Not TF Serving's behaviour, on purpose: json_tensor.cc takes any int32 for uint8 (the
    tensor wraps 300 to 44); get_model_metadata_impl.cc writes 'Metadata field %s is not
    supported' literally, followed by the field."""
    with pytest.raises(RequestError, match="outside 0..255"):
        decode_request('{"inputs": [300]}', {"x": tf.uint8})
    with pytest.raises(grpc.RpcError) as caught:
        _stub_method(servers[1], "GetModelMetadata")(_metadata_request(fields=["other"]),
                                                     timeout=60)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "Metadata field other is not supported"
