"""Reads the Bazel BUILD file and the import graph of the sources.

Bazel itself cannot run on the project's machines (no Bazel, no network beyond
the package registry), so `tests/build_test.py` checks the BUILD file against
the sources with this module instead, and `python tools/build_graph.py --write`
regenerates BUILD from the imports.

Layout: one root BUILD; a `py_library` per module (`seg2vid_tf/a/b.py` ->
`a_b`, the package's `__init__.py` files in `seg2vid_tf`), a `py_test` per test
file (`..._test.py` -> `..._test`), third-party packages through rules_python's
`requirement("name")`.
"""

import ast
import functools
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "seg2vid_tf"
SOURCE_DIRS = (PACKAGE, "tests", "export", "tools")

# Top-level import name -> PyPI distribution; None: optional, never a hard dependency.
THIRD_PARTY = {
    "tensorflow": "tensorflow", "keras": "keras", "numpy": "numpy", "absl": "absl-py",
    "PIL": "pillow", "imageio": "imageio", "tqdm": "tqdm", "scipy": "scipy", "pytest": "pytest",
    "tensorflow_probability": "tensorflow-probability", "tf_keras_vis": "tf-keras-vis",
    "tf_keras": "tf-keras", "torch": None, "imageio_ffmpeg": None, "requests": None,
    "grpc": "grpcio", "tensorflow_serving": "tensorflow-serving-api", "av": None,
    "selenium": "selenium", "cityscapesscripts": "cityscapesscripts", "h11": "h11",
    "ml_dtypes": "ml-dtypes", "google": "protobuf",
}
STANDARD_LIBRARY = set(sys.stdlib_module_names)


def python_files():
    """Repository-relative paths of every Python source the BUILD must cover."""
    found = []
    for directory in SOURCE_DIRS:
        for parent, dirs, files in os.walk(os.path.join(ROOT, directory)):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__"))
                             and os.path.relpath(os.path.join(parent, d), ROOT) != "tests/data")
            for name in sorted(files):
                if name.endswith(".py"):
                    found.append(os.path.relpath(os.path.join(parent, name), ROOT))
    return found


def is_test(path):
    return path.endswith("_test.py")


@functools.lru_cache(maxsize=None)
def syntax_tree(path):
    """The parsed module at a repository-relative path (read once; `imports` and
    `is_entry_point` both need it)."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return ast.parse(handle.read(), path)


def is_entry_point(path):
    """Whether a file runs as a program (`if __name__ == "__main__":`)."""
    return any(isinstance(node, ast.If)
               and ast.unparse(node.test) in ('__name__ == "__main__"', "__name__ == '__main__'")
               for node in syntax_tree(path).body)


def target_name(path):
    """`seg2vid_tf/models/img2vid.py` -> `models_img2vid`; the package's `__init__.py` files ->
    `package`; `tools/__init__.py` -> `tools_package`."""
    if path == "tools/__init__.py":
        return "tools_package"
    if path.endswith("__init__.py"):
        return "package"
    stem = path[:-3]
    if stem.startswith(PACKAGE + "/"):
        stem = stem[len(PACKAGE) + 1:]
    return stem.replace("/", "_")


def module_of(path):
    return path[:-3].replace("/", ".").removesuffix(".__init__")


def imports(path):
    """(project modules, third-party top-level names) imported by a file."""
    project, external = set(), set()
    for node in ast.walk(syntax_tree(path)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            top = name.split(".")[0]
            if top in (PACKAGE, "tools"):
                project.add(name)
            elif top not in STANDARD_LIBRARY:
                external.add(top)
    return project, external


def project_targets(modules, module_to_target):
    """Targets of imported project modules (`from pkg import mod` names a module or a symbol)."""
    targets = set()
    for name in modules:
        while name and name not in module_to_target:
            name = name.rpartition(".")[0]
        if name:
            targets.add(module_to_target[name])
    return targets


def expected_graph():
    """{target: {"rule", "srcs", "deps", "requirements"}} derived from the sources."""
    files = python_files()
    library_files = [f for f in files if not is_test(f) and f.startswith((PACKAGE + "/", "tools/"))]
    module_to_target = {module_of(f): target_name(f) for f in library_files}
    graph = {}
    for path in files:
        if is_test(path):
            rule = "py_test"
        elif path.startswith(("tools/", "export/")) and is_entry_point(path):
            rule = "py_binary"
        else:
            rule = "py_library"
        name = target_name(path)
        project, external = imports(path)
        deps = project_targets(project, module_to_target) - {name}
        if name != "package" and path.startswith(PACKAGE + "/"):
            deps.add("package")
        requirements = {THIRD_PARTY[top] for top in external if THIRD_PARTY.get(top)}
        unknown = sorted(top for top in external if top not in THIRD_PARTY)
        if unknown:
            raise ValueError(f"{path} imports {unknown}: add them to THIRD_PARTY in tools/build_graph.py.")
        entry = graph.setdefault(name, {"rule": rule, "srcs": [], "deps": set(), "requirements": set()})
        entry["srcs"].append(path)
        entry["deps"] |= deps
        entry["requirements"] |= requirements
    return graph


# The BUILD file's three tables: table name -> (rule, fields of each entry's tuple).
TABLES = {
    "PY_LIBRARIES": ("py_library", ("srcs", "deps")),
    "PY_TESTS": ("py_test", ("srcs", "size", "deps")),
    "PY_BINARIES": ("py_binary", ("srcs", "deps")),
}
# One rule call per table entry, by list comprehension (BUILD files allow no `for` statement).
RULE_CALLS = (
    '[py_library(name = name, srcs = target[0], deps = target[1]) '
    'for name, target in PY_LIBRARIES.items()]',
    '[py_test(name = name, srcs = target[0], main = target[0][0], size = target[1], '
    'data = glob(["tests/data/**"]), deps = target[2]) for name, target in PY_TESTS.items()]',
    '[py_binary(name = name, srcs = target[0], main = target[0][0], deps = target[1]) '
    'for name, target in PY_BINARIES.items()]',
)


def parse_build(path=os.path.join(ROOT, "BUILD")):
    """{target: {"rule", "srcs", "deps", "requirements"}} from the tables of a BUILD file.

    Raises:
        ValueError: a table entry is not a tuple of the table's fields, or a
            target is defined twice.
    """
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), "BUILD")
    targets = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) in TABLES):
            continue
        rule, field_names = TABLES[node.targets[0].id]
        for key, value in zip(node.value.keys, node.value.values):
            name = ast.literal_eval(key)
            if not (isinstance(value, ast.Tuple) and len(value.elts) == len(field_names)):
                raise ValueError(f"BUILD: {name!r} must be a tuple {field_names}.")
            if name in targets:
                raise ValueError(f"BUILD defines {name!r} twice.")
            fields = dict(zip(field_names, value.elts))
            targets[name] = {"rule": rule, "srcs": list(ast.literal_eval(fields["srcs"])),
                             **_deps(fields["deps"])}
    return targets


def _deps(node):
    """{"deps": project targets, "requirements": PyPI names} of a deps list."""
    deps, requirements = set(), set()
    for element in node.elts:
        if isinstance(element, ast.Call) and getattr(element.func, "id", "") == "requirement":
            requirements.add(ast.literal_eval(element.args[0]))
        else:
            deps.add(ast.literal_eval(element).lstrip(":"))
    return {"deps": deps, "requirements": requirements}


def render(graph):
    """The BUILD file's text for a graph from `expected_graph`: one line per target."""
    lines = ['# Generated by `python tools/build_graph.py --write`; checked by tests/build_test.py.',
             '# Bazel cannot run on the project machines; see docs/testing.md.',
             'load("@rules_python//python:defs.bzl", "py_binary", "py_library", "py_test")',
             'load("@pypi//:requirements.bzl", "requirement")', "",
             'package(default_visibility = ["//visibility:public"])', ""]
    for table, (rule, field_names) in TABLES.items():
        lines.append(f"# {rule} targets: name -> ({', '.join(field_names)}).")
        lines.append(f"{table} = {{")
        for name in sorted(n for n in graph if graph[n]["rule"] == rule):
            entry = graph[name]
            fields = {
                "srcs": "[" + ", ".join(f'"{s}"' for s in sorted(entry["srcs"])) + "]",
                "size": '"large"' if name.startswith("tests_") else '"medium"',
                "deps": "[" + ", ".join([f'":{d}"' for d in sorted(entry["deps"])]
                                        + [f'requirement("{r}")'
                                           for r in sorted(entry["requirements"])]) + "]",
            }
            lines.append(f'    "{name}": (' + ", ".join(fields[f] for f in field_names) + "),")
        lines.extend(["}", ""])
    lines.extend(RULE_CALLS)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tools/build_graph.py --write")
    text = render(expected_graph())  # before opening: an error must not empty BUILD
    with open(os.path.join(ROOT, "BUILD"), "w", encoding="utf-8") as out:
        out.write(text)
    print("BUILD written")
