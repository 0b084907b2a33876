"""Idempotent flag definitions shared by the seg2vid commands."""

import sys

from absl import flags


def define_flag(kind, name, *args, flag_values=None, **kwargs):
    """`flags.DEFINE_<kind>(name, ...)` unless `name` is defined already (then it is kept).

    Every command defines its flags through this, so that commands imported into one
    process (the tests, a notebook) share the names they have in common instead of
    failing with `DuplicateFlagError`.
    """
    flag_values = flags.FLAGS if flag_values is None else flag_values
    if name not in flag_values:
        # Attributed to the calling command's module, so that `--helpshort` lists it (absl
        # names the main module by its path, `sys.argv[0]`).
        module = sys._getframe(1).f_globals["__name__"]  # pylint: disable=protected-access
        kwargs.setdefault("module_name", sys.argv[0] if module == "__main__" else module)
        getattr(flags, f"DEFINE_{kind}")(name, *args, flag_values=flag_values, **kwargs)
