"""Billing details an invoice needs (docs/tax.md): the client's legal name, postal address,
tax id and purchase-order reference; the agency's legal name, address, tax id, bank details
and payment terms. Finalizing snapshots both onto the invoice (`IssuedDetails`), so editing
them later never changes an issued invoice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import ValidationError
from domain.invoicing.tax import TaxTreatment, check_country
from domain.text import check_text

MAX_ADDRESS_LINES = 4
MAX_PAYMENT_DAYS = 365
_TAX_ID_EXTRA = frozenset(" -./")


def _line(value: str, what: str, max_length: int = 200) -> str:
    return check_text(value.strip(), what, max_length=max_length)


def check_tax_id(value: str) -> str:
    """A VAT number or other tax id, checked loosely: 2 to 32 characters, letters, digits,
    spaces and - . / (formats differ too much by country to check more without a registry)."""
    text = value.strip()
    if not 2 <= len(text) <= 32:
        raise ValidationError("a tax id has 2 to 32 characters")
    if not all((c.isascii() and c.isalnum()) or c in _TAX_ID_EXTRA for c in text):
        raise ValidationError("a tax id has only letters, digits, spaces and - . /")
    return text


@dataclass(frozen=True, slots=True)
class PostalAddress:
    lines: tuple[str, ...] = ()
    city: str = ""
    postal_code: str = ""
    region: str = ""
    country: str = ""  # ISO 3166-1 alpha-2, "" when not given

    def __post_init__(self) -> None:
        lines = tuple(_line(line, "an address line") for line in self.lines if line.strip())
        if len(lines) > MAX_ADDRESS_LINES:
            raise ValidationError(f"an address has at most {MAX_ADDRESS_LINES} lines")
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "city", _line(self.city, "a city", 100))
        object.__setattr__(self, "postal_code", _line(self.postal_code, "a postal code", 20))
        object.__setattr__(self, "region", _line(self.region, "a region", 100))
        country = self.country.strip()
        object.__setattr__(self, "country", check_country(country) if country else "")

    def printed(self) -> tuple[str, ...]:
        """The address as printed, one line each (empty parts left out)."""
        city = " ".join(part for part in (self.postal_code, self.city) if part)
        last = ", ".join(part for part in (city, self.region) if part)
        return tuple(part for part in (*self.lines, last, self.country) if part)


@dataclass(frozen=True, slots=True)
class ClientBillingDetails:
    client_id: str
    legal_name: str = ""
    address: PostalAddress = field(default_factory=PostalAddress)
    tax_id: str | None = None
    po_reference: str | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "legal_name", _line(self.legal_name, "a legal name"))
        if self.tax_id is not None:
            object.__setattr__(
                self, "tax_id", check_tax_id(self.tax_id) if self.tax_id.strip() else None
            )
        if self.po_reference is not None:
            ref = _line(self.po_reference, "a purchase-order reference", 100)
            object.__setattr__(self, "po_reference", ref or None)


@dataclass(frozen=True, slots=True)
class AgencyProfile:
    """Who issues the invoices. Stored in the agency_profile table (owners edit it in the web
    app); without a row the BIZGRAPH_AGENCY_* settings give the name and address."""

    legal_name: str
    address: PostalAddress = field(default_factory=PostalAddress)
    tax_id: str | None = None
    bank_details: str = ""  # IBAN/BIC or free text, printed as given
    payment_terms_days: int | None = None  # None: BIZGRAPH_INVOICE_DUE_DAYS
    payment_terms_text: str = ""
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        name = _line(self.legal_name, "the agency's legal name")
        if not name:
            raise ValidationError("the agency needs a legal name")
        object.__setattr__(self, "legal_name", name)
        if self.tax_id is not None:
            object.__setattr__(
                self, "tax_id", check_tax_id(self.tax_id) if self.tax_id.strip() else None
            )
        bank = check_text(self.bank_details.strip(), "bank details", max_length=500, multiline=True)
        object.__setattr__(self, "bank_details", bank)
        terms = check_text(
            self.payment_terms_text.strip(), "payment terms", max_length=500, multiline=True
        )
        object.__setattr__(self, "payment_terms_text", terms)
        days = self.payment_terms_days
        if days is not None and (isinstance(days, bool) or not 0 <= days <= MAX_PAYMENT_DAYS):
            raise ValidationError(f"payment terms are 0 to {MAX_PAYMENT_DAYS} days")


@dataclass(frozen=True, slots=True)
class IssuedDetails:
    """What finalizing an invoice froze besides its amounts: the tax treatment and its printed
    note, and both parties' billing details as they were then."""

    treatment: TaxTreatment
    note: str | None = None
    client: ClientBillingDetails | None = None
    agency: AgencyProfile | None = None
