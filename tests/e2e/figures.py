"""What the web apps should show for an API amount (en-US, USD), so browser tests compare the
page with the API's own figures. Mirrors web/src/shared/format.ts."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
SMALL = Decimal("0.000001")


def usd(amount: str) -> str:
    value = Decimal(amount)
    if value != 0 and abs(value) < CENT:
        shown = value.quantize(SMALL, rounding=ROUND_HALF_EVEN)
        if shown == 0:  # below a millionth: two significant digits
            exponent = value.adjusted() - 1
            shown = value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN)
        exponent = shown.normalize().as_tuple().exponent
        places = max(2, -exponent if isinstance(exponent, int) else 2)
    else:
        shown = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
        places = 2
    sign = "-" if shown < 0 else ""
    return f"{sign}${abs(shown):,.{places}f}"


def ratio(value: str | None) -> str:
    if value is None:
        return "n/a"
    percent = (Decimal(value) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return f"{percent}%"
