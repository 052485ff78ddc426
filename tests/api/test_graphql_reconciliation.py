"""The reconciliation queries over HTTP: staff (a viewer included) read them; a portal token
is refused them; bad days are visible errors naming the argument."""

from __future__ import annotations

from tests.api.conftest import Gateway
from tests.api.graphql_support import create_client, owner, staff

TABLE = """query($from: String!, $to: String!) {
  reconciliation(from: $from, to: $to) { start end driftPercentThreshold rows { day } }
}"""
MARKS = "{ reconciledThrough { provider day } }"


def test_staff_read_it_and_portal_tokens_are_refused(gateway: Gateway) -> None:
    viewer = staff(gateway, "VIEWER")
    client_id = create_client(owner(gateway), "Portal Co", {"percentageMargin": {"percent": "10"}})
    created = owner(gateway).data(
        """mutation($id: ID!) { createPortalToken(clientId: $id) {
             ... on CreatePortalTokenSuccess { secret } } }""",
        id=client_id,
    )["createPortalToken"]
    portal = owner(gateway).as_token(created["secret"])

    table = viewer.data(TABLE, **{"from": "2026-11-01", "to": "2026-11-30"})["reconciliation"]
    marks = viewer.data(MARKS)["reconciledThrough"]
    refused = portal.run(TABLE, **{"from": "2026-11-01", "to": "2026-11-30"})
    refused_marks = portal.run(MARKS)

    assert (table["start"], table["end"], table["rows"]) == ("2026-11-01", "2026-11-30", [])
    assert table["driftPercentThreshold"] == "1"
    assert marks == []
    assert refused["data"] is None
    assert "staff" in refused["errors"][0]["message"]
    assert "staff" in refused_marks["errors"][0]["message"]


def test_bad_days_are_visible_errors(gateway: Gateway) -> None:
    gql = owner(gateway)
    for start, end, named in (
        ("2026-11-31", "2026-12-01", "from"),
        ("2026-11-01", "soon", "to"),
        ("2026-12-05", "2026-12-01", "empty"),
        ("2020-01-01", "2026-12-01", "at most"),
    ):
        answer = gql.run(TABLE, **{"from": start, "to": end})
        assert answer["data"] is None
        assert named in answer["errors"][0]["message"], answer
