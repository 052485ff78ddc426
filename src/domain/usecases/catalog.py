"""Use cases for the model catalog and its versioned prices."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

from domain.catalog.models import Model, PriceHistory, PriceVersion
from domain.errors import UnknownModel, ValidationError
from domain.ids import new_id
from domain.ports import UnitOfWorkFactory
from domain.usecases.clients import check_currency


class CatalogUseCases:
    def __init__(self, uow: UnitOfWorkFactory, currencies: Collection[str] | None = None) -> None:
        self._uow = uow
        self._currencies = currencies  # the price currencies accepted (None: any)

    async def save_model(self, model: Model) -> Model:
        async with self._uow() as uow:
            await uow.catalog.save_model(model)
            await uow.commit()
        return model

    async def set_fallbacks(self, model_id: str, fallbacks: Sequence[str]) -> Model:
        """The models tried, in order, when this one fails before answering (5xx, timeout,
        connection failure). Each must exist and differ from the model itself."""
        async with self._uow() as uow:
            model = await uow.catalog.get_model(model_id)
            if model is None:
                raise UnknownModel(f"unknown model {model_id}")
            for fallback in fallbacks:
                if fallback == model_id or await uow.catalog.get_model(fallback) is None:
                    raise ValidationError(f"{fallback!r} cannot be a fallback of {model_id}")
            model = replace(model, fallbacks=tuple(dict.fromkeys(fallbacks)))
            await uow.catalog.save_model(model)
            await uow.commit()
        return model

    async def add_price(
        self, version: PriceVersion, new_model: Model | None = None
    ) -> PriceVersion:
        """A new price version from its `effective_from`; calls keep the version in force when
        they started. `new_model` is added first, in the same transaction, when its id is not
        in the catalog yet (a model never exists without a price)."""
        check_currency(version.currency, self._currencies, "a price")
        if not version.id:
            version = _with_id(version)
        async with self._uow() as uow:
            if await uow.catalog.get_model(version.model_id) is None:
                if new_model is None or new_model.id != version.model_id:
                    raise UnknownModel(f"unknown model {version.model_id}")
                await uow.catalog.save_model(new_model)
            await uow.catalog.add_price(version)
            await uow.commit()
        return version

    async def seed(self, models: Sequence[Model], prices: Sequence[PriceVersion]) -> int:
        """Add the models and price versions that are missing; never overwrite the operator's
        own settings or prices. Returns how many rows were added."""
        added = 0
        async with self._uow() as uow:
            for model in models:
                if await uow.catalog.get_model(model.id) is None:
                    await uow.catalog.save_model(model)
                    added += 1
            for version in prices:
                history = await uow.catalog.prices(version.model_id)
                if all(v.effective_from != version.effective_from for v in history.versions):
                    await uow.catalog.add_price(version if version.id else _with_id(version))
                    added += 1
            await uow.commit()
        return added

    async def get_model(self, model_id: str) -> Model | None:
        async with self._uow() as uow:
            return await uow.catalog.get_model(model_id)

    async def models(self) -> Sequence[Model]:
        async with self._uow() as uow:
            return await uow.catalog.models()

    async def prices(self, model_id: str) -> PriceHistory:
        async with self._uow() as uow:
            return await uow.catalog.prices(model_id)


def _with_id(version: PriceVersion) -> PriceVersion:
    return replace(version, id=new_id())
