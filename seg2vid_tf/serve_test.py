"""The local REST server: TF Serving's paths, status codes and messages, concurrency, the page,
the backend proxy and a load of 32 concurrent requests."""

import base64
import concurrent.futures
import io
import json
import socket
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from seg2vid_tf import serve
from seg2vid_tf.serving import batching
from seg2vid_tf.testing.tiny_pipeline import export_tiny, street_label_map

NUM_FRAMES = 2


@pytest.fixture(scope="module")
def export_base(tmp_path_factory):
    return export_tiny(str(tmp_path_factory.mktemp("export")), NUM_FRAMES)[0]


@pytest.fixture(scope="module")
def url(export_base):
    server = serve.make_server(export_base, "seg2vid", port=0, max_request_mb=1.0)
    serve.start_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _call(url, path, body=None, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url + path, data=data,
                                     method="GET" if data is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _columnar(seed=1, labels=None):
    labels = street_label_map() if labels is None else labels
    return {"inputs": {"label_map": np.asarray(labels).tolist(), "seed": [seed]}}


def test_status_and_metadata(url):
    assert _call(url, "/v1/models/seg2vid") == (200, {"model_version_status": [{
        "version": "1", "state": "AVAILABLE", "status": {"error_code": "OK",
                                                         "error_message": ""}}]})
    status, metadata = _call(url, "/v1/models/seg2vid/versions/1/metadata")
    assert status == 200
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    # TF Serving lists every SignatureDef of the SavedModel, the init op's included.
    assert sorted(signatures) == ["__saved_model_init_op", "img2vid", "label2image", "seg2vid",
                                  "seg2vid_png", "serving_default"]
    png = signatures["seg2vid_png"]
    assert png["inputs"]["label_map_png_bytes"]["dtype"] == "DT_STRING"
    assert png["method_name"] == "tensorflow/serving/predict"
    assert png["outputs"]["frames_png_bytes"]["tensor_shape"] == {"dim": [
        {"size": "-1", "name": ""}, {"size": str(NUM_FRAMES + 1), "name": ""}],
        "unknown_rank": False}

    def dims(signature, key, side="inputs"):
        shape = signatures[signature][side][key]["tensor_shape"]
        assert shape["unknown_rank"] is False
        return [int(dim["size"]) for dim in shape["dim"]]

    # The whole input contract is in the metadata: ranks and fixed sizes.
    assert dims("seg2vid_png", "label_map_png_bytes") == [-1]
    assert dims("seg2vid", "label_map") == [-1, 128, 128]
    assert dims("seg2vid", "seed") == [-1]
    assert dims("img2vid", "first_frame") == [-1, 128, 128, 3]
    assert dims("serving_default", "label_map") == [-1, 128, 128]


def test_predict_by_name_and_by_version(url):
    for path in ("/v1/models/seg2vid:predict", "/v1/models/seg2vid/versions/1:predict"):
        status, answer = _call(url, path, _columnar(seed=3))
        assert status == 200, answer
        assert np.asarray(answer["outputs"]["frames"]).shape == (1, NUM_FRAMES + 1, 128, 128, 3)


@pytest.mark.parametrize("path, body, raw, status, message", [
    ("/v1/models/seg2vid:predict", None, b"{oops", 400, "JSON Parse error"),
    ("/v1/models/seg2vid:predict", {"inputs": {"label_map": [[[0]]]}}, None, 400,
     "Missing named input: seed in 'inputs' object."),
    ("/v1/models/seg2vid:predict", {"inputs": {"label_map": [[[0.5]]], "seed": [1]}}, None, 400,
     "JSON Value: 0.5 Type: Number is not of expected type: int32 (input 'label_map')"),
    ("/v1/models/seg2vid:predict", _columnar(labels=street_label_map(size=64)), None, 400,
     "label_map must be int32 [batch, 128, 128]"),
    ("/v1/models/seg2vid:predict", _columnar(labels=street_label_map() + 25), None, 400,
     "outside the train ids 0..19"),
    ("/v1/models/seg2vid:predict", {"signature_name": "nope", "inputs": [1]}, None, 400,
     "Serving signature name: \"nope\" not found in signature def"),
    ("/v1/models/other:predict", _columnar(), None, 404,
     "Servable not found for request: Latest(other)"),
    ("/v1/models/seg2vid/versions/7:predict", _columnar(), None, 404,
     "Servable not found for request: Specific(seg2vid, 7)"),
    ("/v1/models/seg2vid:predict", None, b"x" * (2 * 1024 * 1024), 413, "over the limit"),
    ("/v1/models/seg2vid/metadata", _columnar(), None, 400, "Malformed request"),
    ("/v2/whatever", _columnar(), None, 404, "Malformed request"),
])
def test_bad_requests_get_their_status_and_the_server_keeps_answering(url, path, body, raw,
                                                                      status, message):
    got_status, answer = _call(url, path, body, raw)
    assert got_status == status
    assert message in answer["error"]
    assert _call(url, "/v1/models/seg2vid")[0] == 200


def test_concurrent_requests_all_succeed_with_their_own_seeds(url):
    def one(seed):
        return _call(url, "/v1/models/seg2vid:predict", _columnar(seed=seed))

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(one, [1, 2, 3, 1, 2, 3]))
    assert [status for status, _ in answers] == [200] * 6
    frames = [np.asarray(answer["outputs"]["frames"], int) for _, answer in answers]
    for first, again in zip(frames[:3], frames[3:]):
        assert np.max(np.abs(first - again)) == 0
    assert np.max(np.abs(frames[0] - frames[1])) > 1


def test_an_empty_export_base_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="--export_base"):
        serve.make_server(str(tmp_path), port=0)


# --------------------------------------------------------------------------- page, proxy, load
def _get_raw(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.headers.get("Content-Type"), response.read()


def test_the_page_and_its_assets_are_served(url):
    status, kind, body = _get_raw(url + "/")
    assert status == 200 and kind.startswith("text/html")
    assert b'id="paint"' in body and b"app.js" in body
    for path, expected in (("/app.js", b"seg2vid_png"), ("/style.css", b"#paint")):
        status, _, body = _get_raw(url + path)
        assert status == 200 and expected in body


def test_config_and_examples_for_the_page(url):
    status, config = _call(url, "/config")
    assert status == 200
    assert (config["height"], config["width"], config["num_frames"]) == (128, 128, NUM_FRAMES)
    assert [entry["name"] for entry in config["classes"]][:3] == ["road", "sidewalk", "building"]
    assert len(config["classes"]) == 20 and config["classes"][13]["color"] == [0, 0, 142]
    status, answer = _call(url, "/examples")
    assert status == 200 and len(answer["examples"]) == serve.NUM_EXAMPLES
    with Image.open(io.BytesIO(base64.b64decode(answer["examples"][0]["png_b64"]))) as image:
        ids = np.asarray(image)
    assert image.mode == "L" and ids.shape == (128, 128) and ids.max() <= 19
    assert len(np.unique(ids)) >= 4  # a street scene, not a blank map


def test_row_format_with_b64_in_and_bytes_out(export_base, url):
    buffer = io.BytesIO()
    Image.fromarray(street_label_map()[0].astype(np.uint8)).save(buffer, format="PNG")
    body = {"signature_name": "seg2vid_png", "instances": [
        {"label_map_png_bytes": {"b64": base64.b64encode(buffer.getvalue()).decode()},
         "seed": 4}]}
    status, answer = _call(url, "/v1/models/seg2vid:predict", body)
    assert status == 200
    frames = answer["predictions"][0]
    assert len(frames) == NUM_FRAMES + 1 and set(frames[0]) == {"b64"}
    decoded = []
    for frame in frames:
        with Image.open(io.BytesIO(base64.b64decode(frame["b64"]))) as image:
            assert image.size == (128, 128) and image.mode == "RGB"
            decoded.append(np.asarray(image))
    # The PNGs hold exactly the uint8 frames of the `seg2vid` signature for the same map and
    # seed, called in this process (PNG is lossless).
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    signature = tf.saved_model.load(f"{export_base}/1").signatures["seg2vid"]
    expected = signature(label_map=tf.constant(street_label_map(), tf.int32),
                         seed=tf.constant([4], tf.int64))["frames"].numpy()[0]
    np.testing.assert_array_equal(np.stack(decoded), expected)


def test_backend_mode_forwards_the_model_api(export_base, url):
    proxy = serve.make_server(export_base, "seg2vid", port=0, backend=url)
    serve.start_in_thread(proxy)
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    try:
        direct = _call(url, "/v1/models/seg2vid:predict", _columnar(seed=6))
        forwarded = _call(proxy_url, "/v1/models/seg2vid:predict", _columnar(seed=6))
        assert forwarded[0] == 200 and forwarded == direct
        assert _call(proxy_url, "/v1/models/other") == _call(url, "/v1/models/other")
        assert _get_raw(proxy_url + "/")[0] == 200
    finally:
        proxy.shutdown()
        proxy.server_close()
    dead = serve.make_server(export_base, "seg2vid", port=0,
                             backend=f"http://127.0.0.1:{_closed_port()}")
    serve.start_in_thread(dead)
    try:
        status, answer = _call(f"http://127.0.0.1:{dead.server_address[1]}",
                               "/v1/models/seg2vid", None)
        assert status == 502 and "cannot be reached" in answer["error"]
    finally:
        dead.shutdown()
        dead.server_close()


def test_load_of_32_concurrent_requests_has_no_errors(url):
    buffer = io.BytesIO()
    Image.fromarray(street_label_map()[0].astype(np.uint8)).save(buffer, format="PNG")
    result = serve.load_test(url, "seg2vid", buffer.getvalue(), 32)
    assert result["errors"] == 0, result["first_error"]
    assert result["requests"] == 32 and result["throughput_rps"] > 0
    assert 0 < result["median_s"] <= result["p99_s"] <= result["seconds"] + 1e-6
    # Clients sending several requests back to back: all of them counted.
    result = serve.load_test(url, "seg2vid", buffer.getvalue(), 8, requests_per_client=3)
    assert result["errors"] == 0, result["first_error"]
    assert result["requests"] == 24 and result["median_s"] <= result["seconds"]
    with pytest.raises(ValueError, match="requests_per_client"):
        serve.load_test(url, "seg2vid", buffer.getvalue(), 2, requests_per_client=0)


def test_start_warm_serves_the_exports_first_example_on_a_free_port(export_base):
    server, url, label_png = serve.start_warm(export_base)
    try:
        assert label_png.startswith(b"\x89PNG")
        assert url == f"http://127.0.0.1:{server.server_address[1]}"
        assert server.server_address[1] != 0
        result = serve.load_test(url, "seg2vid", label_png, 2)
        assert result["errors"] == 0, result["first_error"]
    finally:
        server.shutdown()
        server.server_close()


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_batching_server_answers_each_request_as_the_unbatched_one(export_base, url):
    """Four concurrent requests fill one batch of 4; each gets the video of its own seed."""
    params = batching.BatchingParameters(max_batch_size=4, batch_timeout_micros=60_000_000,
                                         num_batch_threads=1)
    server = serve.make_server(export_base, "seg2vid", port=0, batching=params)
    serve.start_in_thread(server)
    batched_url = f"http://127.0.0.1:{server.server_address[1]}"
    seeds = [1, 2, 3, 4]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(
                lambda seed: _call(batched_url, "/v1/models/seg2vid:predict",
                                   _columnar(seed=seed)), seeds))
        # One scheduler for the whole model, as TF Serving's shared batch scheduler.
        assert all(predictor.batcher is server.registry.batcher
                   for predictor in server.registry.predictors.values())
        sizes = list(server.registry.batcher.batch_sizes)
    finally:
        server.shutdown()
        server.server_close()
    assert sizes == [4]
    for seed, (status, answer) in zip(seeds, answers):
        assert status == 200
        _, alone = _call(url, "/v1/models/seg2vid:predict", _columnar(seed=seed))
        # The same arithmetic on a batch of 4 instead of 1: oneDNN's kernels may add
        # in another order, so a float may change in its last bits and, rarely, a
        # uint8 pixel that sat on a rounding boundary by one level (measured here:
        # 11 of 147456 values, floats within 2e-5; other CPUs pick other kernels).
        frames = np.asarray(answer["outputs"]["frames"], int)
        frames_alone = np.asarray(alone["outputs"]["frames"], int)
        assert np.abs(frames - frames_alone).max() <= 1
        assert np.mean(frames != frames_alone) < 1e-2
        for name in ("flow", "occlusion"):
            np.testing.assert_allclose(np.asarray(answer["outputs"][name]),
                                       np.asarray(alone["outputs"][name]), rtol=0, atol=1e-3,
                                       err_msg=name)


def test_batching_flags_follow_tf_serving(tmp_path):
    class Values:
        enable_batching, batching_parameters_file = False, None

    values = Values()
    assert serve.batching_parameters(values) is None
    values.batching_parameters_file = str(tmp_path / "batching.txt")
    with pytest.raises(serve.FlagError, match="without --enable_batching"):
        serve.batching_parameters(values)
    values.enable_batching = True
    with pytest.raises(serve.FlagError, match="--batching_parameters_file: no such file"):
        serve.batching_parameters(values)
    (tmp_path / "batching.txt").write_text("max_batch_size { value: 8 }\n")
    assert serve.batching_parameters(values).max_batch_size == 8
    values.batching_parameters_file = None
    assert serve.batching_parameters(values) == batching.BatchingParameters()
