"""The bundled, dated default catalog (default_catalog.json), read into domain objects."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from domain.catalog.models import Model, ModelKind, PriceVersion


def load_default_catalog() -> tuple[list[Model], list[PriceVersion]]:
    text = resources.files("adapters").joinpath("default_catalog.json").read_text("utf-8")
    data = json.loads(text, parse_float=Decimal)
    since = datetime.fromisoformat(data["effective_from"])
    models = [_model(row) for row in data["models"]]
    prices = [_price(row, since) for row in data["models"]]
    return models, prices


def _model(row: dict[str, Any]) -> Model:
    provider = row["id"].partition("/")[0]
    return Model(
        id=row["id"],
        provider=provider,
        upstream_name=row["upstream"],
        kind=ModelKind(row["kind"]),
        max_output_tokens=int(row["max_output"]),
        context_window=int(row["context"]),
    )


def _price(row: dict[str, Any], since: datetime) -> PriceVersion:
    return PriceVersion(
        model_id=row["id"],
        effective_from=since,
        input=Decimal(row["input"]),
        output=Decimal(row["output"]),
        cached_input=Decimal(row["cached_input"]) if "cached_input" in row else None,
        cache_write=Decimal(row["cache_write"]) if "cache_write" in row else None,
        reasoning=Decimal(row["reasoning"]) if "reasoning" in row else None,
        id=f"default:{row['id']}:{since.date().isoformat()}",
    )
