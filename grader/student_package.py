"""(being written for issue 15)"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any, name: str, formatter: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(name, help="(being written for issue 15)", formatter_class=formatter,
                       epilog=f"examples:\n  grader {name}")
    p.set_defaults()


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
