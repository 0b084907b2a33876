"""The one error boundary of the seg2vid commands.

Every command ends with `cli.run(main)` instead of `absl.app.run(main)`, so
that all of them fail the same way, on stderr, without a traceback:

* a flag that cannot be parsed (unknown flag, bad value, unreadable
  `--flagfile`), or an `absl.app.UsageError` or `command_flags.FlagError`
  raised by the command (a required flag missing, a value out of range, flags
  that contradict each other): `error: <what>` and exit status 2 (`USAGE`);
* a problem a user can fix at run time (a missing or unreadable file, bad
  data, an unusable checkpoint: `OSError` and `ValueError`, which every error
  class of this project derives from): `error: <what>` and exit status 1
  (`FAILURE`);
* with `--debug`, the same errors keep their traceback (for a bug report).

TensorFlow's own INFO lines (one per checkpoint shard written, SavedModel
fingerprints) are left out of every command's output, between progress bars
and the command's own INFO lines; its warnings and errors stay.

Any other exception is a bug and keeps its traceback. A command that has
printed its own `error:` line returns its exit status from `main` as before.
"""

import logging
import os
import sys

from absl import app, flags

from seg2vid_tf import command_flags

USAGE = 2
FAILURE = 1
RUNTIME_ERRORS = (OSError, ValueError)


def define_flags(flag_values=None):
    """`--debug`: show the traceback of an expected error instead of the one-line message."""
    command_flags.define_flag("bool", "debug", False,
                              "Show the traceback of a usage or runtime error (for bug reports).",
                              flag_values=flag_values)


def fail(message, status):
    """Prints `error: message` on stderr and exits with `status`."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def check_usage(argv, required=(), values=None):
    """Refuses positional arguments and missing required flags, as usage errors.

    Args:
        argv: The arguments left after the flags (program name first).
        required: Names of flags that must be given (non-empty).
        values: The parsed flags (`absl.flags.FLAGS` when None).

    Raises:
        app.UsageError: The first problem, naming the argument or the flag.
    """
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    values = flags.FLAGS if values is None else values
    for name in required:
        if not getattr(values, name):
            raise app.UsageError(f"--{name} is required.")


def _debugging():
    values = flags.FLAGS
    return "debug" in values and values.is_parsed() and values.debug


def parse_flags(argv, known_only=False):
    """absl's flag parsing with `error: ...` and exit status 2 on a bad flag.

    Args:
        argv: The full command line (`sys.argv`).
        known_only: Leave flags this program does not define in the returned
            arguments instead of refusing them (for a command that shares a
            `--flagfile` with others; `--flagfile` is expanded first).

    Returns:
        The arguments left after the flags (program name first).
    """
    try:
        if known_only:
            expanded = flags.FLAGS.read_flags_from_files(argv[1:], force_gnu=False)
            return flags.FLAGS([argv[0]] + expanded, known_only=True)
        return flags.FLAGS(argv)
    except flags.Error as error:
        fail(f"{error} (--helpshort lists the flags)", USAGE)
    return None  # not reached: fail exits


def guarded(main):
    """`main` with the error boundary described in the module docstring."""
    def boundary(argv):
        try:
            return main(argv)
        except (app.UsageError, command_flags.FlagError) as error:
            if _debugging():
                raise
            fail(error, USAGE)
        except RUNTIME_ERRORS as error:
            if _debugging():
                raise
            fail(error, FAILURE)
        return None  # not reached: fail exits

    return boundary


def without_tensorflow_info(record):
    """A `logging` filter: False for an INFO (or lower) record logged by TensorFlow's code."""
    return (record.levelno >= logging.WARNING
            or f"{os.sep}tensorflow{os.sep}" not in (record.pathname or ""))


def run(main, argv=None, known_only=False):
    """Runs a command's `main(argv)` behind the error boundary; exits with its status.

    Args:
        main: The command's entry point; returns an exit status (or `None` for 0).
        argv: The command line (default `sys.argv`).
        known_only: See `parse_flags`.
    """
    define_flags()
    logging.getLogger("absl").addFilter(without_tensorflow_info)
    app.run(guarded(main), argv=argv,
            flags_parser=lambda args: parse_flags(args, known_only=known_only))
