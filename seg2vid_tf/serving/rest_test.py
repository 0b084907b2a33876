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
    ("{not json", r"not valid JSON"),
    ([1, 2], r"JSON object"),
    ({"inputs": {}, "instances": []}, r"exactly one of"),
    ({"signature_name": "x"}, r"exactly one of"),
    ({"instances": []}, r"non-empty list"),
    ({"instances": [{"label_map": [1]}]}, r"missing inputs \['seed'\]"),
    ({"inputs": {"label_map": [1], "seed": [1], "extra": 1}}, r"unknown inputs \['extra'\]"),
    ({"inputs": {"label_map": [[1], [2, 3]], "seed": [1]}}, r"'label_map' is ragged"),
    ({"inputs": {"label_map": [1.5], "seed": [1]}}, r"integer tensor, got 1.5"),
    ({"inputs": {"label_map": ["a"], "seed": [1]}}, r"must hold numbers"),
    ({"inputs": {"label_map": [1], "seed": [2 ** 70]}}, r"outside the range of int64"),
    ({"inputs": {"label_map": [1], "seed": [1]}, "bogus": 1}, r"Unknown request fields"),
    ({"instances": [[1]]}, r"object naming the inputs"),
])
def test_bad_requests_are_named(body, message):
    with pytest.raises(rest.RequestError, match=message) as caught:
        rest.decode_request(body if isinstance(body, str) else json.dumps(body), DTYPES)
    assert caught.value.status == 400


def test_bad_base64_is_named():
    with pytest.raises(rest.RequestError, match=r"invalid base64"):
        rest.decode_request({"inputs": [{"b64": "!!!"}]}, {"label_map_png_bytes": tf.string})


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
