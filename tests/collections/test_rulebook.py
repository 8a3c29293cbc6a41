"""The scenarios document: validation naming lines, versions, the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from relance.collections import rulebook, rules
from relance.collections.models import RulebookVersion
from relance.core import audit, errors

GOOD = rulebook.default_text()


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(rulebook.RulebookError) as info:
        rulebook.parse(text, source="x.yaml")
    return info.value.problems


@pytest.mark.parametrize(
    "label, text, line, reason",
    [
        ("not YAML", "version: 1\nscenarios: [\n", 3, "not valid YAML"),
        ("empty", "", 1, "empty"),
        ("unknown top field", GOOD + "extra: 1\n", GOOD.count("\n") + 1, "unknown field 'extra'"),
        (
            "unknown channel",
            GOOD.replace("day: 15, channel: call,", "day: 15, channel: fax,"),
            14,
            "unknown channel 'fax'",
        ),
        ("days out of order", GOOD.replace("day: 8, channel: email", "day: 40, channel: email"), 14, "after day 40"),
        ("bad amount", GOOD.replace('min_amount: "500"', 'min_amount: "lots"'), 14, "decimal amount"),
        (
            "unknown scenario in segment",
            GOOD.replace("scenario: strategic\n", "scenario: vip\n"),
            39,
            "unknown scenario",
        ),
        ("bad risk class", GOOD.replace("[D, E, X]", "[D, Z]"), 43, "'Z' is not one of"),
        ("default not defined", GOOD.replace("default_scenario: standard", "default_scenario: nope"), 4, "nope"),
        ("day not a number", GOOD.replace("day: -3,", "day: soon,"), 11, "whole number of days"),
    ],
)
def test_a_bad_document_is_refused_with_the_line_and_the_reason(label, text, line, reason):
    found = problems(text)
    assert any(n == line and reason in why for n, why in found), (label, found)


def test_the_default_document_is_valid():
    book = rulebook.parse(GOOD)
    assert book.default_scenario == "standard" and set(book.scenarios) == {"standard", "strategic", "high_risk"}
    assert [s.day for s in book.scenarios["standard"].steps] == [-3, 1, 8, 15, 30, 45]


def test_a_fresh_database_holds_the_default_version(db):
    row = RulebookVersion.objects.get()
    assert row.version == 1 and row.text == GOOD
    assert rules.active_rulebook()[1] == 1


def test_loading_makes_a_new_version_and_the_same_text_changes_nothing(db):
    text = GOOD.replace('tolerance: "5.00"', 'tolerance: "2.00"', 1)
    assert rules.rulebook_load(actor=audit.SYSTEM, text=text).version == 2
    assert rules.rulebook_load(actor=audit.SYSTEM, text=text).version == 2
    book, version = rules.active_rulebook()
    assert version == 2 and str(book.scenarios["standard"].tolerance) == "2.00"


def test_a_bad_document_writes_nothing(db):
    with pytest.raises(errors.ValidationError):
        rules.rulebook_load(actor=audit.SYSTEM, text="version: 2\n")
    assert RulebookVersion.objects.count() == 1


def test_only_admins_load_scenarios(world):
    with pytest.raises(errors.PermissionDenied):
        rules.rulebook_load(actor=world.users["credit_manager"], text=GOOD + "\n")
    rules.rulebook_load(actor=world.users["admin"], text=GOOD + "\n")


def test_commands_load_check_export_list(db, tmp_path: Path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("channel: call", "channel: pigeon"), encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad.yaml: line 14: unknown channel 'pigeon'"):
        call_command("scenarios", "check", str(bad))
    good = tmp_path / "good.yaml"
    good.write_text(GOOD.replace("name: Standard", "name: Standard v2"), encoding="utf-8")
    call_command("scenarios", "load", str(good), "--comment", "renamed", "--json")
    assert json.loads(capsys.readouterr().out) == {"version": 2}
    call_command("scenarios", "export")
    assert "name: Standard v2" in capsys.readouterr().out
    call_command("scenarios", "list", "--json")
    assert [r["version"] for r in json.loads(capsys.readouterr().out)] == [2, 1]
