"""The ``relance`` command: Relance's operator commands plus Django's own management commands.

Every command is a Django management command (``relance/*/management/commands``), so each
has ``--help``; ``DATABASE_URL`` selects the database for every one of them.
"""

from __future__ import annotations

import os
import sys

OVERVIEW = """usage: relance COMMAND [options]     (relance COMMAND --help for each command's options)

Relance: accounts receivable (credit risk, collections, cash).
DATABASE_URL selects the database (default: the SQLite file var/relance.sqlite3).
"""


def _overview() -> str:
    from django.core.management import get_commands, load_command_class

    commands = get_commands()
    ours = sorted(name for name, app in commands.items() if app.startswith("relance."))
    lines = [OVERVIEW, "Relance commands:"]
    for name in ours:
        try:
            text = load_command_class(commands[name], name).help.split(". ")[0].rstrip(".")
        except Exception:  # a broken command must not hide the others
            text = ""
        lines.append(f"  {name:<16} {text if len(text) <= 90 else text[:89] + '…'}")
    django = sorted(name for name, app in commands.items() if not app.startswith("relance."))
    lines += ["", "Django commands (passed through): " + ", ".join(django)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "relance"
    import django
    from django.core.management import execute_from_command_line

    if len(argv) == 1 or argv[1] in ("-h", "--help", "help") and len(argv) == 2:
        django.setup()
        print(_overview())
        return 0
    execute_from_command_line(argv)
    return 0
