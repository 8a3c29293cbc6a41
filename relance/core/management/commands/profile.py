from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import CommandParser

from relance.core.errors import ValidationError
from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.ingest import services
from relance.ingest.models import MappingProfile


class Command(RelanceCommand):
    help = (
        "Mapping profiles: how to read an ERP's own export (column names, date format, decimal separator, "
        "sign convention, type codes, defaults). See docs/imports.md."
    )
    json_output = False

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{save,list,show}")
        save = sub.add_parser("save", help="Save a profile from a YAML or JSON file (replaces one of that name).")
        save.add_argument("file", type=Path)
        save.add_argument("--name", default=None, help="Profile name (default: the file's 'name' key).")
        save.add_argument("--json", action="store_true")
        lst = sub.add_parser("list", help="List saved profiles.")
        lst.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="Print a profile as YAML (or JSON with --json).")
        show.add_argument("name")
        show.add_argument("--json", action="store_true")

    def run(self, **options: Any) -> Any:
        action = options["action"]
        if action == "save":
            path: Path = options["file"]
            if not path.exists():
                raise ValidationError(f"{path}: no such file.", field="file")
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise ValidationError(f"{path}: not valid YAML/JSON ({exc}).", field="file")
            if not isinstance(data, dict):
                raise ValidationError(f"{path}: a profile is a mapping of keys to values.", field="file")
            name = options["name"] or data.get("name")
            if not name:
                raise ValidationError(f"{path}: give the profile a name (a 'name' key or --name).", field="name")
            profile = services.profile_save(actor=CLI_ACTOR, name=name, definition=data)
            self.say(f"Profile {profile.name} saved.")
            return {"name": profile.name, **profile.definition}
        if action == "list":
            rows = [{"name": p.name, "kind": p.kind, "updated_at": p.updated_at} for p in MappingProfile.objects.all()]
            for r in rows:
                self.say(f"{r['name']:<30} {r['kind']}")
            return rows
        profile = MappingProfile.objects.filter(name=options["name"]).first()
        if profile is None:
            raise ValidationError(f"Unknown mapping profile {options['name']!r}.", field="name")
        data = {"name": profile.name, **profile.definition}
        if not self.as_json:
            self.stdout.write(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        return data if self.as_json else None
