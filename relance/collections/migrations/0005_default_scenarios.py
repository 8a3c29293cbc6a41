"""A fresh database holds the default scenarios (version 1), so a company works out of the box."""

from pathlib import Path

from django.db import migrations

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "default_scenarios.yaml"


def load_default(apps, schema_editor):
    RulebookVersion = apps.get_model("collections", "RulebookVersion")
    if not RulebookVersion.objects.exists():
        RulebookVersion.objects.create(
            version=1,
            text=DEFAULT_FILE.read_text(encoding="utf-8"),
            comment="Default scenarios shipped with Relance",
            actor_label="system",
        )


class Migration(migrations.Migration):
    dependencies = [("collections", "0004_cycle_outbox_worklist")]

    operations = [migrations.RunPython(load_default, migrations.RunPython.noop)]
