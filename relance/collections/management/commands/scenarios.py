from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from relance.collections import rulebook, rules
from relance.collections.models import RulebookVersion
from relance.core import errors
from relance.core.management.base import CLI_ACTOR, RelanceCommand


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = (
        "Dunning scenarios and segments (a YAML document, docs/collections.md). `load FILE` validates and makes "
        "it the version in force (a bad document is refused with each line and reason); `export` prints the "
        "version in force (or --version N); `check FILE` validates only; `list` shows the versions."
    )

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load,check,export,list}")
        load = sub.add_parser("load", help="Validate FILE and make it the version in force.")
        load.add_argument("file", type=Path)
        load.add_argument("--comment", default="", help="Why this version (kept with it).")
        load.add_argument("--json", action="store_true")
        check = sub.add_parser("check", help="Validate FILE without loading it.")
        check.add_argument("file", type=Path)
        check.add_argument("--json", action="store_true")
        export = sub.add_parser("export", help="Print the version in force (YAML).")
        export.add_argument("--version", type=int, default=None)
        lst = sub.add_parser("list", help="List the versions.")
        lst.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        options.setdefault("json", False)
        super().handle(*args, **options)

    def _read(self, path: Path) -> str:
        if not path.exists():
            raise errors.ValidationError(f"{path}: no such file.", field="file")
        return path.read_text(encoding="utf-8")

    def run(self, **options: Any) -> Any:
        action = options["action"]
        if action == "load":
            row = rules.rulebook_load(
                actor=CLI_ACTOR,
                text=self._read(options["file"]),
                source=options["file"].name,
                comment=options["comment"],
            )
            self.say(f"{options['file']}: version {row.version} in force.")
            return {"version": row.version}
        if action == "check":
            book = rulebook.parse(self._read(options["file"]), source=options["file"].name)
            self.say(f"{options['file']}: valid ({len(book.scenarios)} scenarios, {len(book.segments)} segments).")
            return {"valid": True, "scenarios": sorted(book.scenarios), "segments": [s.name for s in book.segments]}
        if action == "export":
            if options["version"] is not None:
                row = RulebookVersion.objects.filter(version=options["version"]).first()
                if row is None:
                    raise errors.ValidationError(f"No version {options['version']}.", field="version")
                text = row.text
            else:
                row = rules.active_version()
                text = row.text if row else rulebook.default_text()
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
            return None
        rows = [
            {"version": r.version, "created_at": r.created_at, "by": r.actor_label, "comment": r.comment}
            for r in RulebookVersion.objects.order_by("-version")
        ]
        for r in rows:
            self.say(f"v{r['version']}  {r['created_at']:%Y-%m-%d %H:%M}  {r['by']}  {r['comment']}")
        return rows
