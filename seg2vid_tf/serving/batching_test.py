"""Server-side batching: merging, splitting, the bounded queue and its errors."""

import concurrent.futures
import threading

import numpy as np
import pytest

from seg2vid_tf.serving import batching, rest
from seg2vid_tf.serving.json_errors import RequestError
from seg2vid_tf.testing.tf_serving_rules import HalfPlusTwo


class GatedModel:
    """`run_now` of a model that doubles `x`; its first call waits until `release` is set."""

    def __init__(self):
        self.calls, self.release, self.started = [], threading.Event(), threading.Event()

    def __call__(self, signature_name, inputs):
        self.calls.append(len(inputs["x"]))
        if len(self.calls) == 1:
            self.started.set()
            self.release.wait(30)
        if (inputs["x"] < 0).any():
            raise RequestError("x must be >= 0", code="INVALID_ARGUMENT")
        return {"y": inputs["x"] * 2}


def submit_all(batcher, values, pool):
    """Submits one 1-row request per value (the first one alone first); returns the futures."""
    return [pool.submit(batcher.run, "sig", {"x": np.array([value], np.float32)})
            for value in values]


def wait_queued(batcher, rows):
    """Waits until `rows` rows are queued (behind the running call)."""
    for _ in range(3000):
        with batcher._condition:  # pylint: disable=protected-access
            queues = batcher._queues.values()  # pylint: disable=protected-access
            if sum(batch.rows for batches in queues for batch in batches) == rows:
                return
        threading.Event().wait(0.01)
    raise AssertionError(f"{rows} rows never queued")


def run_gated(parameters, values):
    """First value alone, the rest queued while it runs; returns (model, results or errors)."""
    model = GatedModel()
    batcher = batching.Batcher(model, parameters)
    with concurrent.futures.ThreadPoolExecutor(len(values)) as pool:
        first = submit_all(batcher, values[:1], pool)
        assert model.started.wait(30)
        rest_of = submit_all(batcher, values[1:], pool)
        wait_queued(batcher, len(values) - 1)
        model.release.set()
        results = []
        for future in first + rest_of:
            try:
                results.append(future.result(30)["y"].tolist())
            except RequestError as error:
                results.append(error)
    batcher.close()
    return model, results


def test_waiting_requests_are_merged_into_one_call_and_split_back():
    params = batching.BatchingParameters(num_batch_threads=1)
    model, results = run_gated(params, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert model.calls == [1, 4]
    assert results == [[2.0], [4.0], [6.0], [8.0], [10.0]]


def test_batches_stop_at_max_batch_size():
    params = batching.BatchingParameters(max_batch_size=3, num_batch_threads=1)
    model, results = run_gated(params, [float(value) for value in range(8)])
    assert model.calls == [1, 3, 3, 1]
    assert results == [[2.0 * value] for value in range(8)]


def test_a_bad_request_gets_its_own_error_and_the_others_their_videos():
    params = batching.BatchingParameters(num_batch_threads=1)
    model, results = run_gated(params, [1.0, 2.0, -1.0, 3.0])
    assert model.calls == [1, 3, 1, 1, 1]  # the merged call failed: each again alone
    assert results[:2] == [[2.0], [4.0]] and results[3] == [6.0]
    assert isinstance(results[2], RequestError) and results[2].status == 400
    assert "x must be >= 0" in str(results[2])


def test_a_full_queue_refuses_at_once_with_tf_servings_unavailable():
    params = batching.BatchingParameters(max_batch_size=1, max_enqueued_batches=1,
                                         num_batch_threads=1)
    model = GatedModel()
    batcher = batching.Batcher(model, params)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        running = submit_all(batcher, [1.0], pool)
        assert model.started.wait(30)
        queued = submit_all(batcher, [2.0], pool)
        wait_queued(batcher, 1)
        with pytest.raises(RequestError) as refused:
            batcher.run("sig", {"x": np.array([3.0], np.float32)})
        model.release.set()
        assert running[0].result(30)["y"].tolist() == [2.0]
        assert queued[0].result(30)["y"].tolist() == [4.0]
    batcher.close()
    assert refused.value.status == 503 and refused.value.code == "UNAVAILABLE"
    assert str(refused.value) == batching.QUEUE_FULL


def test_a_request_larger_than_a_batch_is_invalid():
    batcher = batching.Batcher(GatedModel(), batching.BatchingParameters(max_batch_size=2))
    with pytest.raises(RequestError, match="Task size 3 is larger than maximum batch size 2"):
        batcher.run("sig", {"x": np.zeros(3, np.float32)})
    batcher.close()


def test_allowed_batch_sizes_pad_with_the_first_row_and_drop_the_padding():
    params = batching.BatchingParameters(max_batch_size=8, allowed_batch_sizes=(2, 4, 8),
                                         num_batch_threads=1)
    model, results = run_gated(params, [1.0, 2.0, 3.0, 4.0])
    assert model.calls == [2, 4]  # a lone row padded to 2, then 3 waiting rows to 4
    assert results == [[2.0], [4.0], [6.0], [8.0]]


def test_a_lone_request_runs_once_the_timeout_has_passed():
    model = GatedModel()
    model.release.set()
    batcher = batching.Batcher(model, batching.BatchingParameters(
        max_batch_size=8, batch_timeout_micros=50_000, num_batch_threads=1))
    assert batcher.run("sig", {"x": np.array([3.0], np.float32)})["y"].tolist() == [6.0]
    batcher.close()
    assert model.calls == [1]


class BrokenModel(GatedModel):
    """Fails a merged call with a RequestError, and x == 13 with an unexpected exception."""

    def __call__(self, signature_name, inputs):
        outputs = super().__call__(signature_name, inputs)
        if len(inputs["x"]) > 1:
            raise RequestError("merged calls fail", code="INVALID_ARGUMENT")
        if inputs["x"][0] == 13.0:
            raise RuntimeError("out of luck")
        return outputs


def test_an_unexpected_error_is_internal_and_the_threads_go_on():
    model = BrokenModel()
    batcher = batching.Batcher(model, batching.BatchingParameters(num_batch_threads=1))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        first = submit_all(batcher, [1.0], pool)
        assert model.started.wait(30)
        queued = submit_all(batcher, [13.0, 2.0], pool)
        wait_queued(batcher, 2)
        model.release.set()
        answers = []
        for future in first + queued:
            try:
                answers.append(future.result(30)["y"].tolist())
            except RequestError as error:
                answers.append((error.code, str(error)))
    assert answers[0] == [2.0] and answers[2] == [4.0]
    assert answers[1] == ("INTERNAL", "Batched run failed: out of luck")
    # The thread survived: a later request is answered.
    assert batcher.run("sig", {"x": np.array([5.0], np.float32)})["y"].tolist() == [10.0]
    batcher.close()


def test_a_busy_signature_does_not_starve_another():
    """Batches run in the order their first requests arrived, across signatures."""
    model = GatedModel()
    order = []
    batcher = batching.Batcher(
        lambda name, inputs: (order.append(name), model(name, inputs))[1],
        batching.BatchingParameters(max_batch_size=1, num_batch_threads=1))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(batcher.run, "a", {"x": np.array([1.0], np.float32)})]
        assert model.started.wait(30)
        futures.append(pool.submit(batcher.run, "a", {"x": np.array([2.0], np.float32)}))
        wait_queued(batcher, 1)
        futures.append(pool.submit(batcher.run, "b", {"x": np.array([3.0], np.float32)}))
        wait_queued(batcher, 2)
        futures.append(pool.submit(batcher.run, "a", {"x": np.array([4.0], np.float32)}))
        wait_queued(batcher, 3)
        model.release.set()
        assert [future.result(30)["y"].tolist() for future in futures] == [
            [2.0], [4.0], [6.0], [8.0]]
    batcher.close()
    assert order == ["a", "a", "b", "a"]


def test_an_open_batch_waits_for_the_timeout_unless_it_fills():
    """With a minute's timeout, two requests run as soon as they fill the batch of 2."""
    model = GatedModel()
    model.release.set()
    batcher = batching.Batcher(model, batching.BatchingParameters(
        max_batch_size=2, batch_timeout_micros=60_000_000, num_batch_threads=1))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = submit_all(batcher, [1.0, 2.0], pool)
        assert [future.result(30)["y"].tolist() for future in futures] == [[2.0], [4.0]]
    batcher.close()
    assert model.calls == [2]


def test_one_scheduler_keeps_each_versions_requests_apart():
    """Versions share the threads (TF Serving's shared scheduler) but never a batch:
    two requests per version, queued together, make one call of 2 rows per version."""
    gate, versions = GatedModel(), {1: GatedModel(), 2: GatedModel()}
    for model in versions.values():
        model.release.set()
    batcher = batching.Batcher(None, batching.BatchingParameters(
        max_batch_size=4, num_batch_threads=1))
    assert not batcher._threads  # pylint: disable=protected-access  # none before a request
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        blocker = pool.submit(batcher.run, "sig", {"x": np.array([0.0], np.float32)}, gate)
        assert gate.started.wait(30)
        futures = {(version, value): pool.submit(
            batcher.run, "sig", {"x": np.array([value], np.float32)}, versions[version])
            for version in (1, 2) for value in (1.0, 2.0)}
        wait_queued(batcher, 4)
        gate.release.set()
        assert blocker.result(30)["y"].tolist() == [0.0]
        for (version, value), future in futures.items():
            assert future.result(30)["y"].tolist() == [2 * value], version
    batcher.close()
    assert versions[1].calls == [2] and versions[2].calls == [2]
    assert not batcher._queues  # pylint: disable=protected-access  # run queues are dropped
    assert len(batcher._threads) == 1  # pylint: disable=protected-access
    without_call = batching.Batcher(None, batching.BatchingParameters(num_batch_threads=1))
    with pytest.raises(ValueError, match="needs run_now"):
        without_call.run("sig", {"x": np.array([1.0], np.float32)})
    without_call.close()


def test_parameters_file_is_read_as_tf_servings_text_proto(tmp_path):
    path = tmp_path / "batching.txt"
    path.write_text("# a comment\nmax_batch_size { value: 8 }\nbatch_timeout_micros {value:5000}\n"
                    "max_enqueued_batches: { value: 3 } num_batch_threads { value: 2 }\n"
                    "allowed_batch_sizes: [2]\nallowed_batch_sizes: 4\nallowed_batch_sizes: 8\n"
                    'thread_pool_name { value: "batch " \'pool #1\' }  # quoted: space, #\n'
                    "pad_variable_length_inputs: true\n")
    assert batching.read_batching_parameters(str(path)) == batching.BatchingParameters(
        max_batch_size=8, batch_timeout_micros=5000, max_enqueued_batches=3,
        num_batch_threads=2, allowed_batch_sizes=(2, 4, 8))


@pytest.mark.parametrize("text, message", [
    ("max_batch_size { value: 8 }\nsurprise { value: 1 }",
     "does not support the BatchingParameters field 'surprise'. It reads max_batch_size"),
    ("max_batch_size { value: eight }", "cannot read it .*eight"),
    ("max_batch_size { value: 0 }", "max_batch_size must be >= 1"),
    ("max_batch_size { value: 8 }\nallowed_batch_sizes: 4", "end with max_batch_size"),
    ("max_batch_size: {", "cannot read it"),
    ("max_batch_size { value: 8 }\nmax_batch_size { value: 4 }", "cannot read it .*max_batch_size"),
    ("allowed_batch_sizes: [4, x]", "cannot read it .*x"),
    ('thread_pool_name { value: "open }', "cannot read it"),
    ('thread_pool_name: "not wrapped"', "cannot read it"),  # a StringValue, as in TF Serving
])
def test_bad_parameters_files_are_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "batching.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as refused:
        batching.read_batching_parameters(str(path))
    assert str(path) in str(refused.value)


def test_a_missing_parameters_file_names_the_flag(tmp_path):
    with pytest.raises(FileNotFoundError, match="--batching_parameters_file"):
        batching.read_batching_parameters(str(tmp_path / "none.txt"))


@pytest.fixture(scope="module")
def half_plus_two_dir(tmp_path_factory):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    module = HalfPlusTwo()
    path = str(tmp_path_factory.mktemp("half_plus_two") / "1")
    tf.saved_model.save(module, path, signatures={
        "serving_default": module.half_plus_two, "split": module.split,
        "checked": module.checked})
    return path


def concurrent_runs(predictor, signature, inputs_list):
    with concurrent.futures.ThreadPoolExecutor(len(inputs_list)) as pool:
        futures = [pool.submit(predictor.run, signature, inputs) for inputs in inputs_list]
        results = []
        for future in futures:
            try:
                results.append(future.result(60))
            except RequestError as error:
                results.append(error)
        return results


def test_a_batching_predictor_answers_each_request_as_an_unbatched_one(half_plus_two_dir):
    """Requests of 6 rows in all fill one batch of 6 (a minute's timeout otherwise)."""
    params = batching.BatchingParameters(max_batch_size=6, batch_timeout_micros=60_000_000,
                                         num_batch_threads=1)
    batched = rest.Predictor(half_plus_two_dir, "m", 1, batching=params)
    alone = rest.Predictor(half_plus_two_dir, "m", 1)
    requests = [{"x": np.array([value, value + 1], np.float32)} for value in (0.0, 10.0)]
    requests += [{"x": np.array([value], np.float32)} for value in (-4.0, 7.0)]
    results = concurrent_runs(batched, "serving_default", requests)
    assert list(batched.batcher.batch_sizes) == [6]
    for request, result in zip(requests, results):
        np.testing.assert_array_equal(result["y"], alone.run("serving_default", request)["y"])
    # One request the graph refuses: its error is the unbatched one, the others are answered.
    checked = [{"ids": np.array(ids, np.int32)} for ids in ([1, 2], [25], [3], [4, 5])]
    results = concurrent_runs(batched, "checked", checked)
    assert list(batched.batcher.batch_sizes) == [6, 6]
    with pytest.raises(RequestError) as alone_error:
        alone.run("checked", checked[1])
    assert isinstance(results[1], RequestError) and str(results[1]) == str(alone_error.value)
    assert "ids < 20" in str(results[1])
    assert [results[index]["ids"].tolist() for index in (0, 2, 3)] == [[1, 2], [3], [4, 5]]
    batched.batcher.close()


def test_an_output_without_the_batch_rows_fails_a_merged_call_but_not_a_lone_one(
        half_plus_two_dir):
    """`split`'s `head` output has one row whatever the batch: merged, it cannot be split."""
    params = batching.BatchingParameters(max_batch_size=2, batch_timeout_micros=60_000_000,
                                         num_batch_threads=1)
    batched = rest.Predictor(half_plus_two_dir, "m", 1, batching=params)
    requests = [{"x": np.array([1.0], np.float32)}, {"x": np.array([3.0], np.float32)}]
    results = concurrent_runs(batched, "split", requests)
    # The merged call's outputs cannot be split: each request ran alone and is answered.
    assert [result["head"].tolist() for result in results] == [[1.0], [3.0]]
    assert list(batched.batcher.batch_sizes) == [2]
    batched.batcher.close()
