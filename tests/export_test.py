"""The SavedModel export as users meet it: the CLI, saved_model_cli, loading, REST, kills.

Everything that reads the export runs in a fresh Python process, as a server or
a user's script would.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from seg2vid_tf.testing.tiny_pipeline import save_tiny_models, street_label_map

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORT_SCRIPT = os.path.join(REPO, "export", "export_saved_model.py")
SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
NUM_FRAMES = 3
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def _run(args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300,
                          **kwargs)


def _python(code, *args):
    """Runs `code` in a fresh interpreter; returns the JSON it prints on its last line."""
    result = _run([sys.executable, "-c", textwrap.dedent(code), *args])
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _export(checkpoint_dir, export_base, *extra):
    return _run([sys.executable, EXPORT_SCRIPT, f"--checkpoint_dir={checkpoint_dir}",
                 f"--export_base={export_base}", f"--num_frames={NUM_FRAMES}", *extra])


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    return save_tiny_models(str(tmp_path_factory.mktemp("checkpoints")))


@pytest.fixture(scope="module")
def exported(checkpoints, tmp_path_factory):
    """`(export_base, version_dir)` of a two-stage export made with the CLI."""
    base = str(tmp_path_factory.mktemp("models") / "seg2vid")
    img2vid_dir, label2image_dir = checkpoints
    result = _export(img2vid_dir, base, f"--label2image_checkpoint_dir={label2image_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    # The SavedModel writer's INFO lines (each signature's hundreds of renamed captures) stay
    # out of the command's output; the command's own INFO lines stay in.
    assert "unsupported characters" not in result.stderr, result.stderr[-3000:]
    assert "Writing fingerprint" not in result.stderr
    version_dir = result.stdout.strip().splitlines()[-1]
    assert version_dir == os.path.join(base, "1")
    return base, version_dir


def _signatures_shown(version_dir):
    result = _run([SAVED_MODEL_CLI, "show", "--dir", version_dir, "--all"])
    assert result.returncode == 0, result.stderr[-2000:]
    signatures, current, section = {}, None, None
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("signature_def['"):
            current = line.split("'")[1]
            signatures[current] = {"inputs": {}, "outputs": {}}
        elif "SignatureDef contains the following input" in line:
            section = "inputs"
        elif "SignatureDef contains the following output" in line:
            section = "outputs"
        elif line.startswith(("inputs['", "outputs['")) and current:
            name = line.split("'")[1]
            signatures[current][section][name] = None
            last = (current, section, name)
        elif line.startswith("dtype:") and current:
            signatures[last[0]][last[1]][last[2]] = line.split()[1]
    return signatures


def test_saved_model_cli_show_lists_the_four_signatures(exported):
    signatures = _signatures_shown(exported[1])
    expected = {
        "seg2vid": ({"label_map": "DT_INT32", "seed": "DT_INT64"},
                    {"frames": "DT_UINT8", "flow": "DT_FLOAT", "occlusion": "DT_FLOAT"}),
        "img2vid": ({"first_frame": "DT_UINT8", "label_map": "DT_INT32", "seed": "DT_INT64"},
                    {"frames": "DT_UINT8", "flow": "DT_FLOAT", "occlusion": "DT_FLOAT"}),
        "label2image": ({"label_map": "DT_INT32"}, {"image": "DT_UINT8"}),
        "seg2vid_png": ({"label_map_png_bytes": "DT_STRING", "seed": "DT_INT64"},
                        {"frames_png_bytes": "DT_STRING"}),
    }
    for name, (inputs, outputs) in expected.items():
        assert signatures[name] == {"inputs": inputs, "outputs": outputs}, name
    assert signatures["serving_default"] == signatures["seg2vid"]


def test_saved_model_cli_run_serving_default_with_npy_inputs(exported, checkpoints, tmp_path):
    np.save(tmp_path / "label_map.npy", street_label_map())
    np.save(tmp_path / "seed.npy", np.array([4], np.int64))
    result = _run([SAVED_MODEL_CLI, "run", "--dir", exported[1], "--tag_set", "serve",
                   "--signature_def", "serving_default",
                   "--inputs", f"label_map={tmp_path}/label_map.npy;seed={tmp_path}/seed.npy",
                   "--outdir", str(tmp_path / "out")])
    assert result.returncode == 0, result.stderr[-3000:]
    frames = np.load(tmp_path / "out" / "frames.npy")
    flow = np.load(tmp_path / "out" / "flow.npy")
    occlusion = np.load(tmp_path / "out" / "occlusion.npy")
    assert frames.dtype == np.uint8 and frames.shape == (1, NUM_FRAMES + 1, 128, 128, 3)
    assert flow.shape == (1, NUM_FRAMES, 128, 128, 2)
    # The same video from the checkpoints, in this process.
    from seg2vid_tf.conversion import checkpoints as dirs  # pylint: disable=import-outside-toplevel

    video = dirs.load_seg2vid(*checkpoints).generate(NUM_FRAMES, seed=4,
                                                     label_map=street_label_map())
    # The export rounds its frames to uint8 (documented); the rest is the same float32 graph.
    reference = np.round(np.clip(video["video"], 0, 1) * 255)
    assert np.abs(frames.astype(np.float64) - reference).max() <= 1.0
    size = float(np.abs(video["flow"]).max())
    assert size > 1.0  # pixels: far above the tolerance
    np.testing.assert_allclose(flow, video["flow"], rtol=0, atol=1e-5 * size)
    np.testing.assert_allclose(occlusion, 1.0 - video["mask_fw"], rtol=0, atol=1e-5)


def test_loaded_export_gives_the_keras_frames_for_the_same_seed(exported, checkpoints):
    result = _python("""
        import json, sys
        import numpy as np, tensorflow as tf
        from seg2vid_tf.conversion.checkpoints import load_seg2vid
        from seg2vid_tf.testing.tiny_pipeline import street_label_map
        labels = street_label_map()
        loaded = tf.saved_model.load(sys.argv[1])
        out = loaded.signatures["seg2vid"](label_map=tf.constant(labels),
                                           seed=tf.constant([21], tf.int64))
        keras_video = load_seg2vid(sys.argv[2], sys.argv[3]).generate(
            int(sys.argv[4]), seed=21, label_map=labels)
        reference = np.round(np.clip(keras_video["video"], 0, 1) * 255)
        other = loaded.signatures["seg2vid"](label_map=tf.constant(labels),
                                             seed=tf.constant([22], tf.int64))["frames"]
        print(json.dumps({
            "frames": float(np.max(np.abs(out["frames"].numpy() - reference))),
            "flow": float(np.max(np.abs(out["flow"].numpy() - keras_video["flow"]))),
            "other_seed": float(np.max(np.abs(other.numpy() - reference)))}))
        """, exported[1], *checkpoints, str(NUM_FRAMES))
    assert result["frames"] <= 1.0  # uint8 rounding of the same floats
    assert result["flow"] < 1e-3
    assert result["other_seed"] > 1.0


def test_a_bfloat16_export_computes_both_stages_in_bfloat16(exported, checkpoints, tmp_path):
    """`--precision=mixed_bfloat16` reaches stage 1 too: its first frame moves, and the
    video stays close to the float32 export's."""
    img2vid_dir, label2image_dir = checkpoints
    result = _export(img2vid_dir, str(tmp_path / "seg2vid"),
                     f"--label2image_checkpoint_dir={label2image_dir}",
                     "--precision=mixed_bfloat16")
    assert result.returncode == 0, result.stderr[-3000:]
    measured = _python("""
        import json, sys
        import numpy as np, tensorflow as tf
        from seg2vid_tf.testing.tiny_pipeline import street_label_map
        labels = tf.constant(street_label_map())
        videos = []
        for path in sys.argv[1:3]:
            loaded = tf.saved_model.load(path)
            videos.append(loaded.signatures["seg2vid"](
                label_map=labels, seed=tf.constant([3], tf.int64))["frames"].numpy())
        difference = videos[0].astype(float) - videos[1].astype(float)
        print(json.dumps({"first_frame_moved": bool(np.any(difference[:, 0])),
                          "dtype": str(videos[1].dtype),
                          "psnr": float(10 * np.log10(255.0 ** 2 / np.mean(difference ** 2)))}))
        """, exported[1], result.stdout.strip().splitlines()[-1])
    assert measured["dtype"] == "uint8"
    assert measured["first_frame_moved"]  # stage 1 computed in bfloat16
    assert measured["psnr"] >= 35.0


_REST_CHECKS = """
    import base64, io, json, sys
    import numpy as np
    from PIL import Image
    from seg2vid_tf.serving import rest
    from seg2vid_tf.testing.tiny_pipeline import street_label_map
    predictor = rest.Predictor(sys.argv[1], "seg2vid", 1)
    labels = street_label_map()
    buffer = io.BytesIO(); Image.fromarray(labels[0].astype(np.uint8)).save(buffer, "PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    result = {}
    rows = predictor.predict(json.dumps({"signature_name": "seg2vid_png", "instances": [
        {"label_map_png_bytes": {"b64": png}, "seed": 5},
        {"label_map_png_bytes": {"b64": png}, "seed": 6}]}))
    json.dumps(rows)
    first = rows["predictions"][0]
    frame0 = np.asarray(Image.open(io.BytesIO(base64.b64decode(first[0]["b64"]))))
    result["row"] = [len(rows["predictions"]), len(first), list(frame0.shape)]
    columns = predictor.predict(json.dumps(
        {"inputs": {"label_map": labels.tolist(), "seed": [5]}}))
    json.dumps(columns)
    outputs = columns["outputs"]
    result["columnar"] = {name: list(np.shape(value)) for name, value in outputs.items()}
    result["first_frame_difference"] = int(np.max(np.abs(
        np.asarray(outputs["frames"][0][0], int) - frame0.astype(int))))
    rows = predictor.predict(json.dumps({"instances": [{"label_map": labels[0].tolist(),
                                                        "seed": 5}]}))
    result["row_keys"] = sorted(rows["predictions"][0])
    errors = {}
    with open(sys.argv[2]) as handle:
        bad = json.load(handle)
    for name, body in bad.items():
        try:
            predictor.predict(json.dumps(body))
            errors[name] = None
        except rest.RequestError as error:
            errors[name] = [error.status, str(error)]
    result["errors"] = errors
    print(json.dumps(result))
"""


def test_rest_requests_in_row_and_columnar_form(exported, tmp_path):
    bad = {
        "rank": {"inputs": {"label_map": street_label_map()[0].tolist(), "seed": [1]}},
        "size": {"inputs": {"label_map": street_label_map(size=64).tolist(), "seed": [1]}},
        "ids": {"inputs": {"label_map": (street_label_map() + 30).tolist(), "seed": [1]}},
        "png": {"signature_name": "seg2vid_png",
                "instances": [{"label_map_png_bytes": {"b64": "bm90IGEgcG5n"}, "seed": 1}]},
        "dtype": {"inputs": {"label_map": [[[0.5]]], "seed": [1]}},
        "signature": {"signature_name": "nope", "inputs": {"label_map": [[[0]]]}},
    }
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = _python(_REST_CHECKS, exported[1], str(tmp_path / "bad.json"))
    assert result["row"] == [2, NUM_FRAMES + 1, [128, 128, 3]]
    assert result["columnar"] == {"frames": [1, NUM_FRAMES + 1, 128, 128, 3],
                                  "flow": [1, NUM_FRAMES, 128, 128, 2],
                                  "occlusion": [1, NUM_FRAMES, 128, 128]}
    # The same painted frame; the batches differ (2 rows against 1), so float rounding
    # may move a uint8 level.
    assert result["first_frame_difference"] <= 1
    assert result["row_keys"] == ["flow", "frames", "occlusion"]
    errors = result["errors"]
    assert errors["rank"][0] == 400 and "label_map must be int32 [batch, 128, 128]" in \
        errors["rank"][1]
    assert errors["size"][0] == 400 and "[1 64 64]" in errors["size"][1]
    assert errors["ids"][0] == 400 and "outside the train ids 0..19" in errors["ids"][1]
    assert errors["png"][0] == 400 and "must hold PNG files" in errors["png"][1]
    # TF Serving's answers (json_tensor.cc, predict_util.cc): a decimal in an int32 tensor is
    # "not of expected type: int32"; an unknown signature is 400 INVALID_ARGUMENT, not 404.
    assert errors["dtype"][0] == 400 and "is not of expected type: int32" in errors["dtype"][1]
    assert errors["signature"][0] == 400 and "nope" in errors["signature"][1]


def test_versions_are_numbered_and_never_overwritten(exported, checkpoints, tmp_path):
    base = str(tmp_path / "seg2vid")
    shutil.copytree(exported[0], base)
    result = _export(checkpoints[0], base)  # img2vid only
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == os.path.join(base, "2")
    signatures = _signatures_shown(os.path.join(base, "2"))
    assert set(signatures) == {"img2vid", "serving_default", "__saved_model_init_op"}
    assert signatures["serving_default"] == signatures["img2vid"]
    refused = _export(checkpoints[0], base, "--version=1")
    assert refused.returncode == 1
    assert "Version 1 exists already" in refused.stderr
    assert sorted(os.listdir(base)) == ["1", "2"]


def test_saving_hides_info_lines_only_even_when_absl_verbosity_is_reset():
    """What the export does around the SavedModel writer, which resets absl's verbosity midway."""
    import logging  # pylint: disable=import-outside-toplevel

    from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
    from seg2vid_tf.serving import export  # pylint: disable=import-outside-toplevel

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("absl")
    logger.addHandler(handler)
    verbosity = absl_logging.get_verbosity()
    try:
        absl_logging.set_verbosity(absl_logging.INFO)
        with export._without_tensorflow_info_logs():  # pylint: disable=protected-access
            absl_logging.set_verbosity(absl_logging.INFO)
            absl_logging.info("hidden")
            absl_logging.warning("shown")
        absl_logging.info("after")
    finally:
        logger.removeHandler(handler)
        absl_logging.set_verbosity(verbosity)
    assert [record.getMessage() for record in records] == ["shown", "after"]


def test_missing_checkpoint_is_named():
    result = _run([sys.executable, EXPORT_SCRIPT, "--checkpoint_dir=/nonexistent/run",
                   "--export_base=/tmp/unused-seg2vid-export"])
    assert result.returncode == 1
    assert "--checkpoint_dir" in result.stderr and "/nonexistent/run" in result.stderr


# The export script, run as users run it, except that once the SavedModel has been written
# (and before anything is published) it says so and waits to be killed: the kill lands in
# the middle of the export on every machine, however fast.
_PAUSED_EXPORT = """
    import runpy, sys, threading
    from seg2vid_tf.serving import export
    build_archive = export.build_archive
    def build_archive_that_pauses(*args, **kwargs):
        archive = build_archive(*args, **kwargs)
        write_out = archive.write_out
        def write_out_then_wait(filepath, *args, **kwargs):
            write_out(filepath, *args, **kwargs)
            print("written " + str(filepath), flush=True)
            threading.Event().wait()  # until killed
        archive.write_out = write_out_then_wait
        return archive
    export.build_archive = build_archive_that_pauses
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_killed_export_leaves_no_version_behind(checkpoints, tmp_path):
    base = tmp_path / "seg2vid"
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_PAUSED_EXPORT), EXPORT_SCRIPT,
         f"--checkpoint_dir={checkpoints[0]}", f"--export_base={base}",
         f"--num_frames={NUM_FRAMES}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV, cwd=REPO)
    guard = threading.Timer(300, process.kill)  # only against a hang: never reached when fine
    guard.start()
    try:
        line = process.stdout.readline()  # blocks until the SavedModel is on disk
        assert line.startswith("written "), f"the export stopped before writing: {line!r}"
        written = line.split(" ", 1)[1].strip()
        assert os.path.isfile(os.path.join(written, "saved_model.pb"))
    finally:
        guard.cancel()
        process.kill()
        process.wait()
        process.stdout.close()
    left = os.listdir(base)
    assert not [name for name in left if name.isdigit()], left
    assert left == [os.path.basename(written)] and left[0].startswith(".tmp-")  # killed mid-way
    # The next export cleans the leftover up and takes version 1.
    result = _export(checkpoints[0], str(base))
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(os.listdir(base)) == ["1"]


def test_tensorflow_model_server_end_to_end(exported, tmp_path):
    binary = shutil.which("tensorflow_model_server")
    if binary is None:
        pytest.skip("tensorflow_model_server is not on PATH: it is distributed as a Docker image "
                    "or a Debian package from Google's apt repository, neither of which can be "
                    "installed on this machine; the in-process REST and gRPC tests cover the "
                    "rest.")
    import socket  # pylint: disable=import-outside-toplevel
    from seg2vid_tf import client  # pylint: disable=import-outside-toplevel

    def free_port():
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    rest_port, grpc_port = free_port(), free_port()
    server = subprocess.Popen([binary, f"--port={grpc_port}", f"--rest_api_port={rest_port}",
                               "--model_name=seg2vid", f"--model_base_path={exported[0]}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        frames = None
        while time.time() < deadline and frames is None:
            try:
                frames = client.request_video(street_label_map()[0], seed=3,
                                              server=f"http://127.0.0.1:{rest_port}", timeout=30)
            except client.ClientError:
                time.sleep(1)
        assert frames is not None and frames.shape == (NUM_FRAMES + 1, 128, 128, 3)
        over_grpc = client.request_video(street_label_map()[0], seed=3,
                                         grpc_address=f"127.0.0.1:{grpc_port}", timeout=30)
        np.testing.assert_array_equal(over_grpc, frames)
    finally:
        server.terminate()
        server.wait(timeout=30)
