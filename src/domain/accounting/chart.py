"""The chart of accounts the exports post to: codes by role, overridable per model.

Configured as `role=code` pairs separated by commas (BIZGRAPH_ACCOUNT_CODES), e.g.
"receivables=1400,usage=8400,tax=1776,model:openai/gpt-4o=8401"; roles not given keep the
defaults below (a generic numbering most tools accept; map them to your own chart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from domain.errors import ValidationError

ROLES = MappingProxyType(
    {
        "receivables": "1200",  # what clients owe (debited by invoices, credited by payments)
        "bank": "1000",  # where payments arrive
        "usage": "4000",  # revenue from usage (per model when overridden)
        "fixed_fee": "4010",  # revenue from monthly fees
        "fixed_price": "4020",  # revenue from fixed-price deals
        "credits": "4090",  # account credits and credit notes (contra revenue)
        "tax": "2200",  # tax payable
    }
)
MAX_CODE = 20


def _check_code(code: str, what: str) -> str:
    text = code.strip()
    if not text or len(text) > MAX_CODE or not all(c.isascii() and c.isprintable() for c in text):
        raise ValidationError(f"account code for {what} is 1 to {MAX_CODE} printable characters")
    if "," in text or "=" in text:
        raise ValidationError(f"account code for {what} cannot contain ',' or '='")
    return text


@dataclass(frozen=True, slots=True)
class ChartOfAccounts:
    receivables: str = ROLES["receivables"]
    bank: str = ROLES["bank"]
    usage: str = ROLES["usage"]
    fixed_fee: str = ROLES["fixed_fee"]
    fixed_price: str = ROLES["fixed_price"]
    credits: str = ROLES["credits"]
    tax: str = ROLES["tax"]
    models: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def usage_account(self, model_id: str | None) -> str:
        return self.models.get(model_id or "", self.usage)


def parse_chart(text: str) -> ChartOfAccounts:
    """`role=code,...` (and `model:<id>=code`) over the defaults; a clear error otherwise."""
    codes = dict(ROLES)
    models: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        role, sep, code = part.partition("=")
        role = role.strip()
        if not sep:
            raise ValidationError(f"account codes are role=code pairs, not {part[:40]!r}")
        if role.startswith("model:") and len(role) > len("model:"):
            models[role[len("model:") :]] = _check_code(code, role)
        elif role in ROLES:
            codes[role] = _check_code(code, role)
        else:
            known = ", ".join(sorted(ROLES))
            raise ValidationError(
                f"unknown account role {role[:40]!r} (one of {known}, model:<id>)"
            )
    return ChartOfAccounts(
        receivables=codes["receivables"],
        bank=codes["bank"],
        usage=codes["usage"],
        fixed_fee=codes["fixed_fee"],
        fixed_price=codes["fixed_price"],
        credits=codes["credits"],
        tax=codes["tax"],
        models=MappingProxyType(models),
    )
