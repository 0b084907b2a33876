"""The Bazel BUILD file covers every module and test and its deps are real.

Bazel cannot run here, so this test is the BUILD file's check: every Python
file is in exactly one target of the right rule, every `:dep` names a target in
the file, and each target depends on the targets of the project modules it
imports and on the PyPI requirements of its third-party imports.
"""

import os

import pytest

from tools import build_graph


@pytest.fixture(scope="module")
def declared():
    return build_graph.parse_build()


@pytest.fixture(scope="module")
def expected():
    return build_graph.expected_graph()


def test_every_python_file_is_in_exactly_one_target(declared):
    covered = [src for target in declared.values() for src in target["srcs"]]
    assert len(covered) == len(set(covered)), "a file is in two targets"
    missing = sorted(set(build_graph.python_files()) - set(covered))
    assert not missing, f"not covered by BUILD: {missing}"
    stale = sorted(src for src in covered if not os.path.isfile(os.path.join(build_graph.ROOT, src)))
    assert not stale, f"BUILD names files that do not exist: {stale}"


def test_tests_are_py_test_and_modules_py_library(declared):
    for name, target in declared.items():
        for src in target["srcs"]:
            if build_graph.is_test(src):
                assert target["rule"] == "py_test", (name, src)
            elif src.startswith(build_graph.PACKAGE + "/"):
                assert target["rule"] == "py_library", (name, src)


def test_every_dep_names_an_existing_target(declared):
    dangling = sorted((name, dep) for name, target in declared.items()
                      for dep in target["deps"] if dep not in declared)
    assert not dangling, f"deps naming missing targets: {dangling}"
    for name, target in declared.items():
        for dep in target["deps"]:
            # A program under tools/ that a test imports is a py_binary dep (rules_python's
            # py_binary provides PyInfo); any other dep is a library.
            allowed = ("py_library", "py_binary") if dep.startswith("tools_") else ("py_library",)
            assert declared[dep]["rule"] in allowed, f"{name} depends on non-library {dep}"


def test_tools_imports_are_deps(expected):
    """`from tools import results` is a dep like a package import (it once was left out), and
    `tools/__init__.py` is its own target, not the package's."""
    assert "tools_results" in expected["tools_compare_train_speed"]["deps"]
    assert "package" not in expected["tools_compare_train_speed"]["deps"]
    assert expected["tools_package"]["srcs"] == ["tools/__init__.py"]
    assert expected["tools_results"]["rule"] == "py_library"
    assert expected["tools_compare_train_speed"]["rule"] == "py_binary"


def test_deps_match_the_imports(declared, expected):
    assert set(declared) == set(expected)
    for name, target in expected.items():
        assert declared[name]["rule"] == target["rule"], name
        assert declared[name]["deps"] == target["deps"], (
            f"{name}: BUILD deps {sorted(declared[name]['deps'])}, imports need {sorted(target['deps'])} "
            "(run `python tools/build_graph.py --write`)")
        assert declared[name]["requirements"] == target["requirements"], name


def test_parser_reports_a_dangling_dep(tmp_path):
    build = tmp_path / "BUILD"
    build.write_text('PY_LIBRARIES = {\n    "a": (["a.py"], [":b", requirement("numpy")]),\n}\n')
    parsed = build_graph.parse_build(str(build))
    assert parsed["a"]["deps"] == {"b"} and parsed["a"]["requirements"] == {"numpy"}
    assert "b" not in parsed


def test_parser_refuses_an_entry_of_the_wrong_shape(tmp_path):
    build = tmp_path / "BUILD"
    build.write_text('PY_TESTS = {\n    "a_test": (["a_test.py"], [":a"]),\n}\n')
    with pytest.raises(ValueError, match="'a_test' must be a tuple"):
        build_graph.parse_build(str(build))


def test_render_round_trips_through_the_parser(tmp_path, expected):
    build = tmp_path / "BUILD"
    build.write_text(build_graph.render(expected))
    parsed = build_graph.parse_build(str(build))
    assert {name: (t["rule"], t["deps"], t["requirements"]) for name, t in parsed.items()} == {
        name: (t["rule"], t["deps"], t["requirements"]) for name, t in expected.items()}
