"""`bizgraph tax ...` (rates, a client's treatment and billing details, the agency profile) and
`bizgraph export invoices|ledger` (docs/tax.md), registered by api.cli.main."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli.running import CliError, run
from api.container import Container
from domain.invoicing.billing_details import AgencyProfile, ClientBillingDetails, PostalAddress
from domain.invoicing.tax import TaxTreatment
from domain.usecases.accounting import ExportFile, Journal
from domain.usecases.tax import ClientTax

tax_app = typer.Typer(help="Tax rates, treatments, billing details.", no_args_is_help=True)
export_app = typer.Typer(help="Accounting exports (docs/tax.md).", no_args_is_help=True)

Line = Annotated[list[str] | None, typer.Option("--line", help="An address line (repeat).")]
City = Annotated[str, typer.Option(help="City.")]
Postal = Annotated[str, typer.Option(help="Postal code.")]
Region = Annotated[str, typer.Option(help="Region, state or province.")]
Country = Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country code.")]
TaxId = Annotated[str | None, typer.Option(help="VAT number or other tax id.")]


class ExportFormat(StrEnum):
    CSV = "csv"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CliError(f"not a date (YYYY-MM-DD): {text[:40]!r}") from error


@tax_app.command("rates")
def rates(country: Annotated[str | None, typer.Option(help="One country.")] = None) -> None:
    """The tax rates table: country, region, percent, effective from."""
    for rate in run(lambda c: c.tax().rates(country)):
        region = rate.region or "-"
        typer.echo(f"{rate.country}\t{region}\t{rate.percent}\t{rate.effective_from}")


@tax_app.command("set-rate")
def set_rate(
    country: str,
    percent: str,
    effective_from: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    region: Annotated[str, typer.Option(help="A region's own rate.")] = "",
) -> None:
    """Add (or replace) the rate of a country, or of one of its regions, from a day on."""
    day = _day(effective_from)
    rate = run(lambda c: c.tax().set_rate(country, region, percent, day))
    typer.echo(f"{rate.country}\t{rate.region or '-'}\t{rate.percent}\t{rate.effective_from}")


@tax_app.command("remove-rate")
def remove_rate(
    country: str,
    effective_from: Annotated[str, typer.Option("--from", help="Its first day.")],
    region: Annotated[str, typer.Option(help="The region, if regional.")] = "",
) -> None:
    """Remove one rate of the table."""
    day = _day(effective_from)
    if not run(lambda c: c.tax().remove_rate(country, region, day)):
        raise CliError("no such rate")
    typer.echo("removed")


def _print_client(view: ClientTax) -> None:
    typer.echo(f"treatment\t{view.treatment}")
    if view.treatment is TaxTreatment.CUSTOM:
        typer.echo(f"custom rate\t{view.custom_rate}%")
    if view.exempt_reason:
        typer.echo(f"exempt reason\t{view.exempt_reason}")
    d = view.details
    if d is not None:
        typer.echo(f"legal name\t{d.legal_name}")
        for line in d.address.printed():
            typer.echo(f"address\t{line}")
        typer.echo(f"tax id\t{d.tax_id or '-'}")
        typer.echo(f"purchase order\t{d.po_reference or '-'}")


@tax_app.command("show")
def show(client_id: str) -> None:
    """A client's tax treatment and billing details."""
    _print_client(run(lambda c: c.tax().client_tax(client_id)))


@tax_app.command("treatment")
def treatment(
    client_id: str,
    treatment: TaxTreatment,
    reason: Annotated[str | None, typer.Option(help="Exemption reason (exempt).")] = None,
) -> None:
    """Set a client's tax treatment: custom, standard, reverse_charge or exempt."""
    _print_client(run(lambda c: c.tax().set_treatment(client_id, treatment, reason)))


@tax_app.command("details")
def details(
    client_id: str,
    legal_name: Annotated[str, typer.Option(help="The client's legal name.")],
    line: Line = None,
    city: City = "",
    postal_code: Postal = "",
    region: Region = "",
    country: Country = "",
    tax_id: TaxId = None,
    po: Annotated[str | None, typer.Option(help="Purchase-order reference.")] = None,
) -> None:
    """Replace a client's billing details (printed on its next invoices)."""
    address = PostalAddress(tuple(line or ()), city, postal_code, region, country)
    given = ClientBillingDetails(client_id, legal_name, address, tax_id, po)
    _print_client(run(lambda c: c.tax().set_billing_details(given)))


@tax_app.command("agency")
def agency(
    legal_name: Annotated[str | None, typer.Option(help="Set: the agency's legal name.")] = None,
    line: Line = None,
    city: City = "",
    postal_code: Postal = "",
    region: Region = "",
    country: Country = "",
    tax_id: TaxId = None,
    bank: Annotated[str, typer.Option(help="IBAN/BIC or free text.")] = "",
    terms_days: Annotated[int | None, typer.Option(help="Days to the due date.")] = None,
    terms_text: Annotated[str, typer.Option(help="Payment terms printed.")] = "",
) -> None:
    """Show the agency profile, or replace it when --legal-name is given."""
    if legal_name is None:
        found = run(lambda c: c.tax().agency())
        if found is None:
            typer.echo("no agency profile: invoices use BIZGRAPH_AGENCY_NAME and _ADDRESS")
            return
        profile = found
    else:
        address = PostalAddress(tuple(line or ()), city, postal_code, region, country)
        given = AgencyProfile(legal_name, address, tax_id, bank, terms_days, terms_text)
        profile = run(lambda c: c.tax().set_agency(given))
    typer.echo(f"legal name\t{profile.legal_name}")
    for text in profile.address.printed():
        typer.echo(f"address\t{text}")
    typer.echo(f"tax id\t{profile.tax_id or '-'}")
    typer.echo(f"bank\t{profile.bank_details or '-'}")
    days = "settings" if profile.payment_terms_days is None else profile.payment_terms_days
    typer.echo(f"terms\t{days} days; {profile.payment_terms_text or '-'}")


def _export(journal: Journal, period: str, output: Path | None) -> None:
    async def work(c: Container) -> ExportFile:
        return await c.accounting().csv(journal, period)

    made = run(work)
    if not made.balanced:  # by construction never; a refusal beats a wrong file
        raise CliError("the journal does not balance: nothing written")
    if output is None:
        typer.echo(made.text, nl=False)
    else:
        output.write_text(made.text, encoding="utf-8")
    typer.secho(f"{made.entries} entries, balanced", err=True)


Period = Annotated[str, typer.Option(help="The month, YYYY-MM.")]
Format = Annotated[ExportFormat, typer.Option("--format", help="The file layout.")]
Output = Annotated[Path | None, typer.Option(help="Write to a file (default: stdout).")]


@export_app.command("invoices")
def export_invoices(period: Period, fmt: Format = ExportFormat.CSV, output: Output = None) -> None:
    """The month's invoices as a sales journal CSV (date, journal, reference, account, ...)."""
    _export(Journal.INVOICES, period, output)


@export_app.command("ledger")
def export_ledger(period: Period, fmt: Format = ExportFormat.CSV, output: Output = None) -> None:
    """The month's ledger entries as a journal CSV, each entry balanced."""
    _export(Journal.LEDGER, period, output)
