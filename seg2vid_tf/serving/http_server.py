"""The HTTP/1.1 front end of the local server: asyncio connections, h11 parsing, JSON errors.

`python -m seg2vid_tf.serve` answers TF Serving's REST API (`seg2vid_tf.serving.rest`)
through this server. It is built for clients that misbehave:

* Requests are parsed by h11 (a maintained, sans-I/O HTTP/1.1 parser), so a
  garbage request line, binary noise, HTTP/0.9, a bad `Content-Length` or an
  unknown `Transfer-Encoding` never reaches the application.
* Every refusal is JSON, `{"error": "..."}`, with the 4xx that says why: 400 bad
  request, 405 a method other than GET/POST (with `Allow`), 408 a request that
  did not arrive within `request_timeout_s`, 413 a body over `max_body_bytes`,
  414 a request line or 431 headers over `max_header_bytes` (or more than
  `max_headers`), 400 an HTTP version other than 1.0/1.1, and 503 when the
  server is saturated. The connection is closed after each refusal, so an
  unread body is never parsed as the next request (no keep-alive desync).
* Connections cost no thread: they are coroutines. A client that sends slowly
  holds nothing but its socket until its deadline. Requests that passed the
  parser run the (blocking) application on a bounded thread pool; beyond
  `max_pending` waiting requests, or `max_connections` open connections, the
  answer is 503 at once.
* The listen backlog (`backlog`) absorbs bursts of new connections.

`HTTPServer` keeps the calls a `socketserver` server has (`server_address`,
`serve_forever`, `shutdown`, `server_close`), so callers start it in a thread
the same way.
"""

import asyncio
import concurrent.futures
import dataclasses
import json
import socket
import threading
import time
from http import HTTPStatus

import h11
from absl import logging

ALLOWED_METHODS = ("GET", "POST")
_READ_CHUNK = 1 << 16


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one client may ask of the server.

    Attributes:
        max_body_bytes: Largest request body (413 beyond).
        max_header_bytes: Largest request line plus headers (414/431 beyond).
        max_headers: Most header fields (431 beyond).
        request_timeout_s: A request (line, headers and body) must arrive within
            this many seconds of its first byte (408 beyond).
        idle_timeout_s: A kept-alive connection with no new request is closed
            after this many seconds.
        num_workers: Threads that run the application.
        max_pending: Requests running or waiting for a thread (503 beyond).
        max_connections: Open connections (503 beyond).
        backlog: The listen backlog.
    """

    max_body_bytes: int = 64 << 20
    max_header_bytes: int = 64 << 10
    max_headers: int = 100
    request_timeout_s: float = 30.0
    idle_timeout_s: float = 15.0
    num_workers: int = 16
    max_pending: int = 256
    max_connections: int = 1024
    backlog: int = 1024


@dataclasses.dataclass
class Request:
    """One complete request as the application sees it.

    Attributes:
        method: `GET` or `POST`.
        target: The request target (path and query) as sent.
        headers: dict lower-case header name -> value (the last one if repeated).
        body: The whole body.
    """

    method: str
    target: str
    headers: dict
    body: bytes = b""

    @property
    def path(self):
        """The target without its query string."""
        return self.target.split("?", 1)[0]


@dataclasses.dataclass
class Response:
    """One answer: status, body bytes, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple = ()


def json_response(status, payload, headers=()):
    """A `Response` whose body is `payload` (a str is sent as is, anything else as JSON)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return Response(int(status), text.encode("utf-8", "surrogateescape"), headers=tuple(headers))


def error_response(status, message, headers=()):
    """TF Serving's error body `{"error": message}` with `status`."""
    return json_response(status, {"error": str(message)}, headers)


class _Refused(Exception):
    """A request refused before the application: the answer, then close."""

    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.response = error_response(status, message, headers)


def _line_too_long():
    return _Refused(HTTPStatus.REQUEST_URI_TOO_LONG,
                    "The request line is longer than the limit of the server.")


def _protocol_refusal(error, buffered, max_header_bytes):
    """h11's `RemoteProtocolError` -> the JSON refusal (414 vs 431 told apart)."""
    status = error.error_status_hint
    first_line = buffered.split(b"\n", 1)
    if len(first_line[0]) > max_header_bytes or (status == 431 and len(first_line) == 1):
        return _line_too_long()
    if status == 431:
        return _Refused(431, "The request headers are larger than the limit of the server.")
    if status >= 500:  # e.g. an unsupported Transfer-Encoding: the client's fault here
        status = 400
    return _Refused(status, f"Malformed HTTP request: {error}")


class HTTPServer:
    """An asyncio HTTP/1.1 server that calls `app(Request) -> Response` on a thread pool.

    Args:
        address: `(host, port)`; port 0 picks a free one (see `server_address`).
        app: Called with each complete `Request` on a worker thread; returns a
            `Response`. An exception becomes a 500 JSON answer (and is logged).
        limits: `Limits`.
    """

    def __init__(self, address, app, limits=Limits()):
        self.app = app
        self.limits = limits
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._socket = socket.create_server(address, family=family, backlog=limits.backlog)
        self.server_address = self._socket.getsockname()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            limits.num_workers, thread_name_prefix="seg2vid-serve")
        self._loop = None
        self._stopped = threading.Event()  # `serve_forever` has returned
        self._life_lock = threading.Lock()  # orders `serve_forever`'s start and `shutdown`
        self._stop_requested = False
        self._pending = 0
        self._connections = 0

    # ----------------------------------------------------------------- life cycle
    def serve_forever(self):
        """Serves until `shutdown` is called (from another thread).

        Returns at once when `shutdown` came first: a thread started just
        before a shutdown never listens on a socket `server_close` has closed.

        Raises:
            OSError: The server could not listen on its socket (e.g. it was closed).
        """
        with self._life_lock:
            if self._stop_requested:
                self._stopped.set()
                return
            self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        servers, failures = [], []

        async def listen():
            try:
                servers.append(await asyncio.start_server(
                    self._serve_connection, sock=self._socket, backlog=self.limits.backlog))
            except Exception as error:  # pylint: disable=broad-except  (raised below)
                failures.append(error)
                self._loop.stop()

        self._loop.create_task(listen())
        try:
            self._loop.run_forever()  # a stop queued by `shutdown` ends it even before `listen`
        finally:
            try:
                for server in servers:
                    server.close()
                tasks = asyncio.all_tasks(self._loop)
                for task in tasks:
                    task.cancel()
                if tasks:
                    self._loop.run_until_complete(
                        asyncio.gather(*tasks, return_exceptions=True))
                self._loop.close()
            finally:
                self._stopped.set()
        if failures:  # e.g. a closed socket: the caller sees why nothing listens
            raise failures[0]

    def shutdown(self):
        """Stops `serve_forever` and waits until it has returned (at once if it never ran)."""
        with self._life_lock:
            self._stop_requested = True
            loop = self._loop
        if loop is None or self._stopped.is_set():
            return
        try:
            loop.call_soon_threadsafe(loop.stop)
        except RuntimeError:  # closed in between: `serve_forever` has returned
            pass
        self._stopped.wait()

    def server_close(self):
        """Closes the listening socket and lets the worker threads go."""
        self._socket.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ----------------------------------------------------------------- connections
    async def _serve_connection(self, reader, writer):
        if self._connections >= self.limits.max_connections:
            await self._refuse_now(reader, writer,
                                   "The server has too many open connections; retry later.")
            return
        self._connections += 1
        connection = h11.Connection(h11.SERVER,
                                    max_incomplete_event_size=self.limits.max_header_bytes)
        try:
            while True:
                try:
                    request = await self._read_request(reader, writer, connection)
                except _Refused as refusal:
                    await self._write(writer, connection, refusal.response, None, close=True)
                    await _discard_until_closed(reader, writer)
                    break
                if request is None:
                    break
                response = await self._answer(request)
                if not await self._write(writer, connection, response, request.method):
                    break
                connection.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.TimeoutError, OSError):
            pass
        except asyncio.CancelledError:  # the server is shutting down
            pass
        finally:
            self._connections -= 1
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _refuse_now(self, reader, writer, message):
        """503 on a connection that gets no parser (over `max_connections`)."""
        response = error_response(HTTPStatus.SERVICE_UNAVAILABLE, message)
        try:
            writer.write(_raw_response(response))
            await asyncio.wait_for(writer.drain(), timeout=1.0)
            await _discard_until_closed(reader, writer)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass
        writer.close()

    async def _receive(self, reader, connection, deadline):
        """Reads more bytes into `connection`.

        Returns:
            The number of bytes read (0: the client closed), or `None` when no
            request had started and the connection stayed idle.

        Raises:
            _Refused: 408, a started request did not complete before `deadline`.
        """
        timeout = (self.limits.idle_timeout_s if deadline is None
                   else max(0.0, deadline - time.monotonic()))
        try:
            data = await asyncio.wait_for(reader.read(_READ_CHUNK), timeout=timeout)
        except asyncio.TimeoutError:
            if deadline is None:
                return None
            raise _Refused(HTTPStatus.REQUEST_TIMEOUT,
                           f"The request did not arrive within {self.limits.request_timeout_s:g} "
                           "seconds.") from None
        connection.receive_data(data)
        return len(data)

    async def _read_request(self, reader, writer, connection):
        """The next complete `Request`, or `None` when the client closed or went idle.

        Raises:
            _Refused: The request breaks HTTP or a limit.
        """
        deadline, request, body = None, None, bytearray()
        while True:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError as error:
                raise _protocol_refusal(error, connection.trailing_data[0],
                                        self.limits.max_header_bytes) from None
            if event is h11.NEED_DATA:
                if connection.they_are_waiting_for_100_continue:
                    writer.write(connection.send(
                        h11.InformationalResponse(status_code=100, headers=[])))
                received = await self._receive(reader, connection, deadline)
                if received is None:
                    return None
                if deadline is None and received:
                    deadline = time.monotonic() + self.limits.request_timeout_s
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            if isinstance(event, h11.Request):
                request = self._check_request(event)
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.limits.max_body_bytes:
                    raise self._too_large(len(body))
            elif isinstance(event, h11.EndOfMessage):
                request.body = bytes(body)
                return request

    def _check_request(self, event):
        """An h11 `Request` -> our `Request` (no body yet), after the header-level limits."""
        version = event.http_version.decode("ascii", "replace")
        if version not in ("1.0", "1.1"):
            # 400, not 505: the client's mistake, and no refusal here is a 5xx.
            raise _Refused(HTTPStatus.BAD_REQUEST,
                           f"HTTP/{version} is not supported; use HTTP/1.1.")
        if len(event.headers) > self.limits.max_headers:
            raise _Refused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                           f"The request has {len(event.headers)} header fields, over the limit "
                           f"of {self.limits.max_headers}.")
        if len(event.method) + len(event.target) + 11 > self.limits.max_header_bytes:
            raise _line_too_long()
        if sum(len(name) + len(value) + 4 for name, value in event.headers) > \
                self.limits.max_header_bytes:
            raise _Refused(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                           "The request headers are larger than the limit of the server.")
        method = event.method.decode("ascii", "replace")
        if method not in ALLOWED_METHODS:
            raise _Refused(HTTPStatus.METHOD_NOT_ALLOWED,
                           f"Method {method} is not allowed; this server answers "
                           f"{' and '.join(ALLOWED_METHODS)}.",
                           headers=[("Allow", ", ".join(ALLOWED_METHODS))])
        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in event.headers}
        length = headers.get("content-length")
        if length is not None and int(length) > self.limits.max_body_bytes:
            raise self._too_large(int(length))
        return Request(method, event.target.decode("latin-1"), headers)

    def _too_large(self, size):
        return _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"The request body has {size} bytes, over the limit of "
                        f"{self.limits.max_body_bytes} bytes (--max_request_mb).")

    # ----------------------------------------------------------------- answers
    async def _answer(self, request):
        """Runs the application on the pool, or 503 when too many requests wait."""
        if self._pending >= self.limits.max_pending:
            return error_response(HTTPStatus.SERVICE_UNAVAILABLE,
                                  f"The server is busy ({self._pending} requests waiting); "
                                  "retry later.")
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._executor, self._call_app, request)
        finally:
            self._pending -= 1

    def _call_app(self, request):
        try:
            return self.app(request)
        except Exception as error:  # pylint: disable=broad-except
            logging.exception("Request %s %s failed", request.method, request.target)
            return error_response(HTTPStatus.INTERNAL_SERVER_ERROR,
                                  f"{type(error).__name__}: {error}")

    async def _write(self, writer, connection, response, method, close=False):
        """Sends `response`; `True` when the connection may serve another request."""
        headers = [("Content-Type", response.content_type),
                   ("Content-Length", str(len(response.body))), *response.headers]
        if close:
            headers.append(("Connection", "close"))
        try:
            data = connection.send(h11.Response(status_code=response.status,
                                                headers=headers,
                                                reason=_reason(response.status)))
            if method != "HEAD":
                data += connection.send(h11.Data(data=response.body))
            data += connection.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            data, close = _raw_response(response), True
        writer.write(data)
        await writer.drain()
        return not close and connection.our_state is not h11.MUST_CLOSE


async def _discard_until_closed(reader, writer, seconds=1.0, most_bytes=1 << 20):
    """After a refusal: half-close, then read and drop what the client still sends.

    Closing a socket with unread bytes makes the kernel send a reset, and a client
    still sending its body would see the reset instead of the answer.
    """
    try:
        if writer.can_write_eof():
            writer.write_eof()
        deadline = time.monotonic() + seconds
        dropped = 0
        while dropped < most_bytes:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            chunk = await asyncio.wait_for(reader.read(_READ_CHUNK), timeout=left)
            if not chunk:
                break
            dropped += len(chunk)
    except (ConnectionError, OSError, asyncio.TimeoutError):
        pass


def _reason(status):
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


def _raw_response(response):
    """A complete `Connection: close` response, written without a parser state."""
    head = (f"HTTP/1.1 {response.status} {_reason(response.status).decode()}\r\n"
            f"Content-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in response.headers)
            + "Connection: close\r\n\r\n")
    return head.encode("latin-1") + response.body
