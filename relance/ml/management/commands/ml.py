"""``relance ml train|evaluate|predict|profiles|models``: payment-date prediction and payer profiles (docs/ml.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from relance.core import clock
from relance.core.errors import ValidationError
from relance.core.management.base import CLI_ACTOR, RelanceCommand, progress
from relance.orgs.models import Company

BAD_AS_OF = "{value!r} is not a date (YYYY-MM-DD)."
UNKNOWN_COMPANY = "Unknown company {code!r}."


def _companies(code: str) -> list[Company]:
    if not code:
        return list(Company.objects.order_by("code"))
    company = Company.objects.filter(code=code.upper()).first()
    if company is None:
        raise ValidationError(UNKNOWN_COMPANY.format(code=code), field="company")
    return [company]


def _as_of(value: str | None) -> dt.date:
    if not value:
        return clock.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(BAD_AS_OF.format(value=value), field="as_of")


class Command(RelanceCommand):
    help = (
        "Payment-date prediction and payer profiles: train the per-company models, evaluate them on a time split "
        "(or on a CSV of invoices with --input), refresh the predictions of open invoices, recompute payer "
        "profiles, list model files. See docs/ml.md."
    )
    json_output = False

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{train,evaluate,predict,profiles,models}")

        def common(p: CommandParser, *, company: bool = True, as_of: bool = True) -> None:
            p.add_argument("--json", action="store_true", help="Print the result as JSON on stdout.")
            if company:
                p.add_argument("--company", default="", help="Company code (default: every company).")
            if as_of:
                p.add_argument("--as-of", dest="as_of", default=None, help="Business date (default: today).")

        train = sub.add_parser("train", help="Train each company's model on its paid invoices and store the file.")
        common(train)
        evaluate = sub.add_parser(
            "evaluate",
            help="Time-split evaluation (last 20%% of invoices by issue date, predicted as of their issue date) "
            "against two baselines; with --input, on that CSV file alone.",
        )
        common(evaluate, as_of=False)
        evaluate.add_argument(
            "--input",
            type=Path,
            default=None,
            help="CSV with customer_ref, number, issue_date, due_date, currency, amount, paid_date [, disputed].",
        )
        evaluate.add_argument("--late-days", type=int, default=None, help="N of 'paid more than N days late'.")
        predict = sub.add_parser("predict", help="Predict every open invoice now (with the active models).")
        common(predict)
        profiles = sub.add_parser("profiles", help="Recompute payer profiles and write them to the customers.")
        common(profiles)
        profiles.add_argument(
            "--compare",
            action="store_true",
            help="Before writing, compare with the profiles the customers have now (e.g. the demo's labels).",
        )
        profiles.add_argument("--dry-run", action="store_true", help="Compute and compare only; write nothing.")
        models = sub.add_parser("models", help="List the model files with their training date and metrics.")
        common(models, as_of=False)

    def run(self, **options: Any) -> Any:
        action = options["action"]
        return getattr(self, f"_{action}")(**options)

    def _train(self, **options: Any) -> dict[str, Any]:
        from relance.ml import services

        as_of = _as_of(options["as_of"])
        out = {}
        companies = _companies(options["company"])
        with progress(len(companies), "Training", enabled=not self.as_json, unit="companies") as bar:
            for company in companies:
                result = services.model_train(company=company, as_of=as_of, actor=CLI_ACTOR)
                out[company.code] = result.as_dict()
                m = result.metrics
                if result.version:
                    self.say(
                        f"{company.code}: model {result.version} on {result.n_settled} paid invoices; "
                        f"test MAE {m.get('mae_days')} days (due date {m.get('baseline_due_date_mae')}, "
                        f"customer mean {m.get('baseline_customer_mean_mae')}), AUC {m.get('auc_late')}."
                    )
                else:
                    self.say(f"{company.code}: no model, {result.fallback_reason}.")
                bar.update(1)
        return out

    def _evaluate(self, **options: Any) -> dict[str, Any]:
        from relance.ml import data, services
        from relance.ml.csvinput import read_invoices
        from relance.ml.evaluation import NotEnoughData, evaluate, run_split, summarize

        late = options["late_days"] if options["late_days"] is not None else services.late_days()
        if late < 0:
            raise ValidationError("--late-days must be zero or more.", field="late_days")
        try:
            if options["input"] is not None:
                history = read_invoices(options["input"])
                result = {"input": str(options["input"]), **evaluate(history, late_days=late)}
            else:
                runs, per_company = [], {}
                for company in _companies(options["company"]):
                    try:
                        run = run_split(data.company_history(company.pk), late_days=late)
                    except NotEnoughData as exc:
                        per_company[company.code] = {"error": str(exc)}
                        continue
                    runs.append(run)
                    per_company[company.code] = summarize([run])
                if not runs:
                    raise NotEnoughData("no company has enough paid invoices to evaluate")
                result = {**summarize(runs), "companies": per_company}
        except NotEnoughData as exc:
            raise ValidationError(str(exc), field="input")
        self.say(
            f"{result['n_test']} test invoices (issued from {result['test_from']}), {result['n_train']} for training.\n"
            f"  model:         MAE {result['mae_days']} days, AUC(late > {late} days) {result['auc_late']}, "
            f"Brier {result['calibration']['brier']}, 80% interval coverage {result['interval_coverage']}\n"
            f"  due date:      MAE {result['baseline_due_date_mae']} days\n"
            f"  customer mean: MAE {result['baseline_customer_mean_mae']} days, "
            f"AUC {result['baseline_customer_mean_auc']}\n"
            f"  {'beats both baselines' if result['beats_baselines'] else 'does NOT beat both baselines'}"
        )
        return result

    def _predict(self, **options: Any) -> dict[str, Any]:
        from relance.ml import services

        as_of = _as_of(options["as_of"])
        out = {}
        for company in _companies(options["company"]):
            out[company.code] = services.predictions_refresh(company=company, as_of=as_of, actor=CLI_ACTOR)
            r = out[company.code]
            self.say(
                f"{company.code}: {r['predicted']} open invoices predicted ({r['fallback']} by fallback), "
                f"model {r['model'] or 'none'}."
            )
        return out

    def _profiles(self, **options: Any) -> dict[str, Any]:
        from relance.ml import services

        as_of = _as_of(options["as_of"])
        out: dict[str, Any] = {}
        for company in _companies(options["company"]):
            result: dict[str, Any] = {}
            if options["compare"] or options["dry_run"]:
                result["comparison"] = services.profiles_compare(company=company, as_of=as_of)
                c = result["comparison"]
                self.say(
                    f"{company.code}: {c['agree']} of {c['labelled']} labelled customers agree "
                    f"({c['agreement']}); {c['unclassified']} unclassified."
                )
            if not options["dry_run"]:
                result.update(services.profiles_refresh(company=company, as_of=as_of, actor=CLI_ACTOR))
                self.say(
                    f"{company.code}: {result['customers']} customers, {result['changed']} changed: "
                    + ", ".join(f"{k} {v}" for k, v in result["profiles"].items())
                )
            out[company.code] = result
        return out

    def _models(self, **options: Any) -> list[dict[str, Any]]:
        from relance.ml import services

        rows = []
        for m in services.models_list():
            if options["company"] and m.company.code != options["company"].upper():
                continue
            rows.append(
                {
                    "company": m.company.code,
                    "version": m.version,
                    "active": m.active,
                    "trained_on": m.trained_on,
                    "trained_at": m.trained_at,
                    "n_train": m.n_train,
                    "path": m.path,
                    "mae_days": m.metrics.get("mae_days"),
                    "auc_late": m.metrics.get("auc_late"),
                    "metrics": m.metrics,
                }
            )
            self.say(
                f"{'*' if m.active else ' '} {m.version:<32} trained {m.trained_on} on {m.n_train:>6} invoices  "
                f"MAE {m.metrics.get('mae_days')}  AUC {m.metrics.get('auc_late')}  {m.path}"
            )
        if not rows:
            self.say("No model trained yet: run relance ml train.")
        return rows
