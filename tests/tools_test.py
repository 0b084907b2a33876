"""The tools under tools/ live side by side: one process imports them all, and each still runs."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS_WITH_FLAGS = {"compare_train_speed": "--long_steps", "hostile_clients": "--slow_clients",
                    "long_video_ceiling": "--segmenter_checkpoint_dir",
                    "rest_throughput": "--requests_per_client"}


def _python(*args):
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)


def test_every_tool_imports_into_one_process():
    names = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "tools"))
                   if name.endswith(".py") and name != "__init__.py")
    assert set(TOOLS_WITH_FLAGS) <= set(names)
    result = _python("-c", "; ".join(f"import tools.{name}" for name in names))
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("name", sorted(TOOLS_WITH_FLAGS))
def test_each_tool_still_defines_its_flags_when_run(name):
    result = _python("-m", f"tools.{name}", "--helpshort")
    # absl's help flags exit with status 1 once the help is printed.
    assert result.returncode == 1, result.stderr[-2000:]
    assert TOOLS_WITH_FLAGS[name] in result.stdout + result.stderr


def test_write_json_writes_only_where_asked(tmp_path):
    from tools import results  # pylint: disable=import-outside-toplevel

    path = tmp_path / "out.json"
    results.write_json({"speedup": 1.08}, str(path))
    assert json.loads(path.read_text(encoding="utf-8")) == {"speedup": 1.08}
    results.write_json({"speedup": 2.0}, "")
    results.write_json({"speedup": 2.0}, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_rest_throughput_measures_each_export_in_every_round(tmp_path):
    from seg2vid_tf.testing import tiny_pipeline  # pylint: disable=import-outside-toplevel
    from tools import rest_throughput  # pylint: disable=import-outside-toplevel

    first = tiny_pipeline.export_tiny(str(tmp_path / "a"), 1)[0]
    second = tiny_pipeline.export_tiny(str(tmp_path / "b"), 1)[0]
    result = rest_throughput.measure([first, second], clients=3, requests_per_client=2, rounds=2)
    assert (result["clients"], result["requests_per_client"], result["rounds"]) == (3, 2, 2)
    assert sorted(result["exports"]) == sorted([first, second])
    for entry in result["exports"].values():
        assert entry["errors"] == 0, entry["first_error"]
        assert len(entry["rounds_videos_per_second"]) == 2
        assert min(entry["rounds_videos_per_second"]) <= round(entry["videos_per_second"], 3)
        assert entry["videos_per_second"] <= max(entry["rounds_videos_per_second"]) + 1e-3
        assert entry["median_latency_s"] > 0
    with pytest.raises(ValueError, match="--clients"):
        rest_throughput.measure([first], clients=0, requests_per_client=1, rounds=1)
    with pytest.raises(ValueError, match="twice"):
        rest_throughput.measure([first, first], clients=1, requests_per_client=1, rounds=1)
