"""Model aliases: a name a client app already uses (`gpt-4o`, `claude-sonnet-4-5`,
`my-support-bot`) mapped to a catalog model, for one client or for every client (agency-wide).

Resolution of the model a call names (`resolve`), first match wins:
1. a catalog id (`provider/model`) as given: an alias never contains '/', so it cannot shadow one;
2. the calling client's own alias of that name;
3. the agency-wide alias of that name;
4. on Gemini's routes, Google's model of that bare name (`gemini-2.5-flash`);
5. a bare model name that only one catalog model has (`gpt-4o-mini`).
An alias may therefore take a bare model name (`gpt-4o` sent to another provider's model): that
is what lets a client app move between providers with no code change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.errors import ValidationError
from domain.timeutil import require_aware

MAX_ALIAS_LENGTH = 128
# Letters, digits, '.', '_', '-', starting with a letter or digit: no '/' (catalog ids have one)
# and no ':' (Gemini's routes put the model before ':generateContent').
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_alias_name(name: str) -> str:
    """`name` if it can be an alias, else a ValidationError saying why."""
    if not name:
        raise ValidationError("an alias needs a name")
    if len(name) > MAX_ALIAS_LENGTH:
        raise ValidationError(f"an alias has at most {MAX_ALIAS_LENGTH} characters")
    if "/" in name:
        raise ValidationError(
            f"an alias cannot contain '/': {name!r} would read as a catalog id (provider/model)"
        )
    if _NAME.fullmatch(name) is None:
        raise ValidationError(
            f"an alias is letters, digits, '.', '_' and '-', starting with a letter or digit: "
            f"not {name!r}"
        )
    return name


@dataclass(frozen=True, slots=True)
class ModelAlias:
    """`name` calls the catalog model `model_id`; for the client `client_id`, or for every
    client when it is None (a client's own alias of the same name wins over that one)."""

    name: str
    model_id: str
    client_id: str | None
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        check_alias_name(self.name)
        if "/" not in self.model_id:
            raise ValidationError(
                f"an alias targets a catalog id (provider/model), not {self.model_id!r}"
            )
        require_aware(self.created_at, "created_at")
        require_aware(self.updated_at, "updated_at")

    @property
    def key(self) -> AliasKey:
        return (self.client_id, self.name)


AliasKey = tuple[str | None, str]  # (client id or None for agency-wide, name)


@dataclass(frozen=True, slots=True)
class AliasTable:
    """Every alias by (client id or None, name): what the cached configuration keeps."""

    targets: Mapping[AliasKey, str]

    @classmethod
    def of(cls, aliases: Iterable[ModelAlias]) -> AliasTable:
        return cls({alias.key: alias.model_id for alias in aliases})

    def target(self, client_id: str, name: str) -> str | None:
        """The model the client's alias `name` calls: its own alias first, then the agency's."""
        own = self.targets.get((client_id, name))
        return own if own is not None else self.targets.get((None, name))

    def names_for(self, client_id: str) -> dict[str, str]:
        """Every alias the client may call, with its target (its own over the agency's)."""
        found = {name: model for (owner, name), model in self.targets.items() if owner is None}
        found.update(
            {name: model for (owner, name), model in self.targets.items() if owner == client_id}
        )
        return found


@dataclass(frozen=True, slots=True)
class Resolution:
    """The catalog model a call names, and the alias it went through (None: none)."""

    model_id: str
    alias: str | None = None


def resolve(
    requested: str,
    client_id: str,
    model_ids: Iterable[str],
    aliases: AliasTable,
    default_provider: str | None = None,
) -> Resolution | None:
    """The catalog model `requested` names for this client (the order in the module's
    docstring), or None when it names none."""
    ids = set(model_ids)
    if requested in ids:
        return Resolution(requested)
    target = aliases.target(client_id, requested)
    if target is not None:
        return Resolution(target, requested) if target in ids else None
    if default_provider is not None and f"{default_provider}/{requested}" in ids:
        return Resolution(f"{default_provider}/{requested}")
    matches = [model_id for model_id in ids if model_id.partition("/")[2] == requested]
    return Resolution(matches[0]) if len(matches) == 1 else None
