"""The ``relance`` command: Relance's operator commands plus Django's own management commands.

Every command is a Django management command (``relance/*/management/commands``), so each
has ``--help``; ``DATABASE_URL`` selects the database for every one of them.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "relance"
    from django.core.management import execute_from_command_line

    if len(argv) == 1:
        argv.append("help")
    execute_from_command_line(argv)
    return 0
