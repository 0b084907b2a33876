"""Runs a script as a cluster of worker processes on localhost (MultiWorkerMirroredStrategy).

Used by the trainers' tests to check that only the chief writes, with real
processes talking over gRPC, one CPU each.
"""

import json
import os
import socket
import subprocess
import sys
import time


def free_ports(count):
    """`count` TCP ports free on localhost right now."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def worker_reports(script, cwd, count=2, timeout=300, **variables):
    """Runs `script` as `count` workers and returns each one's report.

    Args:
        script: Python source that prints a JSON report as its last line; the
            `variables` are assigned before it (`NAME = repr(value)`).
        cwd: Working directory of the processes.
        count: Number of workers (worker 0 is the chief).
        timeout: Seconds for the whole run.
        **variables: Values the script reads.

    Returns:
        The parsed reports, in worker order.

    Raises:
        AssertionError: A worker failed (its stderr's tail is the message).
    """
    preamble = "".join(f"{name} = {value!r}\n" for name, value in variables.items())
    outputs = run_workers(preamble + script, cwd, count, timeout)
    for returncode, _, stderr in outputs:
        if returncode != 0:
            raise AssertionError(stderr[-3000:])
    return [json.loads(stdout.strip().splitlines()[-1]) for _, stdout, _ in outputs]


def run_workers(script, cwd, count=2, timeout=300):
    """Runs `python -c script` as `count` workers of one `TF_CONFIG` cluster.

    Args:
        script: Python source; each worker's `TF_CONFIG` names its index.
        cwd: Working directory of the processes.
        count: Number of workers (worker 0 is the chief).
        timeout: Seconds for the whole run; a worker whose peer died would wait forever.

    Returns:
        `[(returncode, stdout, stderr)]` in worker order.
    """
    workers = [f"localhost:{port}" for port in free_ports(count)]
    processes = []
    try:
        for index in range(count):
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=json.dumps(
                {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
            processes.append(subprocess.Popen(
                [sys.executable, "-c", script], cwd=cwd, env=env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        deadline = time.monotonic() + timeout
        outputs = []
        for process in processes:
            stdout, stderr = process.communicate(timeout=max(deadline - time.monotonic(), 1))
            outputs.append((process.returncode, stdout, stderr))
        return outputs
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
