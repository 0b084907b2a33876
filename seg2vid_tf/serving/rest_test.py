"""TF Serving's REST JSON rules (tensorflow.org/tfx/serving/api_rest), without a model."""

import base64
import json

import numpy as np
import pytest
import tensorflow as tf

from seg2vid_tf.serving import rest

DTYPES = {"label_map": tf.int32, "seed": tf.int64}


def test_row_format_stacks_the_instances():
    body = json.dumps({"signature_name": "seg2vid", "instances": [
        {"label_map": [[1, 2], [3, 4]], "seed": 7},
        {"label_map": [[5, 6], [7, 8]], "seed": 9}]})
    name, inputs, row_format = rest.decode_request(body, DTYPES)
    assert name == "seg2vid" and row_format
    assert inputs["label_map"].dtype == np.int32 and inputs["label_map"].shape == (2, 2, 2)
    np.testing.assert_array_equal(inputs["seed"], [7, 9])
    assert inputs["seed"].dtype == np.int64


def test_columnar_format_takes_whole_tensors_and_defaults_the_signature():
    body = {"inputs": {"label_map": [[[1, 2]]], "seed": [3]}}
    name, inputs, row_format = rest.decode_request(body, DTYPES)
    assert name == "serving_default" and not row_format
    assert inputs["label_map"].shape == (1, 1, 2)


def test_single_input_may_be_given_bare_in_both_formats():
    dtypes = {"label_map_png_bytes": tf.string}
    _, rows, _ = rest.decode_request({"instances": [{"b64": "aGk="}, "plain"]}, dtypes)
    np.testing.assert_array_equal(rows["label_map_png_bytes"], np.array([b"hi", b"plain"], object))
    _, columns, _ = rest.decode_request({"inputs": [{"b64": "aGk="}]}, dtypes)
    assert columns["label_map_png_bytes"].tolist() == [b"hi"]


def test_b64_values_decode_to_bytes():
    payload = bytes(range(256))
    body = {"inputs": {"label_map_png_bytes": [{"b64": base64.b64encode(payload).decode()}],
                       "seed": [1]}}
    _, inputs, _ = rest.decode_request(body, {"label_map_png_bytes": tf.string, "seed": tf.int64})
    assert inputs["label_map_png_bytes"][0] == payload


@pytest.mark.parametrize("body, message", [
    ("{not json", r"^JSON Parse error: Missing a name for object member\. at offset: 1$"),
    ([1, 2], r"Is not object"),
    ({"inputs": {}, "instances": []}, r"expecting only one of 'inputs' or 'instances'"),
    ({"signature_name": "x"}, r"^Missing 'inputs' or 'instances' key$"),
    ({"instances": []}, r"No values in 'instances' array"),
    ({"instances": [{"label_map": [1]}]}, r"must only have keys: label_map,seed"),
    ({"inputs": {"label_map": [1]}}, r"^Missing named input: seed in 'inputs' object\.$"),
    ({"inputs": {"label_map": [[1], [2, 3]], "seed": [1]}},
     r"unexpected size: 2 at level: 1 expected size: 1 \(input 'label_map'\)$"),
    ({"inputs": {"label_map": [1.5], "seed": [1]}},
     r"^JSON Value: 1\.5 Type: Number is not of expected type: int32 \(input 'label_map'\)$"),
    ({"inputs": {"label_map": ["a"], "seed": [1]}}, r'JSON Value: "a" Type: String is not'),
    ({"inputs": {"label_map": [1], "seed": [2 ** 70]}},
     r"not of expected type: int64 \(input 'seed'\)$"),
    ({"instances": [[1]]}, r"instances is a plain list, but expecting list of objects"),
])
def test_bad_requests_name_the_tensor_in_tf_servings_words(body, message):
    with pytest.raises(rest.RequestError, match=message) as caught:
        rest.decode_request(body if isinstance(body, str) else json.dumps(body), DTYPES)
    assert caught.value.status == 400 and caught.value.code == "INVALID_ARGUMENT"


def test_bad_base64_is_named():
    with pytest.raises(rest.RequestError, match=r"^Unable to base64 decode \(input 'png'\)$"):
        rest.decode_request({"inputs": [{"b64": "!!!"}]}, {"png": tf.string})


def test_error_codes_carry_tf_servings_http_status():
    assert rest.RequestError("x", code="NOT_FOUND").status == 404
    assert rest.RequestError("x", code="FAILED_PRECONDITION").status == 400
    assert rest.RequestError("x", code="UNIMPLEMENTED").status == 501
    assert rest.RequestError("x", status=404).code == "NOT_FOUND"
    assert rest.RequestError("x", status=413).code == "INVALID_ARGUMENT"


class _Registry:
    """Answers like `local_server.ModelRegistry` for a model `m` without loading one."""

    def get(self, name, version=None, label=None):
        raise rest.RequestError(f"get {name} {version} {label}", code="NOT_FOUND")

    def status(self, name, version=None):
        return {"asked": [name, version]}


@pytest.mark.parametrize("method, path, body, status, answer", [
    ("GET", "/v1/models/m", b"", 200, {"asked": ["m", None]}),
    ("GET", "/v1/models/m/versions/007", b"", 200, {"asked": ["m", 7]}),
    ("GET", "/v1/models/m%2Dx/METADATA", b"", 200, {"asked": ["m-x", None]}),  # "metadata" only
    ("GET", "/v1/models/m/metadata", b"", 404, {"error": "get m None None"}),
    ("GET", "/v1/models/m/labels/a%20b/metadata", b"", 404, {"error": "get m None a b"}),
    ("POST", "/v1/models/m:predict", b'{"instances": [1]}', 404, {"error": "get m None None"}),
    ("POST", "/v1/models/m:PREDICT", b"{}", 400, {"error": "Malformed request: POST "
                                                             "/v1/models/m:PREDICT"}),
    ("POST", "/v1/models/m:classify", b"{}", 501, None),
    ("PUT", "/v1/models/m", b"", 400, {"error": "Malformed request: PUT /v1/models/m"}),
    ("GET", "/v1/models/m/", b"", 400, {"error": "Malformed request: GET /v1/models/m/"}),
])
def test_routes_follow_parse_model_info(method, path, body, status, answer):
    got_status, text = rest.handle_request(_Registry(), method, path, body)
    assert got_status == status
    if answer is not None:
        assert json.loads(text) == answer


def test_proto_to_json_prints_like_tf_servings_json_options():
    from tensorflow.core.protobuf import meta_graph_pb2  # pylint: disable=import-outside-toplevel

    info = meta_graph_pb2.TensorInfo(name="x:0", dtype=tf.float32.as_datatype_enum)
    info.tensor_shape.dim.add(size=-1)
    signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    signature.inputs["x"].CopyFrom(info)
    assert rest.proto_to_json(signature) == {
        "inputs": {"x": {"name": "x:0", "dtype": "DT_FLOAT", "tensor_shape": {
            "dim": [{"size": "-1", "name": ""}], "unknown_rank": False}}},
        "outputs": {}, "method_name": "tensorflow/serving/predict", "defaults": {}}


def test_row_response_has_one_entry_per_row_and_bare_single_outputs():
    several = rest.encode_response({"frames": np.zeros((2, 3), np.uint8),
                                    "flow": np.ones((2, 1), np.float32)}, row_format=True)
    assert several == {"predictions": [{"frames": [0, 0, 0], "flow": [1.0]},
                                       {"frames": [0, 0, 0], "flow": [1.0]}]}
    single = rest.encode_response({"image": np.arange(4).reshape(2, 2)}, row_format=True)
    assert single == {"predictions": [[0, 1], [2, 3]]}


def test_columnar_response_and_bytes_outputs_in_base64():
    frames = np.array([[b"\x89PNG-a", b"b"]], dtype=object)
    answer = rest.encode_response({"frames_png_bytes": frames}, row_format=False)
    assert answer == {"outputs": [[{"b64": base64.b64encode(b"\x89PNG-a").decode()},
                                   {"b64": "Yg=="}]]}
    answer = rest.encode_response({"a": np.zeros((1,)), "b": np.ones((1,))}, row_format=False)
    assert answer == {"outputs": {"a": [0.0], "b": [1.0]}}
    json.dumps(answer)  # serializable


def test_clean_error_message_keeps_the_assertion_text():
    raw = ("Graph execution error:\n\nDetected at node Assert defined at (most recent call last):"
           "\n<stack traces unavailable>\nassertion failed: [label_map has ids outside] [20]\n"
           "\t [[{{node Assert/Assert}}]] [Op:__inference_signature_wrapper_1]")
    assert rest.clean_error_message(raw) == "assertion failed: [label_map has ids outside] [20]"


def test_too_deep_json_is_refused_before_decoding():
    with pytest.raises(rest.RequestError, match="nests arrays/objects 5000 levels deep"):
        rest.parse_json(b"[" * 5000 + b"]" * 5000)
    assert rest.parse_json(b'{"instances": [[[[[1]]]]]}')["instances"] == [[[[[1]]]]]
