"""TF Serving's REST rules, row by row, against a local server (`serve`, `serving.rest`).

Every row names the tensorflow/serving source or test it mirrors; expected answers are TF
Serving's (its tests' inputs and answers, its messages), never this code's output.
"""

import pytest

from seg2vid_tf.testing.tf_serving_rules import (
    ALL_VERSIONS,
    HANDLER,
    HANDLER_TEST,
    JT,
    MODEL,
    http,
)


MALFORMED = "Malformed request"
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
    got_status, answer = http(servers[0], method, path, body)
    assert got_status == status, answer
    if isinstance(expected, dict):
        assert answer == expected
    else:
        assert set(answer) == {"error"} and expected in answer["error"]


def test_rest_metadata_is_the_signature_defs_in_tf_serving_layout(servers):
    """get_model_metadata_impl.cc + http_rest_api_util.cc ToJsonString; the layout of
    testdata/saved_model_half_plus_two_2_versions_metadata.json."""
    status, answer = http(servers[0], "GET", f"/v1/models/{MODEL}/metadata")
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
