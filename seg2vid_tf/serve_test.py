"""The local REST server: TF Serving's paths, status codes and messages, concurrency."""

import concurrent.futures
import json
import urllib.error
import urllib.request

import numpy as np
import pytest

from seg2vid_tf import serve
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
    assert sorted(signatures) == ["img2vid", "label2image", "seg2vid", "seg2vid_png",
                                  "serving_default"]
    png = signatures["seg2vid_png"]
    assert png["inputs"]["label_map_png_bytes"]["dtype"] == "DT_STRING"
    assert png["outputs"]["frames_png_bytes"]["tensor_shape"]["dim"] == [
        {"size": "-1"}, {"size": str(NUM_FRAMES + 1)}]


def test_predict_by_name_and_by_version(url):
    for path in ("/v1/models/seg2vid:predict", "/v1/models/seg2vid/versions/1:predict"):
        status, answer = _call(url, path, _columnar(seed=3))
        assert status == 200, answer
        assert np.asarray(answer["outputs"]["frames"]).shape == (1, NUM_FRAMES + 1, 128, 128, 3)


@pytest.mark.parametrize("path, body, raw, status, message", [
    ("/v1/models/seg2vid:predict", None, b"{oops", 400, "not valid JSON"),
    ("/v1/models/seg2vid:predict", {"inputs": {"label_map": [[[0]]]}}, None, 400,
     "missing inputs ['seed']"),
    ("/v1/models/seg2vid:predict", {"inputs": {"label_map": [[[0.5]]], "seed": [1]}}, None, 400,
     "integer tensor"),
    ("/v1/models/seg2vid:predict", _columnar(labels=street_label_map(size=64)), None, 400,
     "label_map must be int32 [batch, 128, 128]"),
    ("/v1/models/seg2vid:predict", _columnar(labels=street_label_map() + 25), None, 400,
     "outside the train ids 0..19"),
    ("/v1/models/seg2vid:predict", {"signature_name": "nope", "inputs": [1]}, None, 404,
     "\"nope\" not found"),
    ("/v1/models/other:predict", _columnar(), None, 404, "Servable not found"),
    ("/v1/models/seg2vid/versions/7:predict", _columnar(), None, 404, "versions are [1]"),
    ("/v1/models/seg2vid:predict", None, b"x" * (2 * 1024 * 1024), 413, "over the limit"),
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
