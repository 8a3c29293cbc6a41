"""Scenarios and segments as a YAML document: parsing with line numbers, validation, export.

The schema (docs/collections.md, "Scenarios and segments")::

    version: 1                       # schema version (always 1)
    default_scenario: standard       # the scenario of accounts no segment matches
    scenarios:
      - code: standard               # [a-z0-9_-], unique
        name: Standard
        tolerance: "5.00"            # residuals below it are never chased (in the account's currency)
        steps:                       # strictly increasing days; keys unique within the scenario
          - {key: courtesy, day: -3, channel: email, tone: friendly}
          - {key: call, day: 15, channel: call, min_amount: "500"}
    segments:                        # first match wins
      - name: strategic
        scenario: gentle
        when: {strategic: true, risk_classes: [A, B], payer_profiles: [prompt], companies: [FR1],
               countries: [FR], min_amount: "0", max_amount: "100000"}

Parsing is pure (no database); :func:`parse` raises :class:`RulebookError` listing every problem with its
line, and nothing is loaded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from relance.core import errors
from relance.core.vocab import PayerProfile, RiskClass

from .domain import CHANNELS, TONES, Rulebook, Scenario, Segment, Step

DEFAULT_FILE = Path(__file__).with_name("default_scenarios.yaml")
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SCHEMA_VERSION = 1

STEP_KEYS = {"key", "day", "channel", "min_amount", "risk_classes", "template", "tone"}
SCENARIO_KEYS = {"code", "name", "tolerance", "steps"}
SEGMENT_KEYS = {"name", "scenario", "when"}
WHEN_KEYS = {"risk_classes", "payer_profiles", "strategic", "companies", "countries", "min_amount", "max_amount"}
TOP_KEYS = {"version", "default_scenario", "scenarios", "segments"}


class RulebookError(errors.ValidationError):
    """A refused document: ``problems`` is a list of (line, reason)."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = "; ".join(f"line {line}: {reason}" for line, reason in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{source}: {lines}{more}")


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[int, str]] = []

    def bad(self, node: yaml.Node, reason: str) -> None:
        self.problems.append((node.start_mark.line + 1, reason))

    def mapping(self, node: yaml.Node, what: str, allowed: set[str], required: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.bad(node, f"{what} must be a mapping")
            return {}
        out: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = key_node.value
            if key not in allowed:
                self.bad(key_node, f"unknown field {key!r} in {what} (fields: {', '.join(sorted(allowed))})")
            elif key in out:
                self.bad(key_node, f"field {key!r} given twice in {what}")
            else:
                out[key] = value
        for key in sorted(required - set(out)):
            self.bad(node, f"{what} lacks the field {key!r}")
        return out

    def seq(self, node: yaml.Node | None, what: str) -> list[yaml.Node]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.bad(node, f"{what} must be a list")
            return []
        return list(node.value)

    def text(self, node: yaml.Node | None, what: str, *, pattern: re.Pattern[str] | None = None) -> str:
        if node is None:
            return ""
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.bad(node, f"{what} must be a non-empty text")
            return ""
        value = str(node.value).strip()
        if pattern is not None and not pattern.match(value):
            self.bad(node, f"{what} {value!r} must be lower-case letters, digits, '_' or '-' (40 at most)")
        return value

    def integer(self, node: yaml.Node, what: str) -> int | None:
        try:
            if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:int":
                raise ValueError
            return int(node.value)
        except ValueError:
            self.bad(node, f"{what} must be a whole number of days (got {getattr(node, 'value', node)!r})")
            return None

    def amount(self, node: yaml.Node | None, what: str) -> Decimal | None:
        if node is None:
            return None
        try:
            if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:float" and "e" in node.value:
                raise InvalidOperation
            value = Decimal(str(node.value).strip())
            if not value.is_finite() or value < 0:
                raise InvalidOperation
            return value
        except InvalidOperation:
            self.bad(node, f'{what} must be a positive decimal amount such as "500.00" (got {node.value!r})')
            return None

    def choices(self, node: yaml.Node | None, what: str, allowed: list[str] | None) -> frozenset[str]:
        out: list[str] = []
        for item in self.seq(node, what):
            value = self.text(item, what)
            if value and allowed is not None and value not in allowed:
                self.bad(item, f"{value!r} is not one of {', '.join(allowed)} in {what}")
            out.append(value.upper() if allowed is None else value)
        return frozenset(v for v in out if v)

    def boolean(self, node: yaml.Node | None, what: str) -> bool | None:
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.bad(node, f"{what} must be true or false")
            return None
        return node.value.lower() in ("true", "yes", "on")


def _step(c: _Checker, node: yaml.Node, scenario: str) -> Step | None:
    what = f"a step of scenario {scenario!r}"
    f = c.mapping(node, what, STEP_KEYS, {"key", "day", "channel"})
    if not f:
        return None
    key = c.text(f.get("key"), "the step key", pattern=CODE)
    day = c.integer(f["day"], f"the day of step {key!r}") if "day" in f else None
    if day is None:
        return None
    channel = c.text(f.get("channel"), "the channel")
    if channel and channel not in CHANNELS:
        c.bad(f["channel"], f"unknown channel {channel!r} (channels: {', '.join(CHANNELS)})")
    tone = c.text(f.get("tone"), "the tone") or "neutral"
    if "tone" in f and tone not in TONES:
        c.bad(f["tone"], f"unknown tone {tone!r} (tones: {', '.join(TONES)})")
    return Step(
        key=key,
        day=day,
        channel=channel,
        min_amount=c.amount(f.get("min_amount"), f"the minimum amount of step {key!r}") or Decimal(0),
        risk_classes=c.choices(f.get("risk_classes"), "risk_classes", list(RiskClass.values)),
        template=c.text(f.get("template"), "the template", pattern=CODE),
        tone=tone,
    )


def _scenario(c: _Checker, node: yaml.Node) -> Scenario | None:
    f = c.mapping(node, "a scenario", SCENARIO_KEYS, {"code", "name", "steps"})
    if not f:
        return None
    code = c.text(f.get("code"), "the scenario code", pattern=CODE)
    steps: list[Step] = []
    seen: set[str] = set()
    for step_node in c.seq(f.get("steps"), f"the steps of {code!r}"):
        step = _step(c, step_node, code)
        if step is None:
            continue
        if step.key in seen:
            c.bad(step_node, f"step key {step.key!r} is used twice in scenario {code!r}")
        if steps and step.day <= steps[-1].day:
            c.bad(
                step_node,
                f"step {step.key!r} (day {step.day}) must come after day {steps[-1].day}: "
                "steps are in strictly increasing order of days",
            )
        seen.add(step.key)
        steps.append(step)
    if "steps" in f and not steps:
        c.bad(f["steps"], f"scenario {code!r} has no step")
    tolerance = c.amount(f.get("tolerance"), "the tolerance")
    return Scenario(
        code=code,
        name=c.text(f.get("name"), "the scenario name"),
        steps=tuple(steps),
        tolerance=Decimal("5") if tolerance is None else tolerance,
    )


def _segment(c: _Checker, node: yaml.Node, codes: set[str]) -> Segment | None:
    f = c.mapping(node, "a segment", SEGMENT_KEYS, {"name", "scenario"})
    if not f:
        return None
    name = c.text(f.get("name"), "the segment name")
    scenario = c.text(f.get("scenario"), "the scenario")
    if scenario and scenario not in codes:
        c.bad(f["scenario"], f"segment {name!r} names unknown scenario {scenario!r}")
    w = c.mapping(f["when"], f"the rules of segment {name!r}", WHEN_KEYS, set()) if "when" in f else {}
    return Segment(
        name=name,
        scenario=scenario,
        risk_classes=c.choices(w.get("risk_classes"), "risk_classes", list(RiskClass.values)),
        payer_profiles=c.choices(w.get("payer_profiles"), "payer_profiles", list(PayerProfile.values)),
        strategic=c.boolean(w.get("strategic"), "strategic"),
        companies=c.choices(w.get("companies"), "companies", None),
        countries=c.choices(w.get("countries"), "countries", None),
        min_amount=c.amount(w.get("min_amount"), "min_amount"),
        max_amount=c.amount(w.get("max_amount"), "max_amount"),
    )


def parse(text: str, *, source: str = "document") -> Rulebook:
    """The rulebook written in ``text``, or RulebookError naming every problem with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise RulebookError(source, [(line, f"not valid YAML: {getattr(exc, 'problem', exc)}")])
    if root is None:
        raise RulebookError(source, [(1, "the document is empty")])
    c = _Checker()
    top = c.mapping(root, "the document", TOP_KEYS, {"version", "default_scenario", "scenarios"})
    if "version" in top and c.integer(top["version"], "version") != SCHEMA_VERSION:
        c.bad(top["version"], f"unsupported version (this Relance reads version {SCHEMA_VERSION})")
    scenarios: dict[str, Scenario] = {}
    for node in c.seq(top.get("scenarios"), "scenarios"):
        scenario = _scenario(c, node)
        if scenario is None:
            continue
        if scenario.code in scenarios:
            c.bad(node, f"scenario code {scenario.code!r} is used twice")
        scenarios[scenario.code] = scenario
    if "scenarios" in top and not scenarios:
        c.bad(top["scenarios"], "define at least one scenario")
    default = c.text(top.get("default_scenario"), "default_scenario")
    if default and scenarios and default not in scenarios:
        c.bad(top["default_scenario"], f"default_scenario {default!r} is not a scenario of this document")
    segments = [s for s in (_segment(c, n, set(scenarios)) for n in c.seq(top.get("segments"), "segments")) if s]
    if c.problems:
        raise RulebookError(source, sorted(c.problems))
    return Rulebook(scenarios=scenarios, segments=tuple(segments), default_scenario=default)


def default_text() -> str:
    return DEFAULT_FILE.read_text(encoding="utf-8")
