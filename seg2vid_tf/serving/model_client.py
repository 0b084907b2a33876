"""A client of TensorFlow Serving's REST and gRPC APIs for an exported seg2vid.

`request_video` asks a model server for one video, over REST (`predict_rest`,
TF Serving's JSON API with the standard library only) or gRPC (`predict_grpc`,
`tensorflow-serving-api`'s `PredictionService`): the `seg2vid_png` signature
for a label map alone, `img2vid` with a first frame. `model_status` and
`model_metadata` answer alike over both transports. Refusals (unreachable
server, unknown model, version or signature, the server's own messages) are
`ClientError`s in words. `python -m seg2vid_tf.client` is the command around it.
"""

import base64
import io
import json
import os
import socket
import types
import urllib.error
import urllib.request

import numpy as np
from PIL import Image


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


def _refusal(where, model, version, signature_name, code, detail):
    """A refused request in words; TF Serving's codes tell model, signature and input apart."""
    if code in (404, "NOT_FOUND"):
        return ClientError(f"The server at {where} has no model {model!r}"
                           f"{'' if version is None else f' version {version}'}: {detail}")
    if code == "FAILED_PRECONDITION" or "not found in signature def" in detail:
        return ClientError(f"The server at {where} has no signature {signature_name!r} in model "
                           f"{model!r}: {detail}")
    name = f"HTTP {code}" if isinstance(code, int) else code
    return ClientError(f"The server refused the request ({name}): {detail}")


def _rest_call(server, model, version, suffix, body=None, timeout=120.0, signature_name=None):
    """One REST call -> the parsed answer; errors in words."""
    url = f"{server.rstrip('/')}/v1/models/{model}"
    if version is not None:
        url += f"/versions/{version}"
    url += suffix
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
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
        raise _refusal(server, model, version, signature_name, error.code, detail) from None
    except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise ClientError(f"Cannot reach the model server at {server} ({reason}); is it running "
                          f"(REST port, usually 8501)? Waited up to {timeout:g} s.") from None
    except ValueError as error:
        raise ClientError(f"The server's answer is not JSON: {error}") from None
    if "error" in answer:
        raise ClientError(f"The server answered with an error: {answer['error']}")
    return answer


def predict_rest(server, model, signature_name, inputs, version=None, timeout=120.0,
                 outputs=None):
    """One predict call over TF Serving's REST API (columnar format).

    Args:
        outputs: Output names to keep (REST has no output filter: the others are
            dropped here, so both transports answer alike); all when `None`.

    Returns:
        dict output name -> NumPy array (`_bytes` outputs as object arrays of bytes).

    Raises:
        ClientError: Unreachable server, unknown model, an `{"error": ...}` answer.
    """
    body = {"signature_name": signature_name,
            "inputs": {name: _json_value(value) for name, value in inputs.items()}}
    answer = _rest_call(server, model, version, ":predict", body, timeout, signature_name)
    if "outputs" not in answer:
        raise ClientError(f"The server's answer has no \"outputs\": {str(answer)[:200]}")
    values = answer["outputs"]
    if not isinstance(values, dict):
        # A signature with a single output comes back as the bare tensor.
        values = {_SINGLE_OUTPUT.get(signature_name, "output"): values}
    result = {}
    for name, value in values.items():
        if outputs is not None and name not in outputs:
            continue
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


def _grpc_modules():
    try:
        import grpc  # pylint: disable=import-outside-toplevel
        from tensorflow_serving.apis import (  # pylint: disable=import-outside-toplevel
            get_model_metadata_pb2, get_model_status_pb2, model_service_pb2_grpc, predict_pb2,
            prediction_service_pb2_grpc)
    except ImportError as error:
        raise ClientError(f"--grpc needs the tensorflow-serving-api package ({error}); install "
                          "it with `pip install tensorflow-serving-api`.") from None
    return types.SimpleNamespace(
        grpc=grpc, metadata=get_model_metadata_pb2, status=get_model_status_pb2,
        model_service=model_service_pb2_grpc, predict=predict_pb2,
        prediction_service=prediction_service_pb2_grpc)


def _grpc_call(address, method, request, timeout, model, version, signature_name=None):
    """Calls `method(stub)` on a fresh channel; errors in words."""
    modules = _grpc_modules()
    grpc = modules.grpc
    with grpc.insecure_channel(address) as channel:
        stubs = (modules.prediction_service.PredictionServiceStub(channel),
                 modules.model_service.ModelServiceStub(channel))
        try:
            return method(*stubs)(request, timeout=timeout)
        except grpc.RpcError as error:
            code, detail = error.code(), error.details()
            if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise ClientError(f"Cannot reach the model server at {address} over gRPC "
                                  f"({code.name}: {detail}); is it running (gRPC port, usually "
                                  f"8500)? Waited up to {timeout:g} s.") from None
            raise _refusal(address, model, version, signature_name, code.name, detail) from None


def _model_spec(spec, model, version, signature_name=None):
    spec.name = model
    if version is not None:
        spec.version.value = int(version)
    if signature_name:
        spec.signature_name = signature_name


def predict_grpc(address, model, signature_name, inputs, version=None, timeout=120.0,
                 outputs=None):
    """One predict call over gRPC (`tensorflow-serving-api`).

    Args:
        outputs: Output names to ask for (`PredictRequest.output_filter`); all when `None`.

    Returns:
        dict output name -> NumPy array.

    Raises:
        ClientError: Missing package, unreachable server, unknown model, or the
            server's error message.
    """
    predict_pb2 = _grpc_modules().predict
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    request = predict_pb2.PredictRequest()
    _model_spec(request.model_spec, model, version, signature_name)
    request.output_filter.extend(outputs or [])
    dtypes = {"label_map_png_bytes": tf.string, "seed": tf.int64, "label_map": tf.int32,
              "first_frame": tf.uint8}
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value, dtype=dtypes.get(name)))
    response = _grpc_call(address, lambda stub, _: stub.Predict, request, timeout, model,
                          version, signature_name)
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


def model_status(model, server=None, grpc_address=None, version=None, timeout=120.0):
    """The model's version status over REST or gRPC, as REST's JSON object either way.

    Returns:
        `{"model_version_status": [{"version", "state", "status"}, ...]}`.
    """
    if bool(server) == bool(grpc_address):
        raise ValueError("Give exactly one of --server (REST) and --grpc.")
    if server:
        return _rest_call(server, model, version, "", timeout=timeout)
    from seg2vid_tf.serving import rest  # pylint: disable=import-outside-toplevel
    request = _grpc_modules().status.GetModelStatusRequest()
    _model_spec(request.model_spec, model, version)
    response = _grpc_call(grpc_address, lambda _, stub: stub.GetModelStatus, request, timeout,
                          model, version)
    return rest.proto_to_json(response)


def model_metadata(model, server=None, grpc_address=None, version=None, timeout=120.0):
    """The model's SignatureDefs over REST or gRPC, as REST's `/metadata` JSON either way."""
    if bool(server) == bool(grpc_address):
        raise ValueError("Give exactly one of --server (REST) and --grpc.")
    if server:
        return _rest_call(server, model, version, "/metadata", timeout=timeout)
    from seg2vid_tf.serving import rest  # pylint: disable=import-outside-toplevel
    metadata_pb2 = _grpc_modules().metadata
    request = metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    _model_spec(request.model_spec, model, version)
    response = _grpc_call(grpc_address, lambda stub, _: stub.GetModelMetadata, request, timeout,
                          model, version)
    signature_map = metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signature_map)
    return {"model_spec": rest.proto_to_json(response.model_spec),
            "metadata": {"signature_def": rest.proto_to_json(signature_map)}}


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
