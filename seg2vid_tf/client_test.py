"""The client over REST and gRPC against local servers of a tiny export, and its errors."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from seg2vid_tf import client, serve
from seg2vid_tf.serving import grpc_service
from seg2vid_tf.testing.tiny_pipeline import export_tiny, street_label_map

NUM_FRAMES = 2


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """`(rest_url, grpc_address, export_version_dir)`."""
    export_base, _ = export_tiny(str(tmp_path_factory.mktemp("export")), NUM_FRAMES)
    server = serve.make_server(export_base, "seg2vid", port=0)
    serve.start_in_thread(server)
    grpc_server, grpc_port = grpc_service.make_grpc_server(server.registry, port=0)
    yield (f"http://127.0.0.1:{server.server_address[1]}", f"127.0.0.1:{grpc_port}",
           os.path.join(export_base, "1"))
    grpc_server.stop(grace=None)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def direct_frames(servers):
    """The frames of the SavedModel called directly (seed 3)."""
    loaded = tf.saved_model.load(servers[2])
    outputs = loaded.signatures["seg2vid"](label_map=tf.constant(street_label_map()),
                                           seed=tf.constant([3], tf.int64))
    return outputs["frames"].numpy()[0]


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_rest_client_gets_the_saved_model_frames(servers, direct_frames):
    frames = client.request_video(street_label_map()[0], seed=3, server=servers[0])
    assert frames.shape == (NUM_FRAMES + 1, 128, 128, 3) and frames.dtype == np.uint8
    assert np.max(np.abs(frames.astype(int) - direct_frames.astype(int))) <= 1


def test_grpc_client_gets_the_same_frames(servers):
    over_rest = client.request_video(street_label_map()[0], seed=3, server=servers[0])
    over_grpc = client.request_video(street_label_map()[0], seed=3, grpc_address=servers[1])
    np.testing.assert_array_equal(over_grpc, over_rest)


def test_first_frame_calls_img2vid(servers):
    first = np.full((128, 128, 3), 90, np.uint8)
    for transport in ({"server": servers[0]}, {"grpc_address": servers[1]}):
        frames = client.request_video(street_label_map()[0], first_frame=first, seed=1,
                                      **transport)
        assert frames.shape == (NUM_FRAMES + 1, 128, 128, 3)
        np.testing.assert_array_equal(frames[0], first)


def test_cli_writes_a_gif(servers, direct_frames, tmp_path):
    label_png = tmp_path / "map.png"
    Image.fromarray(street_label_map()[0].astype(np.uint8)).save(label_png)
    output = tmp_path / "video.gif"
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.client", f"--server={servers[0]}",
         f"--label_map={label_png}", "--seed=3", f"--output={output}"],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-2000:]
    with Image.open(output) as gif:
        assert gif.n_frames == NUM_FRAMES + 1 and gif.size == (128, 128)
        written = []
        for index in range(gif.n_frames):
            gif.seek(index)
            written.append(np.asarray(gif.convert("RGB"), np.float64))
    # The SavedModel's frames for the same map and seed, up to the GIF's 256-colour palette:
    # the painted first frame has thousands of colours (measured mean error 4.9 levels), the
    # tiny model's predicted frames fewer than 256 (exact). A blank, shifted or label-colour
    # frame is tens of levels away.
    errors = np.abs(np.stack(written) - direct_frames.astype(np.float64)).mean(axis=(1, 2, 3))
    assert errors[0] < 8.0 and errors[1:].max() < 1.0, errors


@pytest.mark.parametrize("transport", ["rest", "grpc"])
def test_errors_are_reported_in_words(servers, transport):
    def call(**kwargs):
        address = {"rest": {"server": servers[0]}, "grpc": {"grpc_address": servers[1]}}[transport]
        address.update(kwargs)
        return client.request_video(street_label_map()[0], seed=1, timeout=20, **address)

    with pytest.raises(client.ClientError, match="has no model 'missing'"):
        call(model="missing")
    with pytest.raises(client.ClientError, match=r"refused the request.*single-channel.*128x128"):
        client.request_video(street_label_map(size=64)[0], seed=1, timeout=20,
                             **({"server": servers[0]} if transport == "rest"
                                else {"grpc_address": servers[1]}))
    port = _closed_port()
    unreachable = ({"server": f"http://127.0.0.1:{port}"} if transport == "rest"
                   else {"grpc_address": f"127.0.0.1:{port}"})
    with pytest.raises(client.ClientError, match="Cannot reach the model server"):
        client.request_video(street_label_map()[0], seed=1, timeout=3, **unreachable)


def test_exactly_one_transport():
    with pytest.raises(ValueError, match="exactly one"):
        client.request_video(street_label_map()[0])


def test_status_and_metadata_are_the_same_over_both_transports(servers):
    rest_url, grpc_address = servers[0], servers[1]
    status = client.model_status("seg2vid", server=rest_url)
    assert status == client.model_status("seg2vid", grpc_address=grpc_address)
    assert [entry["version"] for entry in status["model_version_status"]] == ["1"]
    metadata = client.model_metadata("seg2vid", server=rest_url, version=1)
    assert metadata == client.model_metadata("seg2vid", grpc_address=grpc_address, version=1)
    assert metadata["model_spec"] == {"name": "seg2vid", "signature_name": "", "version": "1"}
    assert "seg2vid_png" in metadata["metadata"]["signature_def"]["signature_def"]


def test_output_filter_and_signature_errors_alike_over_both_transports(servers):
    signature_name = "seg2vid"
    inputs = {"label_map": np.asarray(street_label_map(), np.int32),
              "seed": np.array([2], np.int64)}
    over_rest = client.predict_rest(servers[0], "seg2vid", signature_name, inputs,
                                    outputs=["frames"])
    over_grpc = client.predict_grpc(servers[1], "seg2vid", signature_name, inputs,
                                    outputs=["frames"])
    assert list(over_rest) == list(over_grpc) == ["frames"]
    np.testing.assert_array_equal(over_rest["frames"], over_grpc["frames"])
    for transport in (client.predict_rest, client.predict_grpc):
        address = servers[0] if transport is client.predict_rest else servers[1]
        with pytest.raises(client.ClientError, match="has no signature 'nope'"):
            transport(address, "seg2vid", "nope", inputs, timeout=20)


def test_cli_prints_the_status_over_grpc(servers):
    result = subprocess.run(
        [sys.executable, "-m", "seg2vid_tf.client", f"--grpc={servers[1]}", "--info=status"],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == client.model_status("seg2vid", server=servers[0])
