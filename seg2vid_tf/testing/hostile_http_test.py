"""The raw client's reader: answers that arrive together are all read."""

import socket
import threading

from seg2vid_tf.testing import hostile_http


def _server_sending(payload):
    """A one-shot server that writes `payload` in one send after the first bytes arrive."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer():
        with listener, listener.accept()[0] as connection:
            connection.recv(16)
            connection.sendall(payload)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return listener.getsockname(), thread


def test_two_answers_in_one_segment_are_both_read():
    # The bug this guards: a fresh buffered file per answer swallowed the second one.
    address, thread = _server_sending(
        b'HTTP/1.1 404 Not Found\r\nContent-Length: 14\r\n\r\n{"error": "x"}'
        + b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n\r\n[1]")
    with socket.create_connection(address, timeout=5.0) as sock:
        sock.sendall(b"go")
        first = hostile_http.read_response(sock)
        second = hostile_http.read_response(sock)
    thread.join(timeout=5.0)
    assert first[0] == 404 and first[2] == {"error": "x"}
    assert second[0] == 200 and second[2] == [1]
    assert second[1]["Content-Type"] == "application/json"
