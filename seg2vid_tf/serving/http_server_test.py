"""The HTTP front end as a hostile client and a crowd would use it.

Every malformed request must get a JSON `{"error": ...}` answer with a 4xx (never
a 5xx, an HTML page, a reset or silence), and a refused request must never
leave bytes behind that the next request on the connection would be read from.
The application here is a stub (no model): the REST routes behind it are
`seg2vid_tf.serving.local_server.make_app` over a registry that knows one model, `m`.
"""

import concurrent.futures
import http.client
import json
import socket
import threading
import time

import pytest
import tensorflow as tf

from seg2vid_tf.serving import http_server, local_server
from seg2vid_tf.serving import rest
from seg2vid_tf.testing import hostile_http


class _StubPredictor:
    """Decodes the request as TF Serving would for one int64 input; answers a 0 per row."""

    def predict_json(self, document):
        _, inputs, _ = rest.decode_request(document, {"x": tf.int64})
        return json.dumps({"predictions": [0] * len(inputs["x"])})

    def metadata(self):
        return {"model_spec": {"name": "m"}}


class _StubRegistry:
    def get(self, name, version=None, label=None):
        if label is not None:
            raise rest.RequestError(f"Unrecognized servable version label: {label}",
                                    code="INVALID_ARGUMENT")
        if name != "m" or version not in (None, 1):
            raise rest.RequestError(f"Servable not found for request: Latest({name})",
                                    code="NOT_FOUND")
        return _StubPredictor()

    def status(self, name, version=None):
        if name != "m":
            raise rest.RequestError(f"Could not find any versions of model {name}",
                                    code="NOT_FOUND")
        return {"model_version_status": [{"version": "1", "state": "AVAILABLE"}]}


def _start(limits, app=None):
    server = http_server.HTTPServer(("127.0.0.1", 0), app or local_server.make_app(_StubRegistry()),
                                    limits)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(name="server", scope="module")
def _server():
    server = _start(http_server.Limits(max_body_bytes=4096, max_header_bytes=8192,
                                       request_timeout_s=1.0, idle_timeout_s=2.0))
    yield server
    server.shutdown()
    server.server_close()


def _connect(server, timeout=5.0):
    return socket.create_connection(server.server_address[:2], timeout=timeout)


def _exchange(server, raw):
    with _connect(server) as sock:
        sock.sendall(raw)
        return _read_response(sock)


VALID_PREDICT = (b'POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 19\r\n\r\n'
                 b'{"instances": [1]}\n')
VALID_STATUS = hostile_http.status_request()
_read_response = hostile_http.read_response
_post = hostile_http.post


HOSTILE = hostile_http.hostile_requests()


def test_there_are_well_over_130_hostile_cases():
    assert len(HOSTILE) >= 130


@pytest.mark.parametrize("name,raw,status", HOSTILE, ids=[case[0] for case in HOSTILE])
def test_hostile_request_gets_a_json_4xx_and_no_desync(server, name, raw, status):
    del name
    # The valid request sent right behind it must never be read from the refused one's bytes.
    result = hostile_http.send_and_check(server.server_address[:2], raw, status, timeout=5.0)
    assert result["status"] == status, result
    assert result["json_error"] and not result["desync"], result


def test_wrong_method_names_the_allowed_ones(server):
    status, headers, body = _exchange(server, b"PUT /v1/models/m HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405 and headers["Allow"] == "GET, POST" and "PUT" in body["error"]


def test_refused_posts_do_not_desync_keep_alive(server):
    """Unknown model, a POST to the status URL, an unknown version: then a valid predict."""
    with _connect(server) as sock:
        refused = [_post(b"/v1/models/nope:predict", b'{"instances": [1]}'),
                   _post(b"/v1/models/m", VALID_STATUS),
                   _post(b"/v1/models/m/versions/9:predict", b'{"instances": [1]}')]
        sock.sendall(b"".join(refused) + VALID_PREDICT)
        statuses = []
        for _ in range(4):
            try:
                statuses.append(_read_response(sock))
            except (http.client.RemoteDisconnected, ConnectionError):
                break
        assert [status for status, _, _ in statuses] == [404, 400, 404, 200]
        assert statuses[-1][2] == {"predictions": [0]}


def test_keep_alive_serves_many_requests_on_one_connection(server):
    with _connect(server) as sock:
        for _ in range(20):
            sock.sendall(VALID_PREDICT)
            status, _, body = _read_response(sock)
            assert status == 200 and body == {"predictions": [0]}


def test_slow_clients_are_timed_out_and_do_not_hold_the_server(server):
    slow = []
    for index in range(24):
        sock = _connect(server)
        sock.sendall(b"POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100"
                     b"\r\n\r\n{" if index % 2 else b"GET /v1/models/m HTTP/1.1\r\nHo")
        slow.append(sock)
    try:
        begin = time.monotonic()
        assert _exchange(server, VALID_STATUS)[0] == 200  # answered while they dawdle
        assert time.monotonic() - begin < 0.9
        for sock in slow:
            status, _, body = _read_response(sock)  # the 1 s request deadline
            assert status == 408 and "did not arrive within 1" in body["error"]
    finally:
        for sock in slow:
            sock.close()


def test_an_idle_keep_alive_connection_is_closed(server):
    with _connect(server) as sock:
        sock.sendall(VALID_STATUS)
        assert _read_response(sock)[0] == 200
        sock.settimeout(5.0)
        begin = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server, without an answer
        assert 1.5 < time.monotonic() - begin < 4.5


def test_64_concurrent_clients_all_answered(server):
    def one(_):
        connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
        try:
            connection.request("POST", "/v1/models/m:predict", body=b'{"instances": [1, 2]}')
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        answers = list(pool.map(one, range(64)))
    assert answers == [(200, {"predictions": [0, 0]})] * 64


def test_saturated_server_answers_503_in_json():
    release = threading.Event()

    def blocking_app(request):
        release.wait(10)
        return http_server.json_response(200, {"path": request.path})

    server = _start(http_server.Limits(num_workers=1, max_pending=2), blocking_app)
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(_exchange, server, VALID_STATUS) for _ in range(2)]
            time.sleep(0.5)  # both accepted: one running, one waiting
            status, _, body = _exchange(server, VALID_STATUS)
            assert status == 503 and "busy" in body["error"]
            release.set()
            assert [future.result()[0] for future in futures] == [200, 200]
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_too_many_connections_get_503():
    server = _start(http_server.Limits(max_connections=2, idle_timeout_s=5.0))
    held = [_connect(server), _connect(server)]
    try:
        for sock in held:  # both are open connections now (answered, kept alive)
            sock.sendall(VALID_STATUS)
            assert _read_response(sock)[0] == 200
        status, _, body = _exchange(server, VALID_STATUS)
        assert status == 503 and "too many open connections" in body["error"]
    finally:
        for sock in held:
            sock.close()
        server.shutdown()
        server.server_close()


def test_application_crash_is_a_json_500_and_the_server_lives_on():
    def crashing_app(request):
        if request.path == "/crash":
            raise RuntimeError("boom")
        return http_server.json_response(200, {"ok": True})

    server = _start(http_server.Limits(), crashing_app)
    try:
        status, _, body = _exchange(server, b"GET /crash HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 500 and body == {"error": "RuntimeError: boom"}
        assert _exchange(server, b"GET /fine HTTP/1.1\r\nHost: x\r\n\r\n")[2] == {"ok": True}
    finally:
        server.shutdown()
        server.server_close()


def test_expect_100_continue_is_honoured(server):
    with _connect(server) as sock:
        body = b'{"instances": [1]}'
        sock.sendall(b"POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
        sock.sendall(body)
        assert _read_response(sock)[2] == {"predictions": [0]}


def _serve_in_thread(server):
    """Starts `serve_forever` in a thread; returns (thread, exceptions it raised)."""
    errors = []

    def serve():
        try:
            server.serve_forever()
        except Exception as error:  # pylint: disable=broad-except
            errors.append(error)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, errors


def test_a_shutdown_before_serving_starts_wins_and_nothing_listens_on_a_closed_socket():
    server = http_server.HTTPServer(("127.0.0.1", 0), local_server.make_app(_StubRegistry()))
    server.shutdown()  # returns although nothing serves yet
    server.server_close()
    thread, errors = _serve_in_thread(server)
    thread.join(10.0)
    assert not thread.is_alive() and errors == []


def test_a_shutdown_right_after_the_start_ends_the_thread_and_a_second_one_returns():
    for _ in range(20):  # the shutdown lands before, during or after the loop starts listening
        server = http_server.HTTPServer(("127.0.0.1", 0), local_server.make_app(_StubRegistry()))
        thread, errors = _serve_in_thread(server)
        server.shutdown()
        server.server_close()
        thread.join(10.0)
        assert not thread.is_alive() and errors == []
        server.shutdown()


def test_serving_on_a_closed_socket_raises_instead_of_running_deaf():
    server = http_server.HTTPServer(("127.0.0.1", 0), local_server.make_app(_StubRegistry()))
    server.server_close()  # no shutdown: serve_forever must fail, not idle without listening
    thread, errors = _serve_in_thread(server)
    thread.join(10.0)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], OSError), errors
