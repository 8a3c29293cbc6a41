"""Base of every ``relance`` operator command: ``--json`` output and user-facing errors."""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relance.core import errors

CLI_ACTOR = "cli"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class RelanceCommand(BaseCommand):
    """Subclasses implement ``run(**options)`` returning a dict (printed as JSON with --json) and print
    human output through ``self.say`` (silenced with --json)."""

    json_output = True

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        return super().create_parser("relance", subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        if self.json_output:
            parser.add_argument("--json", action="store_true", help="Print the result as JSON on stdout.")
        self.add_options(parser)

    def add_options(self, parser: CommandParser) -> None:
        """Command-specific arguments."""

    def say(self, text: str = "") -> None:
        if not self.as_json:
            self.stdout.write(text)

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = bool(options.get("json"))
        try:
            result = self.run(**options)
        except errors.RelanceError as exc:
            if self.as_json:
                self.stdout.write(json.dumps({"error": exc.message, "field": exc.field, "code": exc.code}))
            raise CommandError(str(exc), returncode=2)
        if self.as_json and result is not None:
            self.stdout.write(json.dumps(result, default=_default, indent=2, ensure_ascii=False))

    def run(self, **options: Any) -> dict[str, Any] | list[Any] | None:
        raise TypeError(f"{type(self).__name__} must define run(**options)")  # pragma: no cover


def progress(total: int | None, desc: str, *, enabled: bool = True, unit: str = "rows") -> Any:
    """A progress bar on stderr (tqdm), hidden when output is for machines or stderr is not a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        file=sys.stderr,
        disable=not enabled or not sys.stderr.isatty(),
        dynamic_ncols=True,
    )
