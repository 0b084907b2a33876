"""A local server that answers TensorFlow Serving's REST API for an exported seg2vid.

    python -m seg2vid_tf.serve --export_base=models/seg2vid --model_name=seg2vid \
        --port=8501 [--host=127.0.0.1]

It loads every version under `--export_base` (the newest answers requests that
name no version) and answers, as `tensorflow_model_server` does and with its
status codes and messages (`seg2vid_tf.serving.rest`, `json_tensor`):

* `GET  /v1/models/<name>[/versions/<v>]`: the version status, newest first;
* `GET  /v1/models/<name>[/versions/<v>]/metadata`: the SignatureDefs;
* `POST /v1/models/<name>[/versions/<v>]:predict`: row (`instances`) or
  columnar (`inputs`) requests, `{"b64": ...}` strings, base64 `_bytes`
  outputs;
* with `--grpc_port`, also gRPC `PredictionService` (`Predict` with
  `output_filter`, `GetModelMetadata`) and `ModelService.GetModelStatus`
  (`seg2vid_tf.serving.grpc_service`).

Errors are `{"error": "..."}`: 404 for an unknown model or version, 400 for a
bad request, an unknown signature or a malformed `/v1/` path; a bad request
never stops the server. It binds to loopback unless `--host` says otherwise.
The HTTP front end (`seg2vid_tf.serving.http_server`: asyncio connections, the
h11 parser) refuses what breaks HTTP or a limit with JSON too: 405 for methods
other than GET/POST, 408 for a request slower than `--request_timeout_s`, 413
for a body over `--max_request_mb`, 414/431 for oversized request lines or
headers, 503 when saturated; requests run on `--server_threads` threads.

The page at `/` (`seg2vid_tf/web/`: plain HTML, CSS and JavaScript) paints a
label map with the 19 Cityscapes classes, starts from example maps (`/examples`,
rendered by the synthetic scene generator) or an uploaded label PNG, and plays
the video the `seg2vid_png` signature returns beside its flow. With
`--backend=http://host:8501` every `/v1/...` request is forwarded to that
server (a real `tensorflow_model_server`) and only the page is served here.

With `--enable_batching` concurrent predicts of one signature are merged into
one call of the model, as TF Serving's flag of that name does; its
`--batching_parameters_file` (TF Serving's `BatchingParameters` text proto) sets
the batch size, the wait for more requests and the bounded queue
(`seg2vid_tf.serving.batching`).

    python -m seg2vid_tf.serve --web

serves the page on the demo model: `--export_base` defaults to `make demo`'s
export (`demo_output/export/seg2vid`), which is written from the shipped demo
weights first when it is not there (`seg2vid_tf.demos.showcase.export_shipped_weights`).

    python -m seg2vid_tf.serve --export_base=... --selftest_load=32

sends 32 concurrent predict requests over loopback and prints throughput,
median and p99 latency and errors.
"""

import base64
import json
import os

from absl import app, flags

from seg2vid_tf import cli
from seg2vid_tf.command_flags import FlagError, define_flag
from seg2vid_tf.serving import batching as batching_lib
from seg2vid_tf.serving import http_server
from seg2vid_tf.serving.local_server import (  # noqa: F401 (the library's names, re-exported)
    NUM_EXAMPLES, WEB_DIR, ModelRegistry, load_test, make_app, make_server, start_in_thread,
    start_warm, warm_up)

DEMO_EXPORT_BASE = os.path.join("demo_output", "export", "seg2vid")


def define_flags():
    """Defines the command's flags (idempotent: `command_flags.define_flag`)."""
    define_flag("string", "export_base", None, "Directory of the exported versions.")
    define_flag("string", "model_name", "seg2vid", "The model's name in request paths.")
    define_flag("string", "host", "127.0.0.1", "Address to bind (loopback unless told otherwise).")
    define_flag("integer", "port", 8501, "REST port.")
    define_flag("float", "max_request_mb", 64.0, "Largest request body accepted, in MiB.")
    define_flag("float", "request_timeout_s", http_server.Limits.request_timeout_s,
                "A request must arrive within this many seconds of its first byte (408).")
    define_flag("integer", "server_threads", http_server.Limits.num_workers,
                "Threads that run requests; connections themselves take no thread.")
    define_flag("string", "backend", None, "Forward /v1/... to this TF Serving REST URL "
                                          "(e.g. http://localhost:8501); the page is served here.")
    define_flag("integer", "selftest_load", 0, "Send this many concurrent predict requests to a "
                                               "loopback instance, print the numbers and exit.")
    define_flag("integer", "grpc_port", 0, "Also answer TF Serving's gRPC PredictionService and "
                                           "ModelService on this port (0: no gRPC).")
    define_flag("bool", "enable_batching", False,
                "Merge concurrent predicts of a signature into one call of the model, as TF "
                "Serving's --enable_batching (seg2vid_tf.serving.batching).")
    define_flag("string", "batching_parameters_file", None,
                "TF Serving's BatchingParameters text proto (max_batch_size, "
                "batch_timeout_micros, max_enqueued_batches, num_batch_threads, "
                "allowed_batch_sizes); TF Serving's defaults without it.")
    define_flag("bool", "web", False, "Serve the page on the demo model when --export_base is not "
                                      "given: make demo's export, written from the shipped demo "
                                      f"weights if missing ({DEMO_EXPORT_BASE}).")


def batching_parameters(values):
    """`BatchingParameters` from `--enable_batching` and `--batching_parameters_file`, or None.

    Raises:
        FlagError: A parameters file without `--enable_batching` (TF Serving refuses
            it too), or a file that cannot be read (named).
    """
    if not values.enable_batching:
        if values.batching_parameters_file:
            raise FlagError("You supplied --batching_parameters_file without --enable_batching")
        return None
    if not values.batching_parameters_file:
        return batching_lib.BatchingParameters()
    try:
        return batching_lib.read_batching_parameters(values.batching_parameters_file)
    except (OSError, ValueError) as error:
        raise FlagError(str(error)) from None


def main(argv):
    cli.check_usage(argv)
    values = flags.FLAGS
    if not values.export_base and not values.web:
        raise app.UsageError("--export_base is required (or --web for the demo model).")
    if not values.export_base:
        from seg2vid_tf.demos import showcase  # pylint: disable=import-outside-toplevel

        values.export_base = showcase.export_shipped_weights(DEMO_EXPORT_BASE)
    if values.request_timeout_s <= 0 or values.server_threads < 1:
        raise FlagError(
            "--request_timeout_s must be > 0 and --server_threads >= 1; got "
            f"{values.request_timeout_s} and {values.server_threads}.")
    batching = batching_parameters(values)
    limits = http_server.Limits(request_timeout_s=values.request_timeout_s,
                                num_workers=values.server_threads)
    server = make_server(values.export_base, values.model_name, values.host,
                         0 if values.selftest_load else values.port, values.max_request_mb,
                         values.backend, limits, batching)
    if values.selftest_load:
        start_in_thread(server)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        label_png = base64.b64decode(server.registry.examples()[0]["png_b64"])
        warm_up(url, values.model_name, label_png)  # traces and loads
        result = load_test(url, values.model_name, label_png, values.selftest_load)
        server.shutdown()
        print(json.dumps(result, indent=2))
        return 0 if result["errors"] == 0 else 1
    host, port = server.server_address[:2]
    where = values.backend or f"http://{host}:{port}"
    print(f"Serving {values.model_name} versions {sorted(server.registry.predictors)}: page on "
          f"http://{host}:{port}/, model API on {where}/v1/models/{values.model_name}", flush=True)
    grpc_server = None
    if values.grpc_port:
        from seg2vid_tf.serving import grpc_service  # pylint: disable=import-outside-toplevel
        grpc_server, bound = grpc_service.make_grpc_server(server.registry, values.host,
                                                           values.grpc_port)
        print(f"gRPC PredictionService and ModelService on {values.host}:{bound}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if grpc_server is not None:
            grpc_server.stop(grace=None)
    return 0


if __name__ == "__main__":
    define_flags()
    cli.run(main)
