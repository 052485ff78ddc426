"""The Python mirror of the web format, checked against the same cases as format.test.ts."""

from __future__ import annotations

from tests.e2e.figures import ratio, usd


def test_usd_matches_the_web_format() -> None:
    assert usd("1234567.125") == "$1,234,567.12"
    assert usd("0.000123456") == "$0.000123"
    assert usd("0.0000000042") == "$0.0000000042"
    assert usd("0.00000000425") == "$0.0000000042"
    assert usd("-25.5") == "-$25.50"
    assert usd("0") == "$0.00"
    assert ratio("0.230769") == "23.1%"
