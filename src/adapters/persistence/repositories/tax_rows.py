"""Rows of the tax tables, and the JSON snapshot of billing details an invoice keeps."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import RowMapping

from domain.invoicing.billing_details import (
    AgencyProfile,
    ClientBillingDetails,
    IssuedDetails,
    PostalAddress,
)
from domain.invoicing.tax import TaxTreatment


def address_row(address: PostalAddress) -> dict[str, Any]:
    return {
        "address_lines": "\n".join(address.lines),
        "city": address.city,
        "postal_code": address.postal_code,
        "region": address.region,
        "country": address.country,
    }


def address_of(row: RowMapping | dict[str, Any]) -> PostalAddress:
    lines = row["address_lines"]
    return PostalAddress(
        lines=tuple(lines.split("\n")) if lines else (),
        city=row["city"],
        postal_code=row["postal_code"],
        region=row["region"],
        country=row["country"],
    )


def client_details_row(details: ClientBillingDetails) -> dict[str, Any]:
    return {
        "client_id": details.client_id,
        "legal_name": details.legal_name,
        **address_row(details.address),
        "tax_id": details.tax_id,
        "po_reference": details.po_reference,
        "updated_at": details.updated_at,
    }


def client_details_of(row: RowMapping | dict[str, Any]) -> ClientBillingDetails:
    return ClientBillingDetails(
        client_id=row["client_id"],
        legal_name=row["legal_name"],
        address=address_of(row),
        tax_id=row["tax_id"],
        po_reference=row["po_reference"],
        updated_at=row.get("updated_at"),
    )


def agency_row(profile: AgencyProfile) -> dict[str, Any]:
    return {
        "legal_name": profile.legal_name,
        **address_row(profile.address),
        "tax_id": profile.tax_id,
        "bank_details": profile.bank_details,
        "payment_terms_days": profile.payment_terms_days,
        "payment_terms_text": profile.payment_terms_text,
        "updated_at": profile.updated_at,
    }


def agency_of(row: RowMapping | dict[str, Any]) -> AgencyProfile:
    return AgencyProfile(
        legal_name=row["legal_name"],
        address=address_of(row),
        tax_id=row["tax_id"],
        bank_details=row["bank_details"],
        payment_terms_days=row["payment_terms_days"],
        payment_terms_text=row["payment_terms_text"],
        updated_at=row.get("updated_at"),
    )


def _json(values: dict[str, Any]) -> str:
    values = {k: v for k, v in values.items() if k != "updated_at"}
    return json.dumps(values, sort_keys=True, ensure_ascii=False)


def issued_row(invoice_id: str, issued: IssuedDetails) -> dict[str, Any]:
    client = _json(client_details_row(issued.client)) if issued.client else None
    agency = _json(agency_row(issued.agency)) if issued.agency else None
    return {
        "invoice_id": invoice_id,
        "treatment": issued.treatment.value,
        "note": issued.note,
        "client_details": client,
        "agency_details": agency,
    }


def issued_of(row: RowMapping) -> IssuedDetails:
    client, agency = row["client_details"], row["agency_details"]
    return IssuedDetails(
        treatment=TaxTreatment(row["treatment"]),
        note=row["note"],
        client=client_details_of(json.loads(client)) if client else None,
        agency=agency_of(json.loads(agency)) if agency else None,
    )
