"""A local server that answers TensorFlow Serving's REST API for an exported seg2vid.

    python -m seg2vid_tf.serve --export_base=models/seg2vid --model_name=seg2vid \
        --port=8501 [--host=127.0.0.1]

It loads every version under `--export_base` (the newest answers requests that
name no version) and answers, as `tensorflow_model_server` does:

* `GET  /v1/models/<name>[/versions/<v>]`: the version status;
* `GET  /v1/models/<name>[/versions/<v>]/metadata`: the signature defs;
* `POST /v1/models/<name>[/versions/<v>]:predict`: row (`instances`) or
  columnar (`inputs`) requests, `{"b64": ...}` strings, base64 `_bytes`
  outputs (`seg2vid_tf.serving.rest`);
* with `--grpc_port`, also gRPC `PredictionService.Predict`
  (`seg2vid_tf.serving.grpc_service`).

Errors are `{"error": "..."}` with 400 for a bad request and 404 for an unknown
model, version or signature; a bad request never stops the server. It binds to
loopback unless `--host` says otherwise, refuses bodies over `--max_request_mb`,
and serves requests concurrently (one thread each).
"""

import json
import os
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from absl import app, flags, logging

from seg2vid_tf.serving import export as export_lib
from seg2vid_tf.serving import rest

_MODEL_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?"
    r"(?P<suffix>/metadata|:predict)?/?$")


class ModelRegistry:
    """The loaded versions of one model.

    Args:
        export_base: Directory of all-digit version subdirectories.
        model_name: The name requests use.

    Raises:
        FileNotFoundError: No version under `export_base`.
    """

    def __init__(self, export_base, model_name):
        versions = export_lib.existing_versions(export_base)
        if not versions:
            raise FileNotFoundError(
                f"No SavedModel versions (all-digit subdirectories) under {export_base!r} "
                "(--export_base); write one with export/export_saved_model.py.")
        self.model_name = model_name
        self.predictors = {}
        for version in versions:
            logging.info("Loading %s version %d", model_name, version)
            self.predictors[version] = rest.Predictor(
                os.path.join(export_base, str(version)), model_name, version)
        self.latest = versions[-1]

    def get(self, name, version=None):
        """The predictor for `name` (and `version`, else the latest); RequestError 404 if none."""
        if name != self.model_name:
            raise rest.RequestError(f"Servable not found for request: Latest({name}); this "
                                    f"server serves {self.model_name!r}.", status=404)
        if version is None:
            return self.predictors[self.latest]
        if not str(version).isdigit() or int(version) not in self.predictors:
            raise rest.RequestError(
                f"Servable not found for request: Specific({name}, {version}); versions are "
                f"{sorted(self.predictors)}.", status=404)
        return self.predictors[int(version)]


def make_handler(registry, max_request_bytes):
    """The request handler class bound to `registry`."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "seg2vid-serve/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            logging.info("%s %s", self.address_string(), format % args)

        def _send(self, status, payload):
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _route(self):
            match = _MODEL_PATH.match(self.path.split("?", 1)[0])
            if not match:
                raise rest.RequestError(f"Malformed request: {self.command} {self.path}",
                                        status=404)
            predictor = registry.get(match.group("name"), match.group("version"))
            return predictor, match.group("suffix") or ""

        def _handle(self, method):
            try:
                predictor, suffix = self._route()
                if method == "GET" and suffix == "":
                    self._send(HTTPStatus.OK, predictor.status())
                elif method == "GET" and suffix == "/metadata":
                    self._send(HTTPStatus.OK, predictor.metadata())
                elif method == "POST" and suffix == ":predict":
                    self._send(HTTPStatus.OK, predictor.predict(self._read_body()))
                else:
                    raise rest.RequestError(f"Malformed request: {method} {self.path}",
                                            status=404 if method == "GET" else 405)
            except rest.RequestError as error:
                self._send(error.status, rest.error_response(error))
            except Exception as error:  # pylint: disable=broad-except
                logging.exception("Request %s %s failed", method, self.path)
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR,
                           rest.error_response(f"{type(error).__name__}: {error}"))

        def _read_body(self):
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                raise rest.RequestError("The request needs a Content-Length header.", status=411)
            length = int(length)
            if length > max_request_bytes:
                # Read and drop it, so that the connection stays usable.
                remaining = length
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                raise rest.RequestError(
                    f"The request body has {length} bytes, over the limit of "
                    f"{max_request_bytes} (--max_request_mb).", status=413)
            return self.rfile.read(length)

        def do_GET(self):  # pylint: disable=invalid-name
            self._handle("GET")

        def do_POST(self):  # pylint: disable=invalid-name
            self._handle("POST")

    return Handler


def make_server(export_base, model_name="seg2vid", host="127.0.0.1", port=8501,
                max_request_mb=64.0):
    """A `ThreadingHTTPServer` (not started) for the model; `port=0` picks a free port."""
    registry = ModelRegistry(export_base, model_name)
    handler = make_handler(registry, int(max_request_mb * 1024 * 1024))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.registry = registry
    return server


def start_in_thread(server):
    """Serves `server` in a daemon thread; returns the thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


flags.DEFINE_string("export_base", None, "Directory of the exported versions.")
flags.DEFINE_string("model_name", "seg2vid", "The model's name in request paths.")
flags.DEFINE_string("host", "127.0.0.1", "Address to bind (loopback unless told otherwise).")
flags.DEFINE_integer("port", 8501, "REST port.")
flags.DEFINE_float("max_request_mb", 64.0, "Largest request body accepted, in MiB.")
flags.DEFINE_integer("grpc_port", 0, "Also answer TF Serving's gRPC PredictionService on this "
                                     "port (0: no gRPC).")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    values = flags.FLAGS
    if not values.export_base:
        raise app.UsageError("--export_base is required.")
    try:
        server = make_server(values.export_base, values.model_name, values.host, values.port,
                             values.max_request_mb)
    except (FileNotFoundError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    print(f"Serving {values.model_name} versions {sorted(server.registry.predictors)} on "
          f"http://{host}:{port}/v1/models/{values.model_name}", flush=True)
    grpc_server = None
    if values.grpc_port:
        from seg2vid_tf.serving import grpc_service  # pylint: disable=import-outside-toplevel
        grpc_server, bound = grpc_service.make_grpc_server(server.registry, values.host,
                                                           values.grpc_port)
        print(f"gRPC PredictionService on {values.host}:{bound}", flush=True)
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
    sys.exit(app.run(main))
