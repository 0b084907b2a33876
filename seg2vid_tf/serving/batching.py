"""Server-side batching of concurrent predicts, as TF Serving's `--enable_batching` does.

Concurrent requests to the same signature are merged along dimension 0 into one
call of the model, and the outputs are split back by rows. On a CPU the model's
arithmetic runs at a better rate on a batch than on one video at a time, and
the server makes one call where it would make many.

The scheduling follows TF Serving's `BasicBatchScheduler` (`tensorflow/core/
kernels/batching_util/`): a queue of batches per signature and input layout;
a request joins the open batch unless it would exceed `max_batch_size`, which
closes it and opens the next; a closed batch, or an open one whose first request
arrived `batch_timeout_micros` ago, goes to the first free of
`num_batch_threads` threads (of the ready batches, the one waiting longest, so
that one busy signature cannot starve another). With more than
`max_enqueued_batches` batches waiting, a request is refused at once with
UNAVAILABLE (HTTP 503) in TF Serving's words, so the queue is bounded.
`allowed_batch_sizes` pads every batch (with copies of its first row) up to the
next allowed size. The parameters are TF Serving's `BatchingParameters` text
proto, read from `--batching_parameters_file` (`read_batching_parameters`), with
its defaults.

Where this differs from TF Serving:

* When a merged call fails (say one request's PNG is corrupt), TF Serving fails
  every request of the batch with that error; here each request of the batch is
  then run alone, so that each gets its own answer: the one it gets without
  batching.
* A request whose inputs do not share dimension 0 cannot be split back, and
  runs alone at once (TF Serving refuses it); the signature then says what is
  wrong with it.

Randomness in the exported signatures is keyed by each row's seed, so a
request's video does not depend on the requests it was batched with.
"""

import collections
import dataclasses
import functools
import os
import re
import threading
import time

import numpy as np
from google.protobuf import (descriptor_pb2, descriptor_pool, message_factory, text_format,
                              wrappers_pb2)

from seg2vid_tf.serving.json_errors import RequestError

QUEUE_FULL = "The batch scheduling queue to which this task was submitted is full"


@dataclasses.dataclass(frozen=True)
class BatchingParameters:
    """TF Serving's `BatchingParameters` (session_bundle_config.proto), with its defaults.

    Attributes:
        max_batch_size: The most rows of one merged call.
        batch_timeout_micros: How long an open batch may wait for more requests
            once a thread is free for it (0: not at all).
        max_enqueued_batches: Batches that may wait; beyond, UNAVAILABLE.
        num_batch_threads: Merged calls that may run at once.
        allowed_batch_sizes: If given, increasing sizes ending at `max_batch_size`;
            a batch is padded (with copies of its first row) up to the next one.
    """

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    allowed_batch_sizes: tuple = ()

    def __post_init__(self):
        for name in ("max_batch_size", "max_enqueued_batches", "num_batch_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"BatchingParameters.{name} must be >= 1, "
                                 f"got {getattr(self, name)}.")
        if self.batch_timeout_micros < 0:
            raise ValueError("BatchingParameters.batch_timeout_micros must be >= 0, "
                             f"got {self.batch_timeout_micros}.")
        sizes = list(self.allowed_batch_sizes)
        if sizes and (sorted(set(sizes)) != sizes or sizes[0] < 1
                      or sizes[-1] != self.max_batch_size):
            raise ValueError("BatchingParameters.allowed_batch_sizes must increase and end "
                             f"with max_batch_size ({self.max_batch_size}), got {sizes}.")


# The fields of TF Serving's BatchingParameters (session_bundle_config.proto) that this
# server reads: the wrapped integers and the repeated sizes. The names it accepts and
# ignores are declared too, so that the text format parser takes them.
_WRAPPED_INTS = ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches",
                 "num_batch_threads")
_IGNORED = ("thread_pool_name", "pad_variable_length_inputs")
_PROTO_PACKAGE = "tensorflow.serving"  # as in session_bundle_config.proto


@functools.lru_cache(maxsize=None)
def _parameters_message_class():
    """A protobuf class with BatchingParameters' fields, for `text_format.Parse`."""
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="seg2vid_tf/serving/batching_parameters.proto", package=_PROTO_PACKAGE,
        syntax="proto3", dependency=["google/protobuf/wrappers.proto"])
    message = proto.message_type.add(name="BatchingParameters")
    wrapped = [(name, ".google.protobuf.Int64Value") for name in _WRAPPED_INTS]
    for number, (name, type_name) in enumerate(
            wrapped + [("thread_pool_name", ".google.protobuf.StringValue")], start=1):
        message.field.add(name=name, number=number, type=field.TYPE_MESSAGE,
                          type_name=type_name, label=field.LABEL_OPTIONAL)
    message.field.add(name="allowed_batch_sizes", number=6, type=field.TYPE_INT64,
                      label=field.LABEL_REPEATED)
    message.field.add(name="pad_variable_length_inputs", number=7, type=field.TYPE_BOOL,
                      label=field.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    pool.AddSerializedFile(proto.SerializeToString())
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"{_PROTO_PACKAGE}.BatchingParameters"))


def read_batching_parameters(path, flag_name="batching_parameters_file"):
    """Reads a TF Serving `BatchingParameters` text proto (protobuf's own text parser).

    Reads `max_batch_size { value: 8 }` and the other wrapped integers,
    `allowed_batch_sizes: N` (repeated); `thread_pool_name { value: "..." }` and
    `pad_variable_length_inputs: true` are accepted and have no effect here (one
    pool; the signatures' inputs have fixed sizes). The field types are TF
    Serving's, so a file is read as TF Serving reads it (`thread_pool_name: "x"`
    is refused by both; `010` is octal).

    Raises:
        FileNotFoundError: No such file (names the flag).
        ValueError: Text that is not such a proto, a field this server does not
            read, or parameters `BatchingParameters` refuses (names the file).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--{flag_name}: no such file {path!r}.")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        message = text_format.Parse(text, _parameters_message_class()())
    except text_format.ParseError as error:
        unknown = re.search(r'has no field named "([^"]+)"', str(error))
        what = (f"this server does not support the BatchingParameters field "
                f"{unknown.group(1)!r}" if unknown else f"cannot read it ({error})")
        raise ValueError(
            f"{path}: {what}. It reads {', '.join(_WRAPPED_INTS)} (as `name {{ value: N }}`), "
            f"allowed_batch_sizes (`allowed_batch_sizes: N`, repeated) and accepts "
            f"{', '.join(_IGNORED)}.") from None
    values = {name: getattr(message, name).value for name in _WRAPPED_INTS
              if message.HasField(name)}
    try:
        return BatchingParameters(allowed_batch_sizes=tuple(message.allowed_batch_sizes),
                                  **values)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def _internal(error):
    return RequestError(f"Batched run failed: {error}", code="INTERNAL")


class _Task:
    """One request waiting for its rows of a merged call."""

    def __init__(self, inputs, rows):
        self.inputs, self.rows = inputs, rows
        self.done = threading.Event()
        self.outputs = self.error = None


class _Batch:
    def __init__(self):
        self.tasks, self.rows, self.opened = [], 0, None


def batch_rows(inputs):
    """The rows of a request (its inputs' shared dimension 0); None if it cannot be batched."""
    rows = {np.shape(value)[0] if np.ndim(value) else None for value in inputs.values()}
    if len(rows) != 1 or None in rows or 0 in rows:
        return None
    return rows.pop()


class Batcher:
    """Merges concurrent calls of `run_now(signature_name, inputs)` (see the module docstring).

    Like TF Serving's shared batch scheduler, one `Batcher` (its threads) may serve
    several model versions: each passes its own `run_now` to `run`, and each version,
    signature and input layout has its own queue.

    Args:
        run_now: `(signature_name, {name: array}) -> {output name: array}`, the
            unbatched call; raises `RequestError` for a request it refuses. None when
            every `run` passes its own.
        parameters: `BatchingParameters`.
        clock: Seconds, monotonic (tests inject one).
    """

    def __init__(self, run_now, parameters, clock=time.monotonic):
        self.run_now, self.parameters, self.clock = run_now, parameters, clock
        self._queues = {}  # key -> list of _Batch, oldest first (the last one open)
        self._condition = threading.Condition()
        self._closed = False
        # Rows of the latest batches run, for tests and measurements.
        self.batch_sizes = collections.deque(maxlen=1000)
        self._threads = []  # started by the first request: a server whose predicts all
        # go elsewhere (`serve --backend`) holds none

    def run(self, signature_name, inputs, run_now=None):
        """Runs one request, merged with whatever arrives with it; returns its outputs.

        Args:
            signature_name: The signature the request calls.
            inputs: {name: array}, the request's inputs.
            run_now: The unbatched call of the servable the request is for; the
                constructor's when None. Only requests with the same one are merged.

        Raises:
            RequestError: The request's own error; INVALID_ARGUMENT for more rows
                than `max_batch_size`; UNAVAILABLE when the queue is full.
        """
        run_now = run_now or self.run_now
        if run_now is None:
            raise ValueError("Batcher.run needs run_now: the Batcher was made without one.")
        rows = batch_rows(inputs)
        if rows is None:
            return run_now(signature_name, inputs)
        if rows > self.parameters.max_batch_size:
            raise RequestError(f"Task size {rows} is larger than maximum batch size "
                               f"{self.parameters.max_batch_size}", code="INVALID_ARGUMENT")
        layout = sorted((name, np.shape(value)[1:], np.asarray(value).dtype.str)
                        for name, value in inputs.items())
        key = (run_now, signature_name, tuple(layout))
        task = _Task(inputs, rows)
        with self._condition:
            if self._closed:
                raise RequestError("The batch scheduler is shut down", code="UNAVAILABLE")
            if not self._threads:
                threads = [threading.Thread(target=self._work, daemon=True, name=f"batch-{index}")
                           for index in range(self.parameters.num_batch_threads)]
                for thread in threads:
                    thread.start()
                self._threads = threads  # only once all run: a failed start is retried
            batches = self._queues.setdefault(key, [])
            if not batches or batches[-1].rows + rows > self.parameters.max_batch_size:
                if len(batches) >= self.parameters.max_enqueued_batches:
                    raise RequestError(QUEUE_FULL, code="UNAVAILABLE")
                batches.append(_Batch())
            batch = batches[-1]
            if not batch.tasks:
                batch.opened = self.clock()
            batch.tasks.append(task)
            batch.rows += rows
            self._condition.notify_all()
        task.done.wait()
        if task.error is not None:
            raise task.error
        return task.outputs

    def close(self):
        """Stops the threads once the waiting batches have run."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join()

    def _ready(self):
        """The key and batch to run now, or (None, seconds to wait) if none is ready.

        Of the ready batches, the one whose first request has waited longest, so that
        a busy signature cannot starve the others (TF Serving's shared scheduler
        takes its queues in turn).
        """
        wait, chosen = None, None
        timeout = self.parameters.batch_timeout_micros / 1e6
        now = self.clock()
        for key, batches in self._queues.items():
            if not batches:
                continue
            first = batches[0]
            full = first.rows >= self.parameters.max_batch_size or len(batches) > 1
            left = first.opened + timeout - now
            if full or left <= 0 or self._closed:
                if chosen is None or first.opened < self._queues[chosen][0].opened:
                    chosen = key
            else:
                wait = left if wait is None else min(wait, left)
        if chosen is not None:
            batch = self._queues[chosen].pop(0)
            if not self._queues[chosen]:
                del self._queues[chosen]  # keys hold a version's call: keep none idle
            return chosen, batch
        return None, wait

    def _work(self):
        while True:
            with self._condition:
                while True:
                    key, batch = self._ready()
                    if key is not None:
                        break
                    if self._closed:
                        return
                    self._condition.wait(timeout=batch)
            self._run_batch(key[0], key[1], batch)

    def _run_batch(self, run_now, signature_name, batch):
        """Runs one batch; every task ends with outputs or an error, whatever is raised."""
        tasks = batch.tasks
        alone = len(tasks) == 1 and self._padded(batch.rows) == batch.rows
        try:
            self._run_merged(run_now, signature_name, tasks, batch.rows)
        except RequestError as error:
            if alone:
                tasks[0].error = error
            else:
                for task in tasks:  # each request's own answer (see the module docstring)
                    task.outputs, task.error = None, None
                    self._run_alone(run_now, signature_name, task)
        except Exception as error:  # pylint: disable=broad-except
            for task in tasks:
                task.error = _internal(error)
        finally:
            self.batch_sizes.append(batch.rows)
            for task in tasks:
                if task.outputs is None and task.error is None:
                    task.error = _internal("no outputs")
                task.done.set()

    @staticmethod
    def _run_alone(run_now, signature_name, task):
        try:
            task.outputs = run_now(signature_name, task.inputs)
        except RequestError as error:
            task.error = error
        except Exception as error:  # pylint: disable=broad-except
            task.error = _internal(error)

    def _padded(self, rows):
        """The smallest allowed batch size that holds `rows` (`rows` without a list)."""
        return next((size for size in self.parameters.allowed_batch_sizes if size >= rows), rows)

    def _run_merged(self, run_now, signature_name, tasks, rows):
        """One call for `tasks` (padded to an allowed batch size); their outputs split by rows."""
        padded = self._padded(rows)
        if len(tasks) == 1 and padded == rows:
            tasks[0].outputs = run_now(signature_name, tasks[0].inputs)
            return
        merged = {}
        for name in tasks[0].inputs:
            parts = [np.asarray(task.inputs[name]) for task in tasks]
            if padded > rows:
                parts.append(np.repeat(parts[0][:1], padded - rows, axis=0))
            merged[name] = np.concatenate(parts, axis=0)
        outputs = run_now(signature_name, merged)
        for name, value in outputs.items():
            if np.ndim(value) == 0 or np.shape(value)[0] != padded:
                raise RequestError(
                    f"Batched output tensor {name}'s 0th dimension does not equal the sum "
                    "of the 0th dimension sizes of the input tensors", code="INTERNAL")
        start = 0
        for task in tasks:
            task.outputs = {name: value[start:start + task.rows] for name, value in outputs.items()}
            start += task.rows
