"""Numbers on the command line, validated where they enter: a bad one is a usage error (exit 2)."""
from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (for --limit and the like)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give e.g. 10") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1; give a number of 1 or more")
    return value


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port; give a number from 1 to 65535")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds; give e.g. 30") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds; give e.g. 30")
    return value
