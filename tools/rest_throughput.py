"""Videos per second through the local REST server, concurrent clients on loopback.

    python -m tools.rest_throughput [--export_bases=A,B] [--clients=32] \
        [--requests_per_client=4] [--rounds=3] [--output_json=F]

Serves each export with `--enable_batching` (TF Serving's default batching
parameters: concurrent predicts of a signature merged into one call), each in
its own server in this process. Every round sends, to each server in turn,
`--clients` concurrent clients of `--requests_per_client` `seg2vid_png`
predicts back to back (one video each, the export's first example label map);
a round of one server runs while the others are idle, so the exports are
compared on the same machine state. Prints and writes, per export, the median
videos/s of the rounds, each round's, the errors and the median latency. The
speed issue's target at demo size: 15 videos/s with 32 clients and no error
(docs/performance.md, docs/serving.md). Without `--export_bases` the demo
model's export (written from the shipped weights when missing).
"""

import json
import statistics
import sys

from absl import app, flags

from seg2vid_tf import serve
from seg2vid_tf.serving import batching
from tools import results


def define_flags():
    """Defines the flags; called only when run as a script (see tools/hostile_clients.py)."""
    flags.DEFINE_list("export_bases", [], "Exports to compare (default: the demo model's).")
    flags.DEFINE_integer("clients", 32, "Concurrent clients.")
    flags.DEFINE_integer("requests_per_client", 4, "Predicts each client sends back to back.")
    flags.DEFINE_integer("rounds", 3, "Rounds (each export once per round).")
    flags.DEFINE_string("output_json", None, "Also write the result here.")


def measure(export_bases, clients, requests_per_client, rounds):
    """Per export: median videos/s over `rounds`, each round's, errors and latency.

    Args:
        export_bases: Export directories (TF Serving base paths).
        clients: Concurrent clients.
        requests_per_client: Predicts each client sends back to back.
        rounds: Rounds; in each, the exports one after the other.

    Returns:
        dict with `clients`, `requests_per_client`, `rounds` and `exports`: export
        base -> {`videos_per_second`, `rounds_videos_per_second`, `errors`,
        `median_latency_s`, `first_error`}.

    Raises:
        ValueError: A count below 1, no export or one named twice.
        RuntimeError: An export's warm-up request failed.
    """
    if clients < 1 or requests_per_client < 1 or rounds < 1 or not export_bases:
        raise ValueError(f"--clients, --requests_per_client and --rounds must be >= 1 and "
                         f"--export_bases not empty; got {clients}, {requests_per_client}, "
                         f"{rounds} and {export_bases}.")
    if len(set(export_bases)) != len(export_bases):
        raise ValueError(f"--export_bases names an export twice: {export_bases}.")
    servers = {}
    runs = {base: [] for base in export_bases}
    try:
        for base in export_bases:
            servers[base] = serve.start_warm(base, batching=batching.BatchingParameters())
            # One untimed wave: the merged batch sizes the timed rounds will see.
            serve.load_test(servers[base][1], "seg2vid", servers[base][2], clients)
        for _ in range(rounds):
            for base, (_, url, label_png) in servers.items():
                runs[base].append(serve.load_test(url, "seg2vid", label_png, clients,
                                                  requests_per_client=requests_per_client))
    finally:
        for server, _, _ in servers.values():
            server.shutdown()
            server.server_close()
    exports = {}
    for base, measured in runs.items():
        errors = [run["first_error"] for run in measured if run["first_error"]]
        exports[base] = {
            "videos_per_second": statistics.median(run["throughput_rps"] for run in measured),
            "rounds_videos_per_second": [round(run["throughput_rps"], 3) for run in measured],
            "errors": sum(run["errors"] for run in measured),
            "median_latency_s": statistics.median(run["median_s"] for run in measured),
            "first_error": errors[0] if errors else None}
    return {"clients": clients, "requests_per_client": requests_per_client, "rounds": rounds,
            "exports": exports}


def main(argv):
    del argv
    values = flags.FLAGS
    export_bases = values.export_bases
    if not export_bases:
        from seg2vid_tf.demos import showcase  # pylint: disable=import-outside-toplevel
        export_bases = [showcase.export_shipped_weights(serve.DEMO_EXPORT_BASE)]
    try:
        result = measure(export_bases, values.clients, values.requests_per_client, values.rounds)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    results.write_json(result, values.output_json)
    return 0 if all(entry["errors"] == 0 for entry in result["exports"].values()) else 1


if __name__ == "__main__":
    define_flags()
    sys.exit(app.run(main))
