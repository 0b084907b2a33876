"""What the TF Serving rule tables share: source names, the `half_plus_two` model and servers.

The rules of `seg2vid_tf/serving/*_rules_test.py` each name the tensorflow/serving
source or test they mirror; the REST and gRPC rows run against a local server of
TF Serving's `half_plus_two` (y = 0.5 x + 2) in two versions, plus signatures
for the api_rest.md example, dtypes, batch sizes and graph errors.
"""

import contextlib
import json
import urllib.error
import urllib.request

import grpc
import tensorflow as tf

from seg2vid_tf.serving import grpc_service, local_server

MODEL = "half_plus_two"
JT, JTT = "util/json_tensor.cc", "util/json_tensor_test.cc"
HANDLER, HANDLER_TEST = "http_rest_api_handler.cc", "http_rest_api_handler_test.cc"
PREDICT, PREDICT_TEST = "predict_util.cc", "predict_util_test.cc"
# GetModelStatus of both versions (REST layout), newest first.
ALL_VERSIONS = {"model_version_status": [
    {"version": version, "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    for version in ("2", "1")]}


class HalfPlusTwo(tf.Module):
    """TF Serving's test model and the signatures the rules need."""

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


@contextlib.contextmanager
def serving(base):
    """`(rest_url, grpc_channel)` of a local server of two versions saved under `base`."""
    module = HalfPlusTwo()
    signatures = {"serving_default": module.half_plus_two, "echo": module.echo,
                  "half_plus_three": module.half_plus_three,
                  "split": module.split, "checked": module.checked}
    for version in (1, 2):
        tf.saved_model.save(module, str(base / str(version)), signatures=signatures)
    server = local_server.make_server(str(base), MODEL, port=0)
    local_server.start_in_thread(server)
    grpc_server, port = grpc_service.make_grpc_server(server.registry, port=0)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", channel
    finally:
        channel.close()
        grpc_server.stop(grace=None)
        server.shutdown()
        server.server_close()


def http(url, method, path, body=None):
    """`(status, parsed JSON answer)` of one REST call."""
    data = body.encode() if isinstance(body, str) else None if body is None else \
        json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
