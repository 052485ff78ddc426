"""Provider reports from files: a provider invoice in Bizgraph's own CSV columns (any provider)
and Google's Cloud Billing CSV export (Gemini). Errors name the line and the column.

Invoice CSV (docs/reconciliation.md): a header row, then one row per UTC day and model.
  required: date (YYYY-MM-DD), model, cost (a decimal, in `currency`)
  optional: currency (default USD), requests, input_tokens, output_tokens, cached_input_tokens,
            cache_write_tokens, api_key_id, project_id
  (input_tokens counts cached and cache-write tokens too, as Bizgraph does.)

Cloud Billing export: the rows of the Gemini API (service "Gemini API" or "Generative Language
API") and of Vertex AI's Gemini SKUs; the model is read from the SKU description ("Gemini 2.5
Flash Input tokens" -> gemini-2.5-flash), the day from the usage start, the cost from
"Unrounded cost ($)" or "Cost ($)" (or the BigQuery export's `cost`). Token counts are taken
when the usage unit is a count of tokens.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from domain.billing.money import EXACT, validate_currency
from domain.errors import ValidationError
from domain.metering.tokens import TokenUsage
from domain.reconciliation import ProviderFigures

MAX_ROWS = 200_000
INVOICE_REQUIRED = ("date", "model", "cost")
INVOICE_COLUMNS = (
    *INVOICE_REQUIRED,
    "currency",
    "requests",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "api_key_id",
    "project_id",
)
_GEMINI_SERVICES = ("gemini api", "generative language api", "vertex ai")
_MODEL = re.compile(
    r"(gemini[\s-]+\d+(?:\.\d+)?(?:[\s-]+(?!input|output|text|tokens?|cach|context|thinking|"
    r"audio|image|video|long|short|batch)[a-z]+)*)",
    re.IGNORECASE,
)


def _rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    if not header:
        raise ValidationError("the file is empty: a header row is needed")
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise ValidationError(f"at most {MAX_ROWS} rows per file")
        cleaned = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if any(cleaned.values()):
            rows.append((reader.line_num, cleaned))
    return header, rows


def _date(value: str, line: int, column: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise ValidationError(f"line {line}: {column} {value!r} is not a date YYYY-MM-DD") from exc


def _decimal(value: str, line: int, column: str) -> Decimal:
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation as exc:
        raise ValidationError(f"line {line}: {column} {value!r} is not a number") from exc
    if not amount.is_finite():
        raise ValidationError(f"line {line}: {column} {value!r} is not a number")
    return amount


def _count(value: str, line: int, column: str) -> int | None:
    if value == "":
        return None
    amount = _decimal(value, line, column)
    if amount < 0 or amount != amount.to_integral_value():
        raise ValidationError(f"line {line}: {column} must be a whole number of at least 0")
    return int(amount)


def invoice_rows(text: str, provider: str) -> list[ProviderFigures]:
    """A provider invoice in Bizgraph's CSV columns (see the module docstring)."""
    header, rows = _rows(text)
    names = {h.lower() for h in header}
    missing = [c for c in INVOICE_REQUIRED if c not in names]
    if missing:
        raise ValidationError(f"missing columns: {', '.join(missing)}")
    unknown = sorted(names - set(INVOICE_COLUMNS))
    if unknown:
        raise ValidationError(f"unknown columns: {', '.join(unknown)}")
    found = []
    for line, row in rows:
        if not row["model"]:
            raise ValidationError(f"line {line}: model is empty")
        counts = {
            name: _count(row.get(name, ""), line, name)
            for name in (
                "input_tokens",
                "output_tokens",
                "cached_input_tokens",
                "cache_write_tokens",
            )
        }
        tokens = None
        if any(v is not None for v in counts.values()):
            try:
                tokens = TokenUsage(**{k: v or 0 for k, v in counts.items()})
            except ValidationError as exc:
                raise ValidationError(f"line {line}: {exc}") from exc
        try:
            currency = validate_currency((row.get("currency") or "USD").upper())
        except Exception as exc:
            raise ValidationError(f"line {line}: currency {row.get('currency')!r}") from exc
        found.append(
            ProviderFigures(
                day=_date(row["date"], line, "date"),
                provider=provider,
                model=row["model"],
                currency=currency,
                requests=_count(row.get("requests", ""), line, "requests"),
                tokens=tokens,
                cost=_decimal(row["cost"], line, "cost"),
                api_key_id=row.get("api_key_id") or None,
                project_id=row.get("project_id") or None,
            )
        )
    return found


def _pick(row: Mapping[str, str], *names: str) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def gemini_model(sku: str) -> str | None:
    """The model a Cloud Billing SKU description names: "Gemini 2.5 Flash Input tokens" ->
    "gemini-2.5-flash"; None when it names none."""
    match = _MODEL.search(sku)
    if match is None:
        return None
    return re.sub(r"[\s-]+", "-", match.group(1).strip().lower())


def gemini_billing_rows(text: str, provider: str = "google") -> list[ProviderFigures]:
    """The Gemini rows of a Cloud Billing CSV export, per UTC day and model."""
    header, rows = _rows(text)
    names = {h.lower() for h in header}
    needed = {
        "service": ("service description", "service.description"),
        "sku": ("sku description", "sku.description"),
        "start": ("usage start date", "usage_start_time"),
        "cost": ("unrounded cost ($)", "cost ($)", "cost"),
    }
    missing = [alts[0] for alts in needed.values() if not any(a in names for a in alts)]
    if missing:
        raise ValidationError(f"not a Cloud Billing export: missing {', '.join(missing)}")
    costs: dict[tuple[date, str, str, str | None], Decimal] = {}
    counted: dict[tuple[date, str, str, str | None], TokenUsage] = {}
    for line, row in rows:
        service = _pick(row, *needed["service"]).lower()
        if not any(s in service for s in _GEMINI_SERVICES):
            continue
        sku = _pick(row, *needed["sku"])
        model = gemini_model(sku)
        if model is None:
            continue
        day = _date(_pick(row, *needed["start"]), line, "usage start date")
        cost = _decimal(_pick(row, *needed["cost"]) or "0", line, "cost")
        key = (
            day,
            model,
            (row.get("currency") or "USD").upper(),
            _pick(row, "project id", "project.id") or None,
        )
        costs[key] = EXACT.add(costs.get(key, Decimal(0)), cost)
        tokens = _sku_tokens(row, sku, line)
        if tokens is not None:
            counted[key] = counted[key] + tokens if key in counted else tokens
    return [
        ProviderFigures(
            day=day,
            provider=provider,
            model=model,
            currency=currency,
            cost=cost,
            tokens=counted.get((day, model, currency, project)),
            project_id=project,
        )
        for (day, model, currency, project), cost in sorted(
            costs.items(), key=lambda item: (item[0][0], item[0][1], item[0][3] or "")
        )
    ]


def _sku_tokens(row: Mapping[str, str], sku: str, line: int) -> TokenUsage | None:
    """The tokens of a row whose usage unit counts tokens, in the class its SKU names."""
    unit = _pick(row, "usage unit", "usage.unit").lower()
    amount = _pick(row, "usage amount", "usage.amount")
    if not amount or not ("token" in unit or unit == "count"):
        return None
    count = _count(amount, line, "usage amount") or 0
    lowered = sku.lower()
    if "output" in lowered or "thinking" in lowered:
        return TokenUsage(output_tokens=count)
    if "cach" in lowered:
        return TokenUsage(input_tokens=count, cached_input_tokens=count)
    return TokenUsage(input_tokens=count)
