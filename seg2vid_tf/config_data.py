"""What the configuration dataclasses share: copies, dicts and checks of their fields.

The architectures (`models/config.py`, `models/pix2pixhd_config.py`,
`models/segmenter.py`) and the training configurations derive from
:class:`ConfigData`; their `__post_init__` checks use :func:`check_ints`.
"""

import dataclasses


class ConfigData:
    """Mixin of a frozen dataclass: `replace`, `to_dict` and a strict `from_dict`."""

    def replace(self, **changes):
        """A copy with `changes` (checked again by `__post_init__`)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """The fields as a (JSON-ready) dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """The config of a dict written by `to_dict`.

        Raises:
            ValueError: A key that is not a field (named with the known ones),
                or a field value the config refuses.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown {cls.__name__} fields {unknown}; known: {sorted(known)}.")
        return cls(**values)


def check_ints(config, names, minimum, prefix="--"):
    """Raises ValueError unless each field of `names` is an int (not a bool) >= `minimum`.

    Args:
        config: The dataclass instance.
        names: Field names to check.
        minimum: The smallest value allowed.
        prefix: Put before the field name in the message: `"--"` where
            fields are flags, `"Pix2PixHDConfig."` for an architecture.
    """
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{prefix}{name} must be an integer >= {minimum}, got {value!r}.")
