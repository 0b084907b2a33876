"""Malformed and hostile HTTP requests, and a raw client to send them.

Used by the HTTP front end's tests (`seg2vid_tf/serving/http_server_test.py`,
against a stub application) and by `tools/hostile_clients.py` (against the
local server with a real export), so that both throw the same cases.
"""

import http.client
import json
import socket
import weakref


class _Unclosable:
    """A view of a socket's buffered reader that `HTTPResponse` cannot close."""

    def __init__(self, reader):
        self._reader = reader

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def close(self):
        """Leaves the shared reader open for the next answer on the connection."""


class _SharedReaderSocket:
    """Hands `HTTPResponse` the socket's one buffered reader instead of a new one.

    `http.client.HTTPResponse(sock)` wraps the socket in a fresh buffered file
    each time; when two answers arrive in one TCP segment, the first file's
    buffer swallows the second answer and it is lost with that file. One reader
    per socket keeps every byte for the answer it belongs to.
    """

    _readers = weakref.WeakKeyDictionary()

    def __init__(self, sock):
        if sock not in self._readers:
            self._readers[sock] = sock.makefile("rb")
        self._reader = self._readers[sock]

    def makefile(self, *args, **kwargs):
        del args, kwargs
        return _Unclosable(self._reader)


def read_response(sock):
    """(status, headers, parsed JSON body or the raw bytes) of one answer on `sock`.

    Successive calls on one socket read successive answers, pipelined or not.
    """
    response = http.client.HTTPResponse(_SharedReaderSocket(sock))
    response.begin()
    body = response.read()
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = body
    return response.status, dict(response.getheaders()), parsed


def status_request(model=b"m"):
    """A valid `GET /v1/models/<model>` (the model's version status)."""
    return b"GET /v1/models/" + model + b" HTTP/1.1\r\nHost: x\r\n\r\n"


def post(path, body, extra=b""):
    """A raw POST of `body` to `path` with its Content-Length (and `extra` header lines)."""
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def hostile_requests(model=b"m", max_body_bytes=4096, max_header_bytes=8192):
    """(name, raw bytes, expected status) for the malformed and hostile requests.

    Args:
        model: The model name in the request paths (bytes).
        max_body_bytes: The server's body limit (the oversized cases exceed it).
        max_header_bytes: The server's request-line and header limit.

    Returns:
        list of `(name, raw request bytes, expected HTTP status)`.
    """
    api = b"/v1/models/" + model
    return (_framing_cases(api, max_body_bytes, max_header_bytes)
            + _body_cases(api, max_body_bytes) + _path_cases(api, model))


def _framing_cases(api, max_body_bytes, max_header_bytes):
    """`hostile_requests`' bad methods, request lines, versions, headers and lengths."""
    cases, over = [], max_header_bytes + 808
    for method in (b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"TRACE", b"HEAD", b"CONNECT",
                   b"FOO", b"get", b"BREW"):
        for path in (b"/", api, api + b":predict", b"/nowhere"):
            cases.append((f"{method.decode()} {path.decode()}",
                          method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n", 405))
    for index, line in enumerate([b"\x00\x01\x02garbage", b"GET", b"GET /", b"GET / HTTP/1.1 extra",
                                  b" GET / HTTP/1.1", b"GET\t/\tHTTP/1.1", b"\xff\xfe\xfd / HTTP/1.1",
                                  b"GET / HTTX/1.1", b"GET / HTTP/1", b"GET / HTTP/a.b"]):
        cases.append((f"bad request line {index}", line + b"\r\nHost: x\r\n\r\n", 400))
    for seed in range(16):
        noise = bytes((seed * 37 + index * 101) % 256 for index in range(300 + 50 * seed))
        cases.append((f"binary noise {seed}", noise + b"\r\n\r\n", 400))
    cases.append(("HTTP/0.9", b"GET /\r\n\r\n", 400))
    for version in (b"2.0", b"3.0", b"0.9", b"1.2", b"9.9"):
        cases.append((f"HTTP/{version.decode()}",
                       b"GET / HTTP/" + version + b"\r\nHost: x\r\n\r\n", 400))
    cases.append(("request line over the limit", b"GET /" + b"a" * over + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                  414))
    cases.append(("header over the limit",
                  b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * over + b"\r\n\r\n", 431))
    cases.append(("150 headers", b"GET / HTTP/1.1\r\nHost: x\r\n"
                  + b"".join(b"X-%d: y\r\n" % index for index in range(150)) + b"\r\n", 431))
    cases.append(("no Host", b"GET / HTTP/1.1\r\n\r\n", 400))
    for index, header in enumerate([b"Bad Header", b"X : y", b"X\x00: y", b"X(y): z",
                                    b"X-\xff: y", b": no name"]):
        cases.append((f"bad header {index}",
                      b"GET / HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n", 400))
    for value in (b"-1", b"abc", b"1e3", b"5, 6", b" ", b"99999999999999999999999", b"+5",
                  b"0x10", b"", b"5 5", b"%d" % (max_body_bytes + 1)):
        cases.append((f"Content-Length {value!r}",
                       b"POST " + api + b":predict HTTP/1.1\r\nHost: x\r\nContent-Length: "
                       + value + b"\r\n\r\n{}", 413 if value == b"%d" % (max_body_bytes + 1) else 400))
    return cases


def _body_cases(api, max_body_bytes):
    """`hostile_requests`' bad transfer framing and bad JSON bodies of a predict call."""
    cases = []
    cases.append(("two Content-Lengths", b"POST " + api + b":predict HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400))
    cases.append(("Transfer-Encoding gzip", b"POST " + api + b":predict HTTP/1.1\r\nHost: x\r\n"
                  b"Transfer-Encoding: gzip\r\n\r\n{}", 400))
    cases.append(("bad chunk", b"POST " + api + b":predict HTTP/1.1\r\nHost: x\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400))
    cases.append(("body over the limit", post(api + b":predict", b"[" * (max_body_bytes + 904)), 413))
    cases.append(("chunked body over the limit", b"POST " + api + b":predict HTTP/1.1\r\nHost: x"
                  b"\r\nTransfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % max_body_bytes + b" " * max_body_bytes + b"\r\n"
                  + b"10\r\n" + b" " * 16 + b"\r\n0\r\n\r\n",
                  413))
    deep = {"arrays": b"[" * 200 + b"]" * 200, "objects": b'{"a":' * 200 + b"1" + b"}" * 200,
            "instances": b'{"instances": ' + b"[" * 300 + b"1" + b"]" * 300 + b"}",
            "label map 70 deep": b'{"instances": [{"label_map": ' + b"[" * 70 + b"0"
            + b"]" * 70 + b"}]}"}
    for name, body in deep.items():
        cases.append((f"deep JSON: {name}", post(api + b":predict", body), 400))
    for name, body in {"empty": b"", "not JSON": b"nope", "array": b"[1]", "string": b'"x"',
                       "truncated": b'{"instances": [', "NUL": b"\x00" * 10,
                       "signature not a string": b'{"signature_name": 1, "instances": [1]}',
                       "no instances": b'{"x": 1}'}.items():
        cases.append((f"bad body: {name}", post(api + b":predict", body), 400))
    for index, body in enumerate([b'{"instances": [1, [2]]}', b'{"instances": [[1], [2, 3]]}',
                                  b'{"instances": ["a"]}', b'{"instances": [1.5]}',
                                  b'{"instances": [true]}', b'{"instances": [{"y": 1}]}',
                                  b'{"instances": [{"b64": "!!"}]}',
                                  b'{"instances": [99999999999999999999999]}',
                                  b'{"instances": []}', b'{"instances": 5}',
                                  b'{"inputs": {"y": 1}}', b'{"inputs": [1], "instances": [1]}',
                                  b'{"instances": [null]}', b'{"instances": [NaN]}',
                                  b'{"instances": [1e400]}']):
        cases.append((f"bad tensor {index}", post(api + b":predict", body), 400))
    return cases


def _path_cases(api, model):
    """`hostile_requests`' predict calls to unknown or malformed paths."""
    cases = []
    for path, status in ((b"/v1/models/unknown:predict", 404),
                         (api + b"/versions/7:predict", 404), (api, 400),
                         (api + b"/metadata", 400), (b"/elsewhere", 404),
                         (api + b"/versions/99999999999999999999:predict", 400),
                         (api + b"/labels/x:predict", 400), (b"/v1/models/:predict", 400),
                         (api + b"/versions/:predict", 400),
                         (b"/v1//models/" + model + b":predict", 400), (api + b":predict/extra", 400),
                         (b"/%zz", 404), (api + b"%00:predict", 404)):
        cases.append((f"POST {path.decode()}", post(path, b'{"instances": [1]}'), status))
    return cases


def send_and_check(address, raw, expected_status, model=b"m", timeout=30.0):
    """Sends `raw` then a valid status request on one connection; classifies the answers.

    Returns:
        dict: `status`, `json_error` (the body is `{"error": <non-empty str>}` and the
        Content-Type JSON), `expected` (the status is `expected_status`), `desync`
        (a second answer came that is not the valid request's), `closed` (the server
        closed after the first answer), `no_answer` (nothing parsable came back).
    """
    result = {"status": None, "json_error": False, "expected": False, "desync": False,
              "closed": False, "no_answer": False}
    with socket.create_connection(address, timeout=timeout) as sock:
        try:
            sock.sendall(raw + status_request(model))
        except OSError:
            pass  # the server may close while a large request is still being sent
        try:
            status, headers, body = read_response(sock)
        except (http.client.HTTPException, OSError):
            result["no_answer"] = True
            return result
        result.update(status=status, expected=status == expected_status,
                      json_error=(isinstance(body, dict) and isinstance(body.get("error"), str)
                                  and bool(body["error"])
                                  and headers.get("Content-Type") == "application/json"))
        try:
            following = read_response(sock)
        except (http.client.HTTPException, OSError):
            result["closed"] = True
            return result
        result["desync"] = not (following[0] == 200 and isinstance(following[2], dict)
                                and "model_version_status" in following[2])
    return result
