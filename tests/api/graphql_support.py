"""A tiny GraphQL-over-HTTP client for API tests: POST JSON with a bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.api.conftest import ADMIN_TOKEN, Gateway


@dataclass
class Gql:
    url: str
    token: str | None

    def post(self, query: str, **variables: Any) -> httpx.Response:
        headers = {} if self.token is None else {"authorization": f"Bearer {self.token}"}
        body = {"query": query, "variables": variables}
        return httpx.post(self.url, json=body, headers=headers, timeout=30)

    def run(self, query: str, **variables: Any) -> dict[str, Any]:
        """The whole answer ({"data": ..., "errors": ...}); HTTP must be 200."""
        response = self.post(query, **variables)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The data of an answer that must carry no error."""
        answer = self.run(query, **variables)
        assert "errors" not in answer, answer["errors"]
        data: dict[str, Any] = answer["data"]
        return data

    def as_token(self, token: str | None) -> Gql:
        return Gql(self.url, token)


def owner(gateway: Gateway) -> Gql:
    return Gql(gateway.url + "/graphql", ADMIN_TOKEN)


def staff(gateway: Gateway, role: str) -> Gql:
    """A new staff token of that role, created by the bootstrap owner over GraphQL."""
    created = owner(gateway).data(
        """mutation($input: CreateStaffTokenInput!) {
             createStaffToken(input: $input) {
               __typename
               ... on CreateStaffTokenSuccess { secret staffToken { id role prefix } }
             }
           }""",
        input={"name": f"test {role}", "role": role},
    )["createStaffToken"]
    assert created["__typename"] == "CreateStaffTokenSuccess"
    assert created["staffToken"]["role"] == role
    return owner(gateway).as_token(created["secret"])


CREATE_CLIENT = """
mutation($input: CreateClientInput!) {
  createClient(input: $input) {
    __typename
    ... on ClientSuccess { client { id name currency status } }
    ... on ValidationError { message code }
  }
}"""

ISSUE_KEY = """
mutation($clientId: ID!, $input: IssueApiKeyInput!) {
  issueApiKey(clientId: $clientId, input: $input) {
    __typename
    ... on IssueApiKeySuccess { secret apiKey { id prefix name clientId } }
    ... on ValidationError { message }
    ... on NotFoundError { message }
  }
}"""


def create_client(gql: Gql, name: str, pricing: dict[str, Any], **extra: Any) -> str:
    result = gql.data(CREATE_CLIENT, input={"name": name, "pricing": pricing, **extra})
    created = result["createClient"]
    assert created["__typename"] == "ClientSuccess", created
    client_id: str = created["client"]["id"]
    return client_id


def issue_key(gql: Gql, client_id: str, name: str = "test") -> str:
    issued = gql.data(ISSUE_KEY, clientId=client_id, input={"name": name})["issueApiKey"]
    assert issued["__typename"] == "IssueApiKeySuccess", issued
    assert issued["secret"].startswith(issued["apiKey"]["prefix"])
    secret: str = issued["secret"]
    return secret
