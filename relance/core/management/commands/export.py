from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from relance.analytics import exports
from relance.core import clock, errors, scope
from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.orgs.models import User


class Command(RelanceCommand):
    help = (
        "Export customers (with risk class and balances, for the ERP), open items or the aged balance as CSV or "
        "XLSX. Without --user the whole group is exported; with it, exactly what that user may see."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(exports.EXPORTS))
        parser.add_argument(
            "--format",
            choices=exports.FORMATS,
            default=None,
            help="csv or xlsx (default: from --out's extension, else csv).",
        )
        parser.add_argument("--out", type=Path, default=None, help="Output file (default: CSV on stdout).")
        parser.add_argument("--user", default=None, help="Export within this user's scope (e-mail).")

    def run(self, **options: Any) -> dict[str, Any]:
        actor: Any = scope.SystemActor(CLI_ACTOR)
        if options["user"]:
            actor = User.objects.filter(email=options["user"].strip().lower()).first()
            if actor is None:
                raise errors.ValidationError(errors.UNKNOWN_USER.format(email=options["user"]), field="user")
        out: Path | None = options["out"]
        fmt = options["format"] or (out.suffix.lstrip(".").lower() if out and out.suffix else "csv")
        if fmt not in exports.FORMATS:
            raise errors.ValidationError(f"Unknown format {fmt!r}: csv or xlsx.", field="format")
        export = exports.EXPORTS[options["kind"]](actor, as_of=clock.today())
        if out is None:
            if fmt == "xlsx":
                raise errors.ValidationError("XLSX needs --out FILE.", field="out")
            n = exports.write_csv(export, self.stdout._out)  # the raw stream: no line endings added
        elif fmt == "csv":
            with out.open("w", newline="", encoding="utf-8") as fh:
                n = exports.write_csv(export, fh)
        else:
            with out.open("wb") as fh:
                n = exports.write_xlsx(export, fh)
        if out is not None:
            self.say(f"{n} rows written to {out}.")
        return {"kind": options["kind"], "format": fmt, "rows": n, "file": str(out) if out else None}
