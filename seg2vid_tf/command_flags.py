"""Idempotent flag definitions shared by the seg2vid commands."""

import dataclasses
import sys

from absl import flags


class FlagError(ValueError):
    """A flag value that is missing, out of range or contradicts another flag.

    A `ValueError` (library callers catch it as one); a command's error
    boundary (`seg2vid_tf.cli`) reports it as a usage error, exit status 2.
    """


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


# absl flag kinds by the Python type of a dataclass field's default.
_FLAG_KINDS = {bool: "bool", int: "integer", float: "float", str: "string"}


def define_config_flags(config_class, help_texts, flag_values=None):
    """One flag per field of the dataclass `config_class` (idempotent, like `define_flag`).

    The kind comes from the field's default (bool, int, float or str; an empty
    string default becomes None, so that a required path reads as unset).

    Args:
        config_class: A dataclass whose field names are flag names.
        help_texts: Help text of every field, by name.
        flag_values: An `absl.flags.FlagValues`; absl's global `FLAGS` by default.
    """
    module = sys._getframe(1).f_globals["__name__"]  # pylint: disable=protected-access
    module_name = sys.argv[0] if module == "__main__" else module
    for field in dataclasses.fields(config_class):
        kind = _FLAG_KINDS[type(field.default)]
        default = (field.default or None) if kind == "string" else field.default
        define_flag(kind, field.name, default, help_texts[field.name], flag_values=flag_values,
                    module_name=module_name)


def config_from_flags(config_class, flag_values=None):
    """`config_class` (a dataclass) filled from parsed flags of its field names.

    An unset string flag (None) becomes `""`.

    Raises:
        FlagError: The config's own checks refused a value (their message names the
            flag); a command reports it as a usage error.
    """
    flag_values = flags.FLAGS if flag_values is None else flag_values
    values = {}
    for field in dataclasses.fields(config_class):
        value = getattr(flag_values, field.name)
        values[field.name] = "" if value is None and field.type is str else value
    try:
        return config_class(**values)
    except FlagError:
        raise
    except ValueError as error:
        raise FlagError(str(error)) from error


def define_rollout_flags(flag_values=None):
    """The flags of `seg2vid_tf.models.rollout.RolloutOptions` (videos longer than one round)."""
    from seg2vid_tf.models import rollout  # pylint: disable=import-outside-toplevel

    define_flag("enum", "label_warp", "reference", list(rollout.LABEL_WARPS),
                "Long videos: reference (each round warps the map it started from) or composed "
                "(the first map warped once by the flow composed across rounds).",
                flag_values=flag_values)
    define_flag("enum", "frame_warp", "reference", list(rollout.FRAME_WARPS),
                "Long videos: reference (each round warps its start frame, a predicted one) or "
                "composed (the first frame warped once by the composed flow, then refined).",
                flag_values=flag_values)
    define_flag("enum", "latent_per_round", "carry", list(rollout.LATENTS),
                "Long videos: carry one latent through every round (reference) or resample it "
                "per round.", flag_values=flag_values)
    define_flag("float", "repaint_weight", 0.0,
                "Long videos: blend of stage 1's painting of the carried label map into each "
                "round's start frame, in [0, 1]; 0 is the reference (needs stage 1 when > 0).",
                flag_values=flag_values)
    define_flag("float", "detail_weight", 0.0,
                "Long videos: weight of stage 1's fine detail for the carried label map added to "
                "every predicted frame, in [0, 1]; 0 is the reference (needs stage 1 when > 0).",
                flag_values=flag_values)


def rollout_settings(values=None):
    """The `RolloutOptions` keyword arguments of the parsed flags of `define_rollout_flags`
    (unchecked: `RolloutOptions` checks them)."""
    values = flags.FLAGS if values is None else values
    return {"label_warp": values.label_warp, "frame_warp": values.frame_warp,
            "latent": values.latent_per_round, "repaint_weight": values.repaint_weight,
            "detail_weight": values.detail_weight}


def rollout_options(values=None):
    """`RolloutOptions` from the parsed flags of `define_rollout_flags`."""
    from seg2vid_tf.models import rollout  # pylint: disable=import-outside-toplevel

    try:
        return rollout.RolloutOptions(**rollout_settings(values))
    except ValueError as error:
        raise FlagError(str(error)) from error
