"""The package is layered: no import cycle between its parts, and no library imports a command.

A part is a subpackage of `seg2vid_tf` (`models`, `training`, ...) or a
top-level module (`labels`, `cli`, `generate`, ...). Test files and
`conftest.py` fixtures are left out: a test may use any layer. A command is a
module run by `python -m` (it has an `if __name__ == "__main__":` block); it
parses flags and calls its library, so nothing but a test imports it.
"""

import graphlib
import os

from tools import build_graph


def _library_files():
    return [path for path in build_graph.python_files()
            if path.startswith(build_graph.PACKAGE + "/") and not build_graph.is_test(path)
            and os.path.basename(path) != "conftest.py"]


def _part(module):
    """`seg2vid_tf.models.img2vid` -> `models`; `seg2vid_tf.labels` -> `labels`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "package"


def _imports():
    """[(importing file, its module, the project module it imports)] of the library files."""
    files = _library_files()
    modules = {build_graph.module_of(path) for path in files}
    found = []
    for path in files:
        for name in build_graph.imports(path)[0]:
            while name and name not in modules:  # `from pkg import symbol` names a symbol
                name = name.rpartition(".")[0]
            if name:
                found.append((path, build_graph.module_of(path), name))
    return found


def _commands():
    commands = set()
    for path in _library_files():
        with open(os.path.join(build_graph.ROOT, path), encoding="utf-8") as handle:
            if 'if __name__ == "__main__":' in handle.read():
                commands.add(build_graph.module_of(path))
    return commands


def test_the_parts_import_each_other_without_a_cycle():
    graph, witnesses = {}, {}
    for path, module, imported in _imports():
        source, target = _part(module), _part(imported)
        graph.setdefault(source, set())
        if source != target:
            graph[source].add(target)
            witnesses.setdefault((source, target), f"{path} imports {imported}")
    assert ("training", "models") in witnesses and ("models", "ops") in witnesses  # edges seen
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as error:
        cycle = error.args[1]  # [a, b, ..., a]: each part is imported by the one before it
        edges = [witnesses[(source, target)] for source, target in zip(cycle[1:], cycle[:-1])]
        raise AssertionError(f"import cycle {' <- '.join(cycle)}: " + "; ".join(edges)) from None


def test_no_library_module_imports_a_command():
    commands = _commands()
    assert {"seg2vid_tf.train", "seg2vid_tf.generate", "seg2vid_tf.serve",
            "seg2vid_tf.data.synthetic.__main__"} <= commands
    offending = sorted(f"{path} imports the command {imported}"
                       for path, module, imported in _imports()
                       if imported in commands and imported != module)
    assert not offending, offending
