"""Throws malformed, hostile, slow and concurrent clients at the local server; prints the tally.

    python -m tools.hostile_clients [--export_base=demo_output/export/seg2vid]

Starts `seg2vid_tf.serve` in-process on the export (the demo model's export is
written from the shipped weights when missing), then:

* sends every case of `seg2vid_tf.testing.hostile_http.hostile_requests`, each
  followed on the same connection by a valid request, and counts 5xx answers,
  non-JSON errors, answers other than the expected status, missing answers and
  desyncs (a second answer that is not the valid request's);
* opens 24 clients that send half a request and stop, checks that a valid
  request is answered meanwhile and that each slow client gets 408;
* sends 64 concurrent valid predicts (`seg2vid_png`) and counts errors;
* checks that the server still answers at the end.
"""

import json
import socket
import sys
import time

from absl import app, flags

from seg2vid_tf import serve
from seg2vid_tf.serving import http_server
from seg2vid_tf.testing import hostile_http


def define_flags():
    """Defines the flags; called only when run as a script.

    Tests import several tools into one process, and absl refuses a flag defined twice.
    """
    flags.DEFINE_string("export_base", None, "Export to serve (default: the demo model's export).")
    flags.DEFINE_float("request_timeout_s", 3.0, "The server's request deadline for this run.")
    flags.DEFINE_integer("concurrent", 64, "Concurrent valid predict requests.")
    flags.DEFINE_integer("slow_clients", 24, "Clients that send half a request and stop.")


def hostile_campaign(address, model, limits):
    """Every hostile case once; returns the tally and the cases that went wrong."""
    cases = hostile_http.hostile_requests(model.encode(), limits.max_body_bytes,
                                          limits.max_header_bytes)
    tally = {"requests": len(cases), "5xx": 0, "non_json": 0, "unexpected_status": 0,
             "no_answer": 0, "desync": 0}
    wrong = []
    for name, raw, expected in cases:
        result = hostile_http.send_and_check(address, raw, expected, model.encode())
        problems = [key for key, bad in (
            ("5xx", (result["status"] or 0) >= 500), ("non_json", not result["json_error"]),
            ("unexpected_status", not result["expected"]), ("no_answer", result["no_answer"]),
            ("desync", result["desync"])) if bad]
        for key in problems:
            tally[key] += 1
        if problems:
            wrong.append({"case": name, "expected": expected, "got": result["status"],
                          "problems": problems})
    return tally, wrong


def slow_clients(address, model, count, timeout_s):
    """`count` half-sent requests; a valid request meanwhile; then each slow client's answer."""
    held = []
    for index in range(count):
        sock = socket.create_connection(address, timeout=timeout_s + 10)
        sock.sendall(b"POST /v1/models/" + model.encode() + b":predict HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"inst" if index % 2 else b"GET /v1/mod")
        held.append(sock)
    begin = time.monotonic()
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(hostile_http.status_request(model.encode()))
        served = hostile_http.read_response(sock)[0] == 200
    served_s = time.monotonic() - begin
    statuses = []
    for sock in held:
        try:
            statuses.append(hostile_http.read_response(sock)[0])
        except OSError as error:
            statuses.append(str(error))
        sock.close()
    return {"slow_clients": count, "valid_request_served_meanwhile": served,
            "valid_request_seconds": round(served_s, 3),
            "timed_out_408": sum(status == 408 for status in statuses),
            "seconds_until_all_answered": round(time.monotonic() - begin, 2)}


def main(argv):
    del argv
    values = flags.FLAGS
    export_base = values.export_base
    if not export_base:
        from seg2vid_tf.demos import showcase  # pylint: disable=import-outside-toplevel
        export_base = showcase.export_shipped_weights(serve.DEMO_EXPORT_BASE)
    limits = http_server.Limits(request_timeout_s=values.request_timeout_s)
    server, url, label_png = serve.start_warm(export_base, limits=limits)
    address = ("127.0.0.1", server.server_address[1])
    tally, wrong = hostile_campaign(address, "seg2vid", limits)
    slow = slow_clients(address, "seg2vid", values.slow_clients, values.request_timeout_s)
    load = serve.load_test(url, "seg2vid", label_png, values.concurrent)
    alive = serve.warm_up(url, "seg2vid", label_png)["errors"] == 0
    server.shutdown()
    server.server_close()
    report = {"hostile": tally, "wrong": wrong, "slow": slow,
              "concurrent": {key: load[key] for key in ("requests", "errors", "seconds",
                                                        "throughput_rps", "first_error")},
              "alive_at_end": alive}
    print(json.dumps(report, indent=2))
    ok = (not wrong and slow["timed_out_408"] == slow["slow_clients"]
          and slow["valid_request_served_meanwhile"] and load["errors"] == 0 and alive)
    return 0 if ok else 1


if __name__ == "__main__":
    define_flags()
    sys.exit(app.run(main))
