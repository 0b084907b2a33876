"""Ask a TensorFlow Serving model server for a video.

    python -m seg2vid_tf.client --server=http://localhost:8501 --model=seg2vid \
        --label_map=map.png --seed=1 --output=video.gif
    python -m seg2vid_tf.client --grpc=localhost:8500 --model=seg2vid \
        --label_map=map.png --seed=1 --output=video.gif
    python -m seg2vid_tf.client --server=... --first_frame=frame.png \
        [--label_map=map.png] --output=video.gif     # the img2vid signature

With only a label map it calls the `seg2vid_png` signature (the label map goes
as a PNG, the frames come back as PNGs: small requests and answers); with
`--first_frame` it calls `img2vid`. Over REST it speaks TF Serving's JSON API
(standard library only); over gRPC it uses `tensorflow-serving-api`'s
`PredictionService`. The label map is a train-id PNG as for
`seg2vid_tf.generate` (`--label_ids=cityscapes` for label-id maps); it must have
the exported model's size, which the server checks.

Writes the frames as a GIF (or, for an `--output` without `.gif`, as
`frame_000.png`... in that directory). Unreachable servers, missing models and
the server's own error messages are reported in words, with exit status 1.
"""

import base64
import io
import json
import os
import socket
import sys
import urllib.error
import urllib.request

import numpy as np
from absl import app, flags
from PIL import Image

from seg2vid_tf.command_flags import define_flag

def define_flags():
    """Defines the command's flags (idempotent: `command_flags.define_flag`)."""
    define_flag("string", "server", None, "REST base URL of the model server, e.g. http://localhost:8501.")
    define_flag("string", "grpc", None, "gRPC address host:port of the model server, e.g. localhost:8500.")
    define_flag("string", "model", "seg2vid", "Model name on the server.")
    define_flag("integer", "model_version", None, "Model version; the server's latest when not given.")
    define_flag("string", "label_map", None, "Label map PNG (train ids, or Cityscapes ids with "
                                             "--label_ids=cityscapes).")
    define_flag("enum", "label_ids", "train", ["train", "cityscapes"], "Which ids the label PNG holds.")
    define_flag("string", "first_frame", None, "First frame image; calls the img2vid signature.")
    define_flag("integer", "seed", 0, "Seed of the latent and the fill noise (same seed, same video).")
    define_flag("string", "output", "video.gif", "Output GIF, or a directory for PNG frames.")
    define_flag("float", "timeout", 120.0, "Seconds to wait for the server.")
    define_flag("float", "fps", 8.0, "GIF frame rate.")


SEG2VID_PNG = "seg2vid_png"
IMG2VID = "img2vid"
# The output of the signatures that have a single one (REST answers it bare).
_SINGLE_OUTPUT = {SEG2VID_PNG: "frames_png_bytes", "label2image": "image"}


class ClientError(RuntimeError):
    """A request that failed, with a message meant for the user."""


# --------------------------------------------------------------------------- requests
def label_map_png(train_ids):
    """int `[H, W]` train ids -> the bytes of a grayscale PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(train_ids, np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def build_inputs(label_map=None, first_frame=None, seed=0):
    """`(signature_name, inputs)` for one video, inputs as NumPy arrays with a batch of 1.

    Args:
        label_map: Optional int `[H, W]` train ids.
        first_frame: Optional uint8 `[H, W, 3]`.
        seed: Integer.

    Raises:
        ValueError: Neither input given.
    """
    seed_array = np.array([seed], np.int64)
    if first_frame is not None:
        inputs = {"first_frame": np.asarray(first_frame, np.uint8)[None], "seed": seed_array}
        if label_map is not None:
            inputs["label_map"] = np.asarray(label_map, np.int32)[None]
        return IMG2VID, inputs
    if label_map is None:
        raise ValueError("Give --label_map (seg2vid_png signature) or --first_frame (img2vid).")
    return SEG2VID_PNG, {"label_map_png_bytes": np.array([label_map_png(label_map)], object),
                         "seed": seed_array}


def _json_value(array):
    array = np.asarray(array)
    if array.dtype == object:
        return [{"b64": base64.b64encode(item).decode("ascii")} for item in array.tolist()]
    return array.tolist()


def _frames_from_outputs(signature_name, outputs):
    """The answer's frames as uint8 `[T, H, W, 3]` (row 0)."""
    if signature_name == SEG2VID_PNG:
        frames = [np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
                  for data in outputs["frames_png_bytes"][0]]
        return np.stack(frames)
    return np.asarray(outputs["frames"][0], np.uint8)


def predict_rest(server, model, signature_name, inputs, version=None, timeout=120.0):
    """One predict call over TF Serving's REST API (columnar format).

    Returns:
        dict output name -> NumPy array (`_bytes` outputs as object arrays of bytes).

    Raises:
        ClientError: Unreachable server, unknown model, an `{"error": ...}` answer.
    """
    url = f"{server.rstrip('/')}/v1/models/{model}"
    if version is not None:
        url += f"/versions/{version}"
    url += ":predict"
    body = json.dumps({"signature_name": signature_name,
                       "inputs": {name: _json_value(value) for name, value in inputs.items()}})
    request = urllib.request.Request(url, data=body.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", errors="replace")
        try:
            detail = json.loads(detail).get("error", detail)
        except ValueError:
            pass
        if error.code == 404:
            raise ClientError(f"The server at {server} has no model {model!r}"
                              f"{'' if version is None else f' version {version}'} or no "
                              f"signature {signature_name!r}: {detail}") from None
        raise ClientError(f"The server refused the request (HTTP {error.code}): {detail}") from None
    except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise ClientError(f"Cannot reach the model server at {server} ({reason}); is it running "
                          f"(REST port, usually 8501)? Waited up to {timeout:g} s.") from None
    except ValueError as error:
        raise ClientError(f"The server's answer is not JSON: {error}") from None
    if "error" in answer:
        raise ClientError(f"The server answered with an error: {answer['error']}")
    if "outputs" not in answer:
        raise ClientError(f"The server's answer has no \"outputs\": {str(answer)[:200]}")
    outputs = answer["outputs"]
    if not isinstance(outputs, dict):
        # A signature with a single output comes back as the bare tensor.
        outputs = {_SINGLE_OUTPUT.get(signature_name, "output"): outputs}
    result = {}
    for name, value in outputs.items():
        if name.endswith("_bytes"):
            decoded = _decode_b64(value)
            array = np.empty(np.shape(decoded), dtype=object)
            array[...] = decoded
            result[name] = array
        else:
            result[name] = np.asarray(value)
    return result


def _decode_b64(value):
    """Nested lists of {"b64": ...} -> nested lists of bytes."""
    if isinstance(value, list):
        return [_decode_b64(item) for item in value]
    if isinstance(value, dict) and "b64" in value:
        return base64.b64decode(value["b64"])
    raise ClientError(f"Expected {{\"b64\": ...}} values in a _bytes output, got {value!r:.80}")


def predict_grpc(address, model, signature_name, inputs, version=None, timeout=120.0):
    """One predict call over gRPC (`tensorflow-serving-api`).

    Returns:
        dict output name -> NumPy array.

    Raises:
        ClientError: Missing package, unreachable server, unknown model, or the
            server's error message.
    """
    try:
        import grpc  # pylint: disable=import-outside-toplevel
        import tensorflow as tf  # pylint: disable=import-outside-toplevel
        from tensorflow_serving.apis import (  # pylint: disable=import-outside-toplevel
            predict_pb2, prediction_service_pb2_grpc)
    except ImportError as error:
        raise ClientError(f"--grpc needs the tensorflow-serving-api package ({error}); install "
                          "it with `pip install tensorflow-serving-api`.") from None
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    dtypes = {"label_map_png_bytes": tf.string, "seed": tf.int64, "label_map": tf.int32,
              "first_frame": tf.uint8}
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value, dtype=dtypes.get(name)))
    with grpc.insecure_channel(address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            response = stub.Predict(request, timeout=timeout)
        except grpc.RpcError as error:
            code, detail = error.code(), error.details()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise ClientError(f"Cannot reach the model server at {address} over gRPC "
                                  f"({code.name}: {detail}); is it running (gRPC port, usually "
                                  f"8500)? Waited up to {timeout:g} s.") from None
            if code == grpc.StatusCode.NOT_FOUND:
                raise ClientError(f"The server at {address} has no model {model!r} or no "
                                  f"signature {signature_name!r}: {detail}") from None
            raise ClientError(f"The server refused the request ({code.name}): {detail}") from None
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


# --------------------------------------------------------------------------- output
def write_frames(frames, output, fps=8.0):
    """uint8 `[T, H, W, 3]` -> a GIF at `output`, or PNG frames in the directory `output`.

    Returns:
        The list of files written.
    """
    parent = os.path.dirname(os.path.abspath(output))
    if output.lower().endswith(".gif"):
        os.makedirs(parent, exist_ok=True)
        images = [Image.fromarray(frame) for frame in frames]
        images[0].save(output, save_all=True, append_images=images[1:],
                       duration=int(round(1000.0 / fps)), loop=0)
        return [output]
    os.makedirs(output, exist_ok=True)
    paths = []
    for index, frame in enumerate(frames):
        path = os.path.join(output, f"frame_{index:03d}.png")
        Image.fromarray(frame).save(path)
        paths.append(path)
    return paths


def request_video(label_map=None, first_frame=None, seed=0, server=None, grpc_address=None,
                  model="seg2vid", version=None, timeout=120.0):
    """One video from a model server, over REST (`server`) or gRPC (`grpc_address`).

    Returns:
        uint8 `[T, H, W, 3]` frames, the first frame included.

    Raises:
        ValueError: Neither or both transports, or no input.
        ClientError: The request failed (see `predict_rest` / `predict_grpc`).
    """
    if bool(server) == bool(grpc_address):
        raise ValueError("Give exactly one of --server (REST) and --grpc.")
    signature_name, inputs = build_inputs(label_map, first_frame, seed)
    if server:
        outputs = predict_rest(server, model, signature_name, inputs, version, timeout)
    else:
        outputs = predict_grpc(grpc_address, model, signature_name, inputs, version, timeout)
    return _frames_from_outputs(signature_name, outputs)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    values = flags.FLAGS
    if bool(values.server) == bool(values.grpc):
        raise app.UsageError("Give exactly one of --server=http://HOST:8501 (REST) and "
                             "--grpc=HOST:8500.")
    if not values.label_map and not values.first_frame:
        raise app.UsageError("Give --label_map (and/or --first_frame).")
    from seg2vid_tf import generate  # pylint: disable=import-outside-toplevel
    label_map = first_frame = None
    try:
        if values.label_map:
            label_map, _ = generate.read_label_map(values.label_map, values.label_ids)
        if values.first_frame:
            generate._check_file(values.first_frame, "first_frame")  # pylint: disable=protected-access
            try:
                with Image.open(values.first_frame) as image:
                    first_frame = np.asarray(image.convert("RGB"), np.uint8)
            except (OSError, SyntaxError) as error:
                raise ValueError(f"{values.first_frame} (--first_frame) is not a readable image: "
                                 f"{error}") from None
        frames = request_video(label_map, first_frame, values.seed, values.server, values.grpc,
                               values.model, values.model_version, values.timeout)
    except (FileNotFoundError, ValueError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    paths = write_frames(frames, values.output, values.fps)
    print(f"Wrote {len(frames)} frames ({frames.shape[1]}x{frames.shape[2]}) to "
          f"{values.output if len(paths) == 1 else os.path.dirname(paths[0])}")
    return 0


if __name__ == "__main__":
    define_flags()
    sys.exit(app.run(main))
