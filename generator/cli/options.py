"""The CLI's numeric options, checked: a value out of range is a usage error (exit 2) that names
the option and the range it accepts, never a traceback nor a silent default.

The ranges are the settings' (``config.Settings``), with an upper end where the settings have
none (a huge number would only fail later, less clearly); ``--num-predict`` goes down to 1 for
quick tests. ``--num-ctx`` (``auto`` or a number) is checked by ``context_size``."""
import argparse
import math
from typing import Callable, Dict, Tuple, Union

Number = Union[int, float]

# option -> (type, lowest, highest, what the number is)
RANGES: Dict[str, Tuple[type, Number, Number, str]] = {
    "--max-cards": (int, 0, 10000, "cards in all (0 = automatic)"),
    "--parallel": (int, 1, 64, "requests at once"),
    "--num-predict": (int, 1, 131072, "tokens"),
    "--seed": (int, 0, 2 ** 31 - 1, "(0 = random)"),
    "--temperature": (float, 0.0, 2.0, ""),
    "--timeout": (float, 1.0, 86400.0, "seconds"),
}


def _show(value: Number) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def ranged(option: str) -> Callable[[str], Number]:
    """An argparse ``type`` for ``option`` that accepts only its range of ``RANGES``."""
    kind, low, high, unit = RANGES[option]
    accepted = "%s %s to %s%s" % ("a whole number from" if kind is int else "a number from",
                                  _show(low), _show(high), " " + unit if unit else "")

    def parse(text: str) -> Number:
        try:
            value: Number = kind(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError("takes %s, not %r" % (accepted, text[:40])) from None
        if isinstance(value, float) and not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError("takes %s, not %r" % (accepted, text[:40]))
        return value

    parse.__name__ = option.lstrip("-").replace("-", "_")
    return parse
