"""Running a command's `main` in the test process, behind its error boundary (tests only)."""

from seg2vid_tf import cli


def exit_status(main, argv):
    """The exit status of `main(argv)` run as `cli.run` runs it (`error:` lines on stderr)."""
    try:
        status = cli.guarded(main)(argv)
    except SystemExit as exited:
        return exited.code
    return 0 if status is None else status
