"""The error boundary: one way to fail for every command."""

import os
import subprocess
import sys

import pytest
from absl import app

from seg2vid_tf import cli, command_flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPORT_SCRIPT = os.path.join(REPO, "export", "export_saved_model.py")


def _exit_status_and_stderr(function, argv, capsys):
    with pytest.raises(SystemExit) as exited:
        function(argv)
    return exited.value.code, capsys.readouterr().err


@pytest.mark.parametrize("kind", [app.UsageError, command_flags.FlagError])
def test_usage_error_is_one_line_and_status_2(capsys, kind):
    def main(argv):
        raise kind(f"--data_dir is required (got {argv[1:]}).")

    status, stderr = _exit_status_and_stderr(cli.guarded(main), ["prog"], capsys)
    assert (status, stderr) == (2, "error: --data_dir is required (got []).\n")


@pytest.mark.parametrize("error", [FileNotFoundError("No checkpoint in /x (--checkpoint_dir)"),
                                   ValueError("/d/a.png: not a PNG file")])
def test_runtime_errors_are_one_line_and_status_1(capsys, error):
    def main(argv):
        del argv
        raise error

    status, stderr = _exit_status_and_stderr(cli.guarded(main), ["prog"], capsys)
    assert (status, stderr) == (1, f"error: {error}\n")


def test_a_bug_keeps_its_traceback():
    def main(argv):
        del argv
        raise TypeError("a bug")

    with pytest.raises(TypeError, match="a bug"):
        cli.guarded(main)(["prog"])


def test_main_exit_status_is_kept():
    assert cli.guarded(lambda argv: 3)(["prog"]) == 3


def test_commands_leave_tensorflow_info_lines_out_but_keep_their_own_and_warnings():
    """What a checkpoint save logs (TensorFlow's code, INFO) goes; ours and warnings stay."""
    import logging  # pylint: disable=import-outside-toplevel

    def record(path, level):
        return logging.LogRecord("absl", level, path, 440, "Sharding callback duration", (),
                                 None)

    saver = os.path.join("site-packages", "tensorflow", "python", "checkpoint",
                         "functional_saver.py")
    ours = os.path.join("seg2vid_tf", "data", "cityscapes.py")
    assert not cli.without_tensorflow_info(record(saver, logging.INFO))
    assert cli.without_tensorflow_info(record(saver, logging.WARNING))
    assert cli.without_tensorflow_info(record(ours, logging.INFO))
    absl_logger = logging.getLogger("absl")
    seen = []
    try:
        with pytest.raises(SystemExit) as exited:
            cli.run(lambda argv: seen.append(absl_logger.filters[:]), argv=["prog"])
    finally:
        absl_logger.removeFilter(cli.without_tensorflow_info)
    assert exited.value.code in (0, None) and cli.without_tensorflow_info in seen[0]


def test_unknown_flag_is_a_usage_error(capsys):
    status, stderr = _exit_status_and_stderr(cli.parse_flags, ["prog", "--no_such_flag=1"],
                                             capsys)
    assert status == 2
    assert stderr.startswith("error: Unknown command line flag 'no_such_flag'")
    assert "--helpshort" in stderr


def test_known_only_leaves_other_programs_flags(tmp_path, capsys):
    flagfile = tmp_path / "shared.cfg"
    flagfile.write_text("--nodebug\n--a_flag_of_another_program=3\n")
    cli.define_flags()
    rest = cli.parse_flags(["prog", f"--flagfile={flagfile}", "positional"], known_only=True)
    assert rest == ["prog", "--a_flag_of_another_program=3", "positional"]
    status, stderr = _exit_status_and_stderr(
        lambda argv: cli.parse_flags(argv, known_only=True), ["prog", "--debug=maybe"], capsys)
    assert status == 2 and stderr.startswith("error: ") and "debug" in stderr


def test_check_usage_names_the_argument_or_the_flag():
    cli.define_flags()
    cli.parse_flags(["prog"])  # the flags are read after parsing, as in a command
    with pytest.raises(app.UsageError, match=r"Unexpected arguments: \['extra'\]"):
        cli.check_usage(["prog", "extra"])
    with pytest.raises(app.UsageError, match="^--debug is required.$"):
        cli.check_usage(["prog"], required=("debug",))  # --debug is False unless given
    cli.check_usage(["prog"])
    given = type("Parsed", (), {"data_dir": "/d", "model_dir": ""})()
    with pytest.raises(app.UsageError, match="^--model_dir is required.$"):
        cli.check_usage(["prog"], required=("data_dir", "model_dir"), values=given)


def _run(command):
    return subprocess.run([sys.executable] + command, cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def _module(name):
    return ["-m", f"seg2vid_tf.{name}"]


COMMANDS = {  # command -> (its arguments of a usage error, the words its message must hold)
    "train": (_module("train"), [], "--data_dir is required"),
    "train_label2image": (_module("train_label2image"), [], "is required"),
    "evaluate": (_module("evaluate"), [], "--data_dir is required"),
    "generate": (_module("generate"), [], "Set --label2image_checkpoint_dir"),
    "serve": (_module("serve"), [], "--export_base is required"),
    "benchmark": (_module("benchmark"), ["--quick"], "--output_json is required"),
    "convert": (_module("convert"), ["--reference=x.npz"], "--output_dir"),
    "explain": (_module("explain"), [], "--checkpoint_dir is required"),
    "segment": (_module("segment"), [], "Set --input and --output_dir"),
    "train_segmenter": (_module("train_segmenter"), ["--model_dir=/nonexistent"],
                        "--data_dir is required"),
    "demo": (_module("demo"), ["unexpected"], "Unexpected arguments: ['unexpected']"),
    "demo_train": (_module("demo_train"), ["unexpected"], "Unexpected arguments"),
    "client": (_module("client"), [], "Give exactly one of --server"),
    "export_saved_model": ([EXPORT_SCRIPT], [], "--checkpoint_dir is required"),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_fails_the_same_way(name):
    """A usage error of the real entry point: one `error:` line, status 2, no traceback."""
    command, usage_args, usage_words = COMMANDS[name]
    usage = _run(command + usage_args)
    assert usage.returncode == 2, usage.stderr[-2000:]
    errors = [line for line in usage.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and usage_words in errors[0], usage.stderr[-2000:]
    assert "Traceback" not in usage.stderr


def _source(command):
    path = command[0] if command[0] != "-m" else os.path.join(
        REPO, *command[1].split(".")) + ".py"
    if not os.path.isfile(path):  # a package's command line
        path = os.path.join(path[:-3], "__main__.py")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_parses_its_flags_behind_the_boundary(name):
    """Each command hands its main to `cli.run` (whose flag parsing refuses an unknown flag
    with status 2, `test_unknown_flag_is_a_usage_error`), not to `absl.app.run`."""
    source = _source(COMMANDS[name][0])
    assert "cli.run(main" in source and "app.run(" not in source


def test_an_unknown_flag_of_a_real_command_is_a_usage_error():
    unknown = _run(_module("generate") + ["--no_such_flag=1"])
    assert unknown.returncode == 2, unknown.stderr[-2000:]
    assert "error: Unknown command line flag 'no_such_flag'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_the_synthetic_generator_fails_the_same_way_but_ignores_other_programs_flags(tmp_path):
    command = _module("data.synthetic")
    missing = _run(command + ["--a_training_flag=1"])
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "error: output_dir must be given" in missing.stderr, missing.stderr[-2000:]
    bad = _run(command + [f"--output_dir={tmp_path}", "--num_sequences=many"])
    assert bad.returncode == 2 and "error: " in bad.stderr and "num_sequences" in bad.stderr
