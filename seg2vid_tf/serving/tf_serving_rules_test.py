"""TF Serving's own rules, row by row, against the codec and local REST and gRPC servers.

Every row names the tensorflow/serving source or test it mirrors; expected values are TF
Serving's (its tests' inputs and answers, its messages), never this code's output. The model
is TF Serving's `half_plus_two` (y = 0.5 x + 2) in two versions, plus signatures for the
api_rest.md example, dtypes, batch sizes and graph errors.
"""

import json
import re
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from seg2vid_tf import serve
from seg2vid_tf.serving import grpc_service, json_tensor

MODEL = "half_plus_two"
JT, JTT = "util/json_tensor.cc", "util/json_tensor_test.cc"
HANDLER, HANDLER_TEST = "http_rest_api_handler.cc", "http_rest_api_handler_test.cc"
PREDICT, PREDICT_TEST = "predict_util.cc", "predict_util_test.cc"
INT32, FLOAT, DOUBLE, STRING = tf.int32, tf.float32, tf.float64, tf.string
B64_HELLO, B64_WORLD = {"b64": "aGVsbG8="}, {"b64": "d29ybGQ="}


class _Model(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def half_plus_two(self, x):
        return {"y": x * 0.5 + 2.0}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def half_plus_three(self, x):
        return {"y": x * 0.5 + 3.0}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.int32), tf.TensorSpec(None, tf.float64),
                                  tf.TensorSpec(None, tf.bool), tf.TensorSpec(None, tf.string)])
    def echo(self, a, b, flag, text_bytes):
        return {"a": a + 1, "b": b, "flag": flag, "text_bytes": text_bytes}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def split(self, x):
        return {"y": x * 0.5 + 2.0, "head": x[:1]}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.int32)])
    def checked(self, ids):
        with tf.control_dependencies([tf.debugging.assert_less(ids, 20, message="ids < 20")]):
            return {"ids": tf.identity(ids)}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """`(rest_url, grpc_channel)` of a local server of two versions."""
    base = tmp_path_factory.mktemp("half_plus_two")
    module = _Model()
    signatures = {"serving_default": module.half_plus_two, "echo": module.echo,
                  "half_plus_three": module.half_plus_three,
                  "split": module.split, "checked": module.checked}
    for version in (1, 2):
        tf.saved_model.save(module, str(base / str(version)), signatures=signatures)
    server = serve.make_server(str(base), MODEL, port=0)
    serve.start_in_thread(server)
    grpc_server, port = grpc_service.make_grpc_server(server.registry, port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield f"http://127.0.0.1:{server.server_address[1]}", channel
    channel.close()
    grpc_server.stop(grace=None)
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------- JSON -> tensors
def ok(row_format, **arrays):
    return ("ok", row_format, arrays)


def err(fragment, code="INVALID_ARGUMENT"):
    return ("error", code, fragment)


DECODE_RULES = [  # (rule, source, input dtypes, body, expected)
    ("row-unnamed-int", f"{JTT} SingleUnnamedTensor", {"default": INT32},
     {"instances": [[1, 2], [3, 4], [5, 6]]}, ok(True, default=np.int32([[1, 2], [3, 4], [5, 6]]))),
    ("row-mixed-float", f"{JTT} MixedInputForFloatTensor", {"default": FLOAT},
     {"instances": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]},
     ok(True, default=np.float32([1, 2, 3, 4, 5.003, 0.007, 0]))),
    ("row-mixed-double", f"{JTT} MixedInputForDoubleTensor", {"default": DOUBLE},
     {"instances": [1.0, 2, 3, 4, 0.662, 0, 0.0]},
     ok(True, default=np.float64([1, 2, 3, 4, 0.662, 0, 0]))),
    ("row-b64-scalars", f"{JTT} SingleUnnamedTensorBase64Scalars", {"default": STRING},
     {"instances": [B64_HELLO, B64_WORLD]}, ok(True, default=np.array([b"hello", b"world"]))),
    ("row-b64-lists", f"{JTT} SingleUnnamedTensorBase64Lists", {"default": STRING},
     {"instances": [[B64_HELLO], [B64_WORLD]]},
     ok(True, default=np.array([[b"hello"], [b"world"]]))),
    ("row-single-named-b64", f"{JTT} SingleNamedTensorBase64", {"default": STRING},
     {"instances": [{"default": [[B64_HELLO], [B64_WORLD]]}]},
     ok(True, default=np.array([[[b"hello"], [b"world"]]]))),
    ("row-multiple-named-nan-inf", f"{JTT} MultipleNamedTensor",
     {"int_tensor": INT32, "str_tensor": STRING, "float_tensor": FLOAT, "dbl_tensor": DOUBLE},
     '{"instances": [{"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"], '
     '"float_tensor": [1.0, NaN], "dbl_tensor": [NaN]}, {"int_tensor": [[7,8],[9,0],[1,2]], '
     '"str_tensor": ["baz", "bat"], "float_tensor": [2.0, Infinity], "dbl_tensor": [2.0]}]}',
     ok(True, int_tensor=np.int32([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]]),
        str_tensor=np.array([[b"foo", b"bar"], [b"baz", b"bat"]]),
        float_tensor=np.float32([[1, np.nan], [2, np.inf]]),
        dbl_tensor=np.float64([[np.nan], [2]]))),
    ("columnar-named", f"{JTT} SingleUnnamedTensorColumnarFormat", {"int_tensor": INT32},
     {"inputs": {"int_tensor": [[[1, 2], [3, 4], [5, 6]]]}},
     ok(False, int_tensor=np.int32([[[1, 2], [3, 4], [5, 6]]]))),
    ("columnar-bare-single-input", f"{JTT} SingleUnnamedTensorColumnarFormat",
     {"int_tensor": INT32}, {"inputs": [[[1, 2], [3, 4], [5, 6]]]},
     ok(False, int_tensor=np.int32([[[1, 2], [3, 4], [5, 6]]]))),
    ("columnar-b64-scalar", f"{JTT} MultipleNamedTensorColumnarFormat",
     {"str_tensor": STRING, "bin_tensor": STRING},
     {"inputs": {"str_tensor": ["foo", "bar"], "bin_tensor": B64_HELLO}},
     ok(False, str_tensor=np.array([b"foo", b"bar"]), bin_tensor=np.array(b"hello"))),
    ("empty-document", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32}, "",
     err("JSON Parse error: The document is empty")),
    ("signature-name-not-string", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"signature_name": 5, "instances": [[1, 2]]},
     err("'signature_name' key must be a string value.")),
    ("instances-and-inputs", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [[1, 2]], "inputs": [[1, 2]]},
     err("Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist")),
    ("row-size-mismatch", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [[1, 2], [3, 4], [5, 6, 7]]},
     err("Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: "
         "Expecting tensor size: 2 but got: 3")),
    ("row-shape-mismatch", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [[1, 2], [3, 4], [[5, 6]]]}, err("Expecting shape [2] but got: [1,2]")),
    ("row-scalar-then-list", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [1, [1]]}, err("Expecting shape [] but got: [1]")),
    ("string-in-int-tensor", f"{JTT} SingleUnnamedTensorErrors", {"default": INT32},
     {"instances": [[1, 2], ["a", "b"]]},
     err('JSON Value: "a" Type: String is not of expected type: int32')),
    ("float-dbl-max-lossy", f"{JTT} SingleUnnamedTensorErrors", {"default": FLOAT},
     '{"instances": [1.7976931348623157e+308]}',
     err("Cannot convert JSON value: 1.7976931348623157e+308 to float without loss of precision.")),
    ("float-int-2^24+1-lossy", f"{JTT} SingleUnnamedTensorErrors", {"default": FLOAT},
     {"instances": [16777217]}, err("Cannot convert JSON value: 16777217 to float without loss")),
    ("double-int-2^53+1-lossy", f"{JTT} SingleUnnamedTensorErrors", {"default": DOUBLE},
     {"instances": [9007199254740993]},
     err("Cannot convert JSON value: 9007199254740993 to double without loss of precision.")),
    ("named-rows-shape-mismatch", f"{JTT} MultipleNamedTensorErrors",
     {"int_tensor": INT32, "str_tensor": STRING},
     {"instances": [{"int_tensor": [[1, 2], [3, 4], [5, 6]], "str_tensor": ["foo", "bar"]},
                    {"int_tensor": [[[7, 8], [9, 0], [1, 2]]], "str_tensor": ["baz", "bat"]}]},
     err("Failed to process element: 1 key: int_tensor of 'instances' list. Error: "
         "INVALID_ARGUMENT: Expecting shape [3,2] but got: [1,3,2]")),
    ("named-rows-size-mismatch", f"{JTT} MultipleNamedTensorErrors",
     {"int_tensor": INT32, "str_tensor": STRING},
     {"instances": [{"int_tensor": [[1, 2], [3, 4], [5, 6], [7, 8]], "str_tensor": ["a", "b"]},
                    {"int_tensor": [[7, 8], [9, 0], [1, 2]], "str_tensor": ["c", "d"]}]},
     err("Expecting tensor size: 8 but got: 6")),
    ("object-row-then-list", f"{JTT} MultipleNamedTensorErrors",
     {"int_tensor": INT32, "str_tensor": STRING},
     {"instances": [{"int_tensor": [1], "str_tensor": ["foo"]}, [1, 20, 30]]},
     err("Expecting object but got list at item 1 of input list")),
    ("list-row-then-object", f"{JTT} MultipleNamedTensorErrors", {"str_tensor": STRING},
     {"instances": [["baz", "bar"], {"str_tensor": ["baz", "bat"]}]},
     err("Expecting value/list but got object at item 1 of input list")),
    ("other-top-level-keys-ignored", f"{JT} FillPredictRequestFromJson reads 3 keys only",
     {"x": FLOAT}, {"parameters": {"k": 1}, "instances": [1.5]}, ok(True, x=np.float32([1.5]))),
    ("columnar-unknown-key-ignored", f"{JT} FillTensorMapFromInputsMap (signature's keys)",
     {"a": INT32, "b": STRING}, {"inputs": {"a": [1], "b": ["x"], "extra": 5}},
     ok(False, a=np.int32([1]), b=np.array([b"x"]))),
    ("columnar-missing-input", f"{JT} FillTensorMapFromInputsMap", {"a": INT32, "seed": INT32},
     {"inputs": {"a": [1]}}, err("Missing named input: seed in 'inputs' object.")),
    ("row-unknown-key", f"{JT} AddInstanceItem", {"a": INT32, "b": STRING},
     {"instances": [{"a": 1, "b": "x", "c": 2}]},
     err("Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: "
         "JSON object: does not have named input: c")),
    ("row-missing-key", f"{JT} FillTensorMapFromInstancesList", {"a": INT32, "b": STRING},
     {"instances": [{"a": 1}]}, err("must only have keys: a,b")),
    ("decimal-in-int-tensor", f"{JT} AddValueToTensor (IsInt)", {"x": INT32},
     {"inputs": [1.0]}, err("JSON Value: 1.0 Type: Number is not of expected type: int32")),
    ("int32-overflow", f"{JT} AddValueToTensor (IsInt)", {"x": INT32}, {"inputs": [2147483648]},
     err("JSON Value: 2147483648 Type: Number is not of expected type: int32")),
    ("int64-overflow", f"{JT} AddValueToTensor (IsInt64)", {"x": tf.int64},
     {"inputs": [9223372036854775808]}, err("is not of expected type: int64")),
    ("uint32-negative", f"{JT} AddValueToTensor (IsUint)", {"x": tf.uint32}, {"inputs": [-1]},
     err("JSON Value: -1 Type: Number is not of expected type: uint32")),
    ("uint64-max", f"{JT} AddValueToTensor (IsUint64)", {"x": tf.uint64},
     {"inputs": [18446744073709551615]}, ok(False, x=np.uint64([18446744073709551615]))),
    ("bool-takes-true-false", f"{JT} AddValueToTensor (IsBool)", {"x": tf.bool},
     {"inputs": [True, False]}, ok(False, x=np.array([True, False]))),
    ("bool-refuses-numbers", f"{JT} AddValueToTensor (IsBool)", {"x": tf.bool}, {"inputs": [1]},
     err("JSON Value: 1 Type: Number is not of expected type: bool")),
    ("string-refuses-numbers", f"{JT} AddValueToTensor (IsString)", {"x": STRING},
     {"inputs": [5]}, err("JSON Value: 5 Type: Number is not of expected type: string")),
    ("object-in-float-tensor", f"{JT} FillTensorProto (object -> TypeError)", {"x": FLOAT},
     {"inputs": [{"b64": "AA=="}]}, err("Type: Object is not of expected type: float")),
    ("b64-object-one-string-key", f"{JT} IsValBase64Object", {"x": STRING},
     {"inputs": [{"b64": "AA==", "extra": 1}]}, err("not formatted correctly for base64 data")),
    ("b64-undecodable", f"{JT} JsonDecodeBase64Object", {"x": STRING},
     {"inputs": [{"b64": "!!!"}]}, err("Unable to base64 decode")),
    ("b64-unpadded-accepted", f"{JT} absl::Base64Unescape (padding optional)", {"x": STRING},
     {"inputs": [{"b64": "d29ybGQ"}]}, ok(False, x=np.array([b"world"]))),
    ("float-int-limit-2^24-1", f"{JT} IsLosslessDecimal<float> kMaxInt", {"x": FLOAT},
     {"inputs": [16777215, -16777215]}, ok(False, x=np.float32([16777215, -16777215]))),
    ("float-int-2^24-lossy", f"{JT} IsLosslessDecimal<float> kMaxInt", {"x": FLOAT},
     {"inputs": [16777216]}, err("16777216 to float without loss of precision")),
    ("float-decimal-range", f"{JT} IsLosslessDecimal<float> (max/lowest)", {"x": FLOAT},
     '{"inputs": [1e38, -1e38, Infinity]}', ok(False, x=np.float32([1e38, -1e38, np.inf]))),
    ("float-decimal-beyond-flt-max", f"{JT} IsLosslessDecimal<float>", {"x": FLOAT},
     '{"inputs": [3.5e38]}', err("Cannot convert JSON value: 3.5e+38 to float without loss")),
    ("nan-in-int-tensor", f"{JT} AddValueToTensor (NaN is a double)", {"x": INT32},
     '{"inputs": [NaN]}', err("JSON Value: NaN Type: Number is not of expected type: int32")),
    ("instances-not-list", f"{JT} FillPredictRequestFromJson", {"x": FLOAT},
     {"instances": 5}, err("Excepting 'instances' to be an list/array")),
    ("instances-empty", f"{JT} FillPredictRequestFromJson", {"x": FLOAT},
     {"instances": []}, err("No values in 'instances' array")),
    ("no-instances-no-inputs", f"{JT} FillPredictRequestFromJson", {"x": FLOAT},
     {"signature_name": "serving_default"}, err("Missing 'inputs' or 'instances' key")),
    ("plain-rows-several-inputs", f"{JT} FillTensorMapFromInstancesList", {"a": INT32, "b": INT32},
     {"instances": [1, 2]}, err("instances is a plain list, but expecting list of objects")),
    ("bare-inputs-several-inputs", f"{JT} FillTensorMapFromInputsMap", {"a": INT32, "b": INT32},
     {"inputs": [1, 2]}, err("inputs is a plain value/list, but expecting an object")),
    ("document-not-object", f"{JT} ParseJson", {"x": FLOAT}, "[1]", err("Is not object")),
    ("bad-json", f"{HANDLER_TEST} PredictRequestErrors", {"x": FLOAT}, "instances = [1, 2]",
     err("JSON Parse error: Invalid value")),
    ("list-below-rank", f"{JT} FillTensorProto", {"x": INT32}, {"inputs": [[1, 2], [3, [4]]]},
     err("Encountered list at unexpected level: 2 expected < 2")),
    ("value-above-rank", f"{JT} FillTensorProto", {"x": INT32}, {"inputs": [[1, 2], 3]},
     err("JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2")),
    ("ragged-list", f"{JT} FillTensorProto", {"x": INT32}, {"inputs": [[1, 2], [3]]},
     err("Encountered list at unexpected size: 1 at level: 1 expected size: 2")),
    ("unsupported-dtype", f"{JT} AddValueToTensor default", {"x": tf.float16}, {"inputs": [1]},
     err("Conversion of JSON Value: 1 to type: half", "UNIMPLEMENTED")),
    ("empty-signature-name-default", f"{HANDLER} GetInfoMap", {"x": FLOAT},
     {"signature_name": "", "inputs": [1]}, ok(False, x=np.float32([1]))),
]


@pytest.mark.parametrize("rule, source, dtypes, body, expected", DECODE_RULES,
                         ids=[row[0] for row in DECODE_RULES])
def test_json_to_tensors(rule, source, dtypes, body, expected):
    del rule, source
    body = body if isinstance(body, str) else json.dumps(body)
    if expected[0] == "error":
        with pytest.raises(json_tensor.RequestError) as caught:
            json_tensor.decode_request(body, dtypes)
        assert caught.value.code == expected[1] and expected[2] in str(caught.value)
        return
    _, inputs, row_format = json_tensor.decode_request(body, dtypes)
    assert row_format == expected[1] and sorted(inputs) == sorted(expected[2])
    for name, want in expected[2].items():
        got = inputs[name]
        assert got.shape == want.shape, name
        if want.dtype.kind == "S":
            assert got.dtype == object and got.tolist() == want.tolist()
        else:
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- tensors -> JSON
ENCODE_RULES = [  # (rule, source, outputs, row_format, expected JSON text or error fragment)
    ("int-tensor-row", f"{JTT} FromJsonSingleTensor",
     {"int_tensor": np.int32([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]])}, True,
     '{"predictions": [[[1,2],[3,4],[5,6]],[[7,8],[9,0],[1,2]]]}'),
    ("int-tensor-columnar", f"{JTT} FromJsonSingleTensor",
     {"int_tensor": np.int32([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]])}, False,
     '{"outputs": [[[1,2],[3,4],[5,6]],[[7,8],[9,0],[1,2]]]}'),
    ("scalar-rows", f"{JTT} FromJsonSingleScalarTensor", {"int_tensor": np.int32([1, 2, 3, 4, 5])},
     True, '{"predictions": [1,2,3,4,5]}'),
    ("bytes-suffix-b64", f"{JTT} FromJsonSingleBytesTensor",
     {"str_tensor_bytes": np.array([[b"hello", b"world"], [b"tf", b"serving"]], object)}, True,
     '{"predictions": [[{"b64":"aGVsbG8="},{"b64":"d29ybGQ="}],[{"b64":"dGY="},'
     '{"b64":"c2VydmluZw=="}]]}'),
    ("float-six-digits", f"{JTT} FromJsonSingleFloatTensorSixDigitPrecision",
     {"float_tensor": np.float32([[9000000, 999999, 0.5], [.0003, .00003, 555557.5]])}, True,
     '{"predictions": [[9e+06,999999.0,0.5],[0.0003,3e-05,555557.5]]}'),
    ("float-non-finite", f"{JTT} FromJsonSingleFloatTensorNonFinite",
     {"float_tensor": np.float32([[np.nan, np.inf], [3, -np.inf]])}, True,
     '{"predictions": [[NaN,Infinity],[3.0,-Infinity]]}'),
    ("float-max-digits10", f"{JT} WriteDecimal (%.*g max_digits10)",
     {"y": np.float32([1 / 3, 0.1])}, False, '{"outputs": [0.333333343,0.1]}'),
    ("double-max-digits10", f"{JT} WriteDecimal<double>", {"y": np.float64([1 / 3, 8.0])}, False,
     '{"outputs": [0.33333333333333331,8.0]}'),
    ("multiple-named-rows", f"{JTT} FromJsonMultipleNamedTensors",
     {"double_scalar_tensor": np.float64([8, 9]), "float_tensor": np.float32([[1], [2]]),
      "str_tensor": np.array([[b"foo", b"bar"], [b"baz", b"bat"]], object)}, True,
     '{"predictions": [{"double_scalar_tensor":8.0,"float_tensor":[1.0],'
     '"str_tensor":["foo","bar"]},'
     '{"double_scalar_tensor":9.0,"float_tensor":[2.0],"str_tensor":["baz","bat"]}]}'),
    ("multiple-named-columnar", f"{JTT} FromJsonMultipleNamedTensors",
     {"double_scalar_tensor": np.float64([8, 9]), "float_tensor": np.float32([[1], [2]])}, False,
     '{"outputs": {"double_scalar_tensor":[8.0,9.0],"float_tensor":[[1.0],[2.0]]}}'),
    ("bool-and-uint8", f"{JT} AddSingleValueAndAdvance",
     {"flag": np.array([True, False]), "level": np.uint8([0, 255])}, False,
     '{"outputs": {"flag":[true,false],"level":[0,255]}}'),
    ("empty-tensor-map", f"{JTT} FromJsonSingleTensorErrors", {}, True,
     "Cannot convert empty tensor map to JSON"),
    ("complex-unwritable", f"{JTT} FromJsonSingleTensorErrors",
     {"tensor": np.complex64([1, 2])}, True,
     "Failed to write JSON value for tensor type: complex64"),
    ("row-needs-shape", f"{JTT} FromJsonSingleTensorErrors", {"tensor": np.int32(1)}, True,
     "Tensor name: tensor has no shape information"),
    ("row-inconsistent-batch", f"{JTT} FromJsonMultipleNamedTensorsErrors",
     {"int_tensor": np.zeros((2, 3), np.int32),
      "str_tensor": np.array([[b"a", b"b", b"c"]], object)},
     True, "inconsistent batch size: 1 expecting: 2"),
]


@pytest.mark.parametrize("rule, source, outputs, row_format, expected", ENCODE_RULES,
                         ids=[row[0] for row in ENCODE_RULES])
def test_tensors_to_json(rule, source, outputs, row_format, expected):
    del rule, source
    if not expected.startswith("{"):
        with pytest.raises(json_tensor.RequestError, match=re.escape(expected)):
            json_tensor.make_json(outputs, row_format)
        return
    assert re.sub(r"\s", "", json_tensor.make_json(outputs, row_format)) == \
        re.sub(r"\s", "", expected)


# --------------------------------------------------------------------------- REST
def _http(url, method, path, body=None):
    data = body.encode() if isinstance(body, str) else None if body is None else \
        json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


MALFORMED = "Malformed request"
ALL_VERSIONS = {"model_version_status": [
    {"version": version, "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    for version in ("2", "1")]}
REST_RULES = [  # (rule, source, method, path, body, HTTP status, answer or error fragment)
    ("status-all-versions-newest-first", "get_model_status_impl.cc; servable_state_monitor.h "
     "VersionMap std::greater", "GET", f"/v1/models/{MODEL}", None, 200, ALL_VERSIONS),
    ("status-one-version", f"{HANDLER_TEST} GetStatus", "GET", f"/v1/models/{MODEL}/versions/1",
     None, 200, {"model_version_status": ALL_VERSIONS["model_version_status"][1:]}),
    ("status-unknown-model", "get_model_status_impl.cc", "GET", "/v1/models/foo", None, 404,
     "Could not find any versions of model foo"),
    ("status-unknown-version", "get_model_status_impl.cc", "GET", f"/v1/models/{MODEL}/versions/9",
     None, 404, f"Could not find version 9 of model {MODEL}"),
    ("predict-rows-latest", f"{HANDLER_TEST} Predict", "POST", f"/v1/models/{MODEL}:predict",
     {"instances": [[1.0, 2.0], [3.0, 4.0]]}, 200, {"predictions": [[2.5, 3.0], [3.5, 4.0]]}),
    ("predict-version", f"{HANDLER_TEST} Predict", "POST", f"/v1/models/{MODEL}/versions/1:predict",
     {"instances": [1.0, 2.0]}, 200, {"predictions": [2.5, 3.0]}),
    ("predict-columnar", f"{HANDLER_TEST} Predict", "POST", f"/v1/models/{MODEL}:predict",
     {"signature_name": "serving_default", "inputs": [3.0, 4.0]}, 200, {"outputs": [3.5, 4.0]}),
    ("predict-api-rest-example", "api_rest.md Example (half_plus_three)", "POST",
     f"/v1/models/{MODEL}:predict", {"signature_name": "half_plus_three",
                                     "instances": [1.0, 2.0, 5.0]}, 200,
     {"predictions": [3.5, 4.0, 5.5]}),
    ("empty-body", f"{HANDLER_TEST} PredictRequestErrors", "POST", f"/v1/models/{MODEL}:predict",
     "", 400, "JSON Parse error: The document is empty"),
    ("bad-json", f"{HANDLER_TEST} PredictRequestErrors", "POST", f"/v1/models/{MODEL}:predict",
     "instances = [1, 2]", 400, "JSON Parse error: Invalid value"),
    ("wrong-type", f"{HANDLER_TEST} PredictRequestErrors", "POST", f"/v1/models/{MODEL}:predict",
     {"instances": ["x", "y"]}, 400, "not of expected type: float"),
    ("unknown-label", f"{HANDLER_TEST} PredictRequestErrors", "POST",
     f"/v1/models/{MODEL}/labels/stable:predict", {"instances": ["x", "y"]}, 400,
     "Unrecognized servable version label: stable"),
    ("signature-name-type", f"{HANDLER_TEST} PredictRequestErrors", "POST",
     f"/v1/models/{MODEL}:predict", {"signature_name": 100}, 400,
     "'signature_name' key must be a string value."),
    ("unknown-model-404", "api_rest.md (HTTP/1.1 404 Not Found)", "POST", "/v1/models/half:predict",
     {"instances": [1.0, 5.0]}, 404, {"error": "Servable not found for request: Latest(half)"}),
    ("unknown-model-version-404", f"{HANDLER_TEST} PredictModelNameVersionErrors", "POST",
     "/v1/models/foo/versions/50:predict", {"instances": [1]}, 404,
     {"error": "Servable not found for request: Specific(foo, 50)"}),
    ("unknown-version-404", f"{HANDLER_TEST} PredictModelNameVersionErrors", "POST",
     f"/v1/models/{MODEL}/versions/99:predict", {"instances": [1]}, 404,
     {"error": f"Servable not found for request: Specific({MODEL}, 99)"}),
    ("unknown-signature-400", f"{HANDLER} GetInfoMap (InvalidArgument)", "POST",
     f"/v1/models/{MODEL}:predict", {"signature_name": "nope", "instances": [1.0]}, 400,
     {"error": 'Serving signature name: "nope" not found in signature def'}),
    ("body-parsed-before-lookup", f"{HANDLER} ProcessPredictRequest order", "POST",
     "/v1/models/foo:predict", "{oops", 400, "JSON Parse error"),
    ("init-op-has-no-inputs", f"{JT} FillPredictRequestFromJson", "POST",
     f"/v1/models/{MODEL}:predict", {"signature_name": "__saved_model_init_op", "inputs": [1]},
     400, "Failed to get input map for signature: __saved_model_init_op"),
    ("row-outputs-batch-mismatch", f"{JT} MakeRowFormatJsonFromTensors", "POST",
     f"/v1/models/{MODEL}:predict", {"signature_name": "split", "instances": [1.0, 2.0]}, 400,
     "inconsistent batch size"),
    ("columnar-outputs-any-batch", "api_rest.md columnar response", "POST",
     f"/v1/models/{MODEL}:predict", {"signature_name": "split", "inputs": [1.0, 2.0]}, 200,
     {"outputs": {"head": [1.0], "y": [2.5, 3.0]}}),
    ("graph-error-400", f"{HANDLER} (session INVALID_ARGUMENT) + http_server.cc", "POST",
     f"/v1/models/{MODEL}:predict", {"signature_name": "checked", "inputs": [3, 25]}, 400,
     "ids < 20"),
    ("dtypes-round-trip", "api_rest.md JSON mapping", "POST", f"/v1/models/{MODEL}:predict",
     {"signature_name": "echo", "inputs": {"a": [1, -2], "b": [0.5], "flag": [True],
                                           "text_bytes": [{"b64": "AAE="}]}}, 200,
     {"outputs": {"a": [2, -1], "b": [0.5], "flag": [True], "text_bytes": [{"b64": "AAE="}]}}),
    ("case-insensitive-path", f"{HANDLER} kPathRegex (?i)", "GET", f"/V1/MODELS/{MODEL}", None,
     200, ALL_VERSIONS),
    ("url-decoded-name", "http_rest_api_util.cc DecodeArg", "GET", "/v1/models/half%5Fplus%5Ftwo",
     None, 200, ALL_VERSIONS),
    ("get-unknown-api", f"{HANDLER_TEST} UnsupportedApiCalls", "GET", "/v1/foo", None, 400,
     MALFORMED),
    ("post-unknown-api", f"{HANDLER_TEST} UnsupportedApiCalls", "POST", "/v1/foo", "", 400,
     MALFORMED),
    ("missing-model-name", f"{HANDLER_TEST} UnsupportedApiCalls", "GET", "/v1/models", None, 400,
     "Missing model name in request."),
    ("get-predict", f"{HANDLER_TEST} UnsupportedApiCalls", "GET", "/v1/models/foo:predict", None,
     400, MALFORMED),
    ("version-singular", f"{HANDLER_TEST} UnsupportedApiCalls", "POST",
     "/v1/models/foo/version/50:predict", "", 400, MALFORMED),
    ("version-not-numeric", f"{HANDLER_TEST} UnsupportedApiCalls", "POST",
     "/v1/models/foo/versions/HELLO:regress", "", 400, MALFORMED),
    ("version-beyond-int64", f"{HANDLER_TEST} UnsupportedApiCalls", "POST",
     "/v1/models/foo/versions/18446744073709551615:regress", "", 400,
     "Failed to convert version: 18446744073709551615 to numeric."),
    ("post-metadata", f"{HANDLER_TEST} UnsupportedApiCalls", "POST", "/v1/models/foo/metadata", "",
     400, MALFORMED),
    ("version-and-label", f"{HANDLER_TEST} UnsupportedApiCalls", "POST",
     "/v1/models/foo/versions/50/labels/some_label:regress", "", 400, MALFORMED),
    ("metadata-unknown-version", "get_model_metadata_impl.cc GetServableHandle", "GET",
     f"/v1/models/{MODEL}/versions/9/metadata", None, 404,
     {"error": f"Servable not found for request: Specific({MODEL}, 9)"}),
]


@pytest.mark.parametrize("rule, source, method, path, body, status, expected", REST_RULES,
                         ids=[row[0] for row in REST_RULES])
def test_rest_rules(servers, rule, source, method, path, body, status, expected):
    del rule, source
    got_status, answer = _http(servers[0], method, path, body)
    assert got_status == status, answer
    if isinstance(expected, dict):
        assert answer == expected
    else:
        assert set(answer) == {"error"} and expected in answer["error"]


def test_rest_metadata_is_the_signature_defs_in_tf_serving_layout(servers):
    """get_model_metadata_impl.cc + http_rest_api_util.cc ToJsonString; the layout of
    testdata/saved_model_half_plus_two_2_versions_metadata.json."""
    status, answer = _http(servers[0], "GET", f"/v1/models/{MODEL}/metadata")
    assert status == 200
    assert answer["model_spec"] == {"name": MODEL, "signature_name": "", "version": "2"}
    signatures = answer["metadata"]["signature_def"]["signature_def"]
    assert sorted(signatures) == ["__saved_model_init_op", "checked", "echo", "half_plus_three",
                                  "serving_default", "split"]
    assert signatures["__saved_model_init_op"] == {
        "inputs": {}, "outputs": {"__saved_model_init_op": {
            "dtype": "DT_INVALID", "tensor_shape": {"dim": [], "unknown_rank": True},
            "name": "NoOp"}}, "method_name": "", "defaults": {}}
    default = signatures["serving_default"]
    assert default["method_name"] == "tensorflow/serving/predict" and default["defaults"] == {}
    (x_name, x_info), = default["inputs"].items()
    assert x_info["dtype"] == "DT_FLOAT" and x_info["name"].endswith(":0")
    assert x_info["tensor_shape"] == {"dim": [], "unknown_rank": True}
    assert signatures["split"]["inputs"][x_name]["tensor_shape"] == {
        "dim": [{"size": "-1", "name": ""}], "unknown_rank": False}


# --------------------------------------------------------------------------- gRPC
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
    _, over_rest = _http(servers[0], "GET", f"/v1/models/{MODEL}/metadata")
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
    with pytest.raises(json_tensor.RequestError, match="outside 0..255"):
        json_tensor.decode_request('{"inputs": [300]}', {"x": tf.uint8})
    with pytest.raises(grpc.RpcError) as caught:
        _stub_method(servers[1], "GetModelMetadata")(_metadata_request(fields=["other"]),
                                                     timeout=60)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "Metadata field other is not supported"
