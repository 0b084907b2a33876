"""The local model server: TensorFlow Serving's REST API, the web page and a load test.

`make_server` loads every version of an export (`ModelRegistry`) and returns
an HTTP server whose application (`make_app`) answers `/v1/models/...` as
`tensorflow_model_server` does (`seg2vid_tf.serving.rest`), serves the web
page (`seg2vid_tf/web/`) and its example label maps, or forwards `/v1/...` to
a real TF Serving (`backend`). `load_test` measures concurrent predicts.
`python -m seg2vid_tf.serve` is the command around it.
"""

import base64
import concurrent.futures
import dataclasses
import io
import json
import os
import threading
import time
import urllib.error
import urllib.request
from http import HTTPStatus

from absl import logging

from seg2vid_tf import labels
from seg2vid_tf.serving import batching as batching_lib
from seg2vid_tf.serving import export as export_lib
from seg2vid_tf.serving import http_server
from seg2vid_tf.serving import rest

WEB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web")


_STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
           "/index.html": ("index.html", "text/html; charset=utf-8"),
           "/app.js": ("app.js", "text/javascript; charset=utf-8"),
           "/style.css": ("style.css", "text/css; charset=utf-8")}
NUM_EXAMPLES = 4


class ModelRegistry:
    """The loaded versions of one model.

    Args:
        export_base: Directory of all-digit version subdirectories.
        model_name: The name requests use.
        batching: `batching.BatchingParameters` (one scheduler, its threads shared
            by the versions as in TF Serving; each version has its own queues), or
            None: each request runs alone.

    Raises:
        FileNotFoundError: No version under `export_base`.
    """

    def __init__(self, export_base, model_name, batching=None):
        versions = export_lib.existing_versions(export_base)
        if not versions:
            raise FileNotFoundError(
                f"No SavedModel versions (all-digit subdirectories) under {export_base!r} "
                "(--export_base); write one with export/export_saved_model.py.")
        self.model_name = model_name
        self.predictors = {}
        self.batcher = None if batching is None else batching_lib.Batcher(None, batching)
        for version in versions:
            logging.info("Loading %s version %d", model_name, version)
            self.predictors[version] = rest.Predictor(
                os.path.join(export_base, str(version)), model_name, version,
                batcher=self.batcher)
        self.latest = versions[-1]

    def page_config(self):
        """What the page needs: the model's name, size, frames and the classes."""
        info = self.predictors[self.latest].export_info
        return {"model": self.model_name, "version": self.latest,
                "height": info.get("height"), "width": info.get("width"),
                "num_frames": info.get("num_frames"),
                "signatures": sorted(self.predictors[self.latest].signatures),
                "classes": [{"id": index, "name": name,
                             "color": labels.LABEL_COLORS[index].tolist()}
                            for index, name in enumerate(labels.LABEL_NAMES)]}

    def examples(self):
        """Example label maps (train-id PNGs, base64) rendered by the synthetic generator."""
        if getattr(self, "_examples", None) is None:
            from PIL import Image  # pylint: disable=import-outside-toplevel
            from seg2vid_tf.data import synthetic  # pylint: disable=import-outside-toplevel

            config = self.page_config()
            height, width = config["height"] or 128, config["width"] or 128
            examples = []
            for index in range(NUM_EXAMPLES):
                _, label_maps, _, _ = synthetic.render_sequence(
                    synthetic.sequence_rng(2019, index), 2, height, width)
                buffer = io.BytesIO()
                Image.fromarray(label_maps[0].astype("uint8"), mode="L").save(buffer, format="PNG")
                examples.append({"name": f"street {index + 1}",
                                 "png_b64": base64.b64encode(buffer.getvalue()).decode()})
            self._examples = examples
        return self._examples

    def get(self, name, version=None, label=None):
        """The predictor for `name` and `version` (else the latest), as ServerCore finds it.

        Raises:
            RequestError: `INVALID_ARGUMENT` for an empty name or any version label
                (this server has none), `NOT_FOUND` for an unknown model or version,
                in TF Serving's words.
        """
        if not name:
            raise rest.RequestError("ModelSpec has no name specified.", code="INVALID_ARGUMENT")
        if label is not None:
            raise rest.RequestError(f"Unrecognized servable version label: {label}",
                                    code="INVALID_ARGUMENT")
        if version is None:
            if name != self.model_name:
                raise rest.RequestError(f"Servable not found for request: Latest({name})",
                                        code="NOT_FOUND")
            return self.predictors[self.latest]
        if name != self.model_name or int(version) not in self.predictors:
            raise rest.RequestError(f"Servable not found for request: Specific({name}, "
                                    f"{int(version)})", code="NOT_FOUND")
        return self.predictors[int(version)]

    def status(self, name, version=None):
        """GetModelStatus: `{"model_version_status": [...]}`, newest version first.

        Raises:
            RequestError: `NOT_FOUND` in TF Serving's words (get_model_status_impl.cc).
        """
        if version is not None:
            if name != self.model_name or int(version) not in self.predictors:
                raise rest.RequestError(f"Could not find version {int(version)} of model {name}",
                                        code="NOT_FOUND")
            return self.predictors[int(version)].status()
        if name != self.model_name:
            raise rest.RequestError(f"Could not find any versions of model {name}",
                                    code="NOT_FOUND")
        return {"model_version_status": [self.predictors[number].version_status()
                                         for number in sorted(self.predictors, reverse=True)]}


def make_app(registry, backend=None, backend_timeout=300.0):
    """The application behind the HTTP front end: `app(Request) -> Response`.

    Args:
        registry: A `ModelRegistry`.
        backend: Optional TF Serving REST URL that `/v1/...` requests go to.
        backend_timeout: Seconds to wait for the backend.
    """

    def forward(request):
        """Sends the request on to the backend model server and relays its answer."""
        outgoing = urllib.request.Request(
            backend.rstrip("/") + request.target,
            data=request.body if request.method == "POST" else None, method=request.method,
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(outgoing, timeout=backend_timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        except (urllib.error.URLError, OSError) as error:
            raise rest.RequestError(f"The backend model server {backend} cannot be reached: "
                                    f"{getattr(error, 'reason', error)}", status=502) from None
        return http_server.Response(status, body)

    def app(request):
        path = request.path
        try:
            if request.method == "GET" and path in _STATIC:
                name, content_type = _STATIC[path]
                with open(os.path.join(WEB_DIR, name), "rb") as handle:
                    return http_server.Response(HTTPStatus.OK, handle.read(), content_type,
                                                (("Cache-Control", "no-cache"),))
            if request.method == "GET" and path == "/config":
                return http_server.json_response(HTTPStatus.OK, registry.page_config())
            if request.method == "GET" and path == "/examples":
                return http_server.json_response(HTTPStatus.OK,
                                                 {"examples": registry.examples()})
            if backend and path.startswith("/v1/"):
                return forward(request)
            if not rest.API_PATH.fullmatch(path):
                raise rest.RequestError(f"Malformed request: {request.method} {path}", status=404)
            return http_server.json_response(
                *rest.handle_request(registry, request.method, path, request.body))
        except rest.RequestError as error:
            return http_server.json_response(error.status, rest.error_response(error))

    return app


def make_server(export_base, model_name="seg2vid", host="127.0.0.1", port=8501,
                max_request_mb=64.0, backend=None, limits=None, batching=None):
    """The HTTP server (not started) for the model; `port=0` picks a free port.

    Args:
        export_base: Directory of all-digit version subdirectories.
        model_name: The name requests use.
        host: Address to bind.
        port: Port (0: a free one, see `server.server_address`).
        max_request_mb: Largest request body in MiB (413 beyond).
        backend: With it, `/v1/...` goes to that server; the export still gives
            the page its size, classes and examples.
        limits: `http_server.Limits` for the rest (timeouts, pool, queue); the
            defaults when `None`. `max_request_mb` sets its body limit.
        batching: `batching.BatchingParameters` to merge concurrent predicts
            (TF Serving's `--enable_batching`), or None.

    Returns:
        An `http_server.HTTPServer` with a `registry` attribute.
    """
    registry = ModelRegistry(export_base, model_name, batching)
    limits = dataclasses.replace(limits or http_server.Limits(),
                                 max_body_bytes=int(max_request_mb * 1024 * 1024))
    server = http_server.HTTPServer((host, port), make_app(registry, backend), limits)
    server.registry = registry
    return server


def warm_up(url, model_name, label_png):
    """One `seg2vid_png` predict (a warm-up); raises on failure."""
    result = load_test(url, model_name, label_png, 1)
    if result["errors"]:
        raise RuntimeError(f"The warm-up request failed: {result['first_error']}")
    return result


def start_in_thread(server):
    """Serves `server` in a daemon thread; returns the thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def start_warm(export_base, model_name="seg2vid", **server_options):
    """A loopback server on a free port, started and warmed up with the export's first example.

    Args:
        export_base: Directory of all-digit version subdirectories.
        model_name: The name requests use.
        **server_options: More `make_server` arguments (`limits`, `batching`, ...).

    Returns:
        `(server, url, label_png)`: the running server, its base URL and the example's PNG.

    Raises:
        RuntimeError: The warm-up request failed (the server is shut down first).
    """
    server = make_server(export_base, model_name, port=0, **server_options)
    start_in_thread(server)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        label_png = base64.b64decode(server.registry.examples()[0]["png_b64"])
        warm_up(url, model_name, label_png)  # traces and loads
    except BaseException:
        server.shutdown()
        server.server_close()
        raise
    return server, url, label_png


def load_test(url, model_name, label_png, num_requests, seed=0, timeout=600.0,
              requests_per_client=1):
    """Concurrent clients sending `seg2vid_png` predicts (one video each); throughput, latencies.

    Args:
        url: The server's base URL.
        model_name: The model's name in request paths.
        label_png: A label map PNG (bytes) every request sends.
        num_requests: Concurrent clients (each sends one request by default).
        seed: Seed of the first request; each further request takes the next.
        timeout: Seconds a request may take.
        requests_per_client: Requests each client sends back to back.

    Returns:
        dict: `requests` (all of them), `errors`, `seconds`, `throughput_rps`, `median_s`,
        `p99_s`, and the first error message if any.

    Raises:
        ValueError: `num_requests` or `requests_per_client` below 1.
    """
    if num_requests < 1 or requests_per_client < 1:
        raise ValueError(f"load_test needs num_requests and requests_per_client >= 1, got "
                         f"{num_requests} and {requests_per_client}.")
    body_of = lambda number: json.dumps({  # noqa: E731
        "signature_name": "seg2vid_png",
        "instances": [{"label_map_png_bytes": {"b64": base64.b64encode(label_png).decode()},
                       "seed": seed + number}]}).encode()

    def one(number):
        request = urllib.request.Request(f"{url}/v1/models/{model_name}:predict",
                                         data=body_of(number), method="POST")
        begin = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                json.loads(response.read())
            return time.perf_counter() - begin, None
        except urllib.error.HTTPError as error:
            return time.perf_counter() - begin, error.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as error:
            return time.perf_counter() - begin, str(error)

    def client(number):
        return [one(number * requests_per_client + index) for index in range(requests_per_client)]

    begin = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=num_requests) as pool:
        results = [result for results in pool.map(client, range(num_requests))
                   for result in results]
    seconds = time.perf_counter() - begin
    latencies = sorted(latency for latency, _ in results)
    errors = [error for _, error in results if error]
    p99_index = min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))
    return {"requests": len(results), "errors": len(errors), "seconds": seconds,
            "throughput_rps": len(results) / seconds,
            "median_s": latencies[len(latencies) // 2] if len(latencies) % 2
            else 0.5 * (latencies[len(latencies) // 2 - 1] + latencies[len(latencies) // 2]),
            "p99_s": latencies[p99_index], "first_error": errors[0] if errors else None}
