"""Gemini's `models.list` and `models.get` through google-genai (docs/gemini.md): the models a
key may call here and its client's aliases, in Google's format, paged; refusals in Google's
error format; OpenAI's list and retrieve unchanged on /v1 for OpenAI clients."""

from __future__ import annotations

import httpx
import pytest
from google.genai import errors

from domain.usecases.aliases import AliasInput
from tests.api.conftest import Admin, Gateway, Sdks


async def test_the_sdk_lists_the_models_and_aliases_a_key_may_call(
    sdks: Sdks, admin: Admin
) -> None:
    allowed = ("demo/chat", "demo/embed", "google/gemini-2.5-flash")
    client_id, secret = await admin.client_with_key(allowed_models=allowed)
    await admin.container.aliases().set(AliasInput("support-bot", "demo/chat", client_id))
    await admin.container.aliases().set(AliasInput("not-mine", "openai/gpt-4o", client_id))
    gemini = sdks.gemini(secret)

    listed = {m.name: m for m in gemini.models.list(config={"page_size": 2})}  # every page

    assert set(listed) == {
        "models/demo/chat",
        "models/demo/embed",
        "models/gemini-2.5-flash",  # Google's by the bare name a Gemini app sends
        "models/support-bot",
    }  # the alias to a model the key may not call is not offered
    chat, embed = listed["models/support-bot"], listed["models/demo/embed"]
    assert chat.supported_actions == ["generateContent", "streamGenerateContent", "countTokens"]
    assert embed.supported_actions == ["embedContent", "batchEmbedContents"]
    assert chat.description == "Bizgraph alias of demo/chat"
    assert (chat.input_token_limit, chat.output_token_limit) == (32000, 4096)


async def test_the_sdk_gets_a_model_by_any_name_a_call_may_send(sdks: Sdks, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key()
    await admin.container.aliases().set(AliasInput("support-bot", "demo/chat", client_id))
    gemini = sdks.gemini(secret)

    by_alias = gemini.models.get(model="support-bot")
    by_id = gemini.models.get(model="demo/chat")
    google = gemini.models.get(model="gemini-2.5-flash")

    assert (by_alias.name, by_alias.description) == (
        "models/support-bot",
        "Bizgraph alias of demo/chat",
    )
    assert by_id.name == "models/demo/chat"
    assert (google.name, google.version) == ("models/gemini-2.5-flash", "gemini-2.5-flash")
    with pytest.raises(errors.ClientError) as unknown:
        gemini.models.get(model="no-such-model")
    assert unknown.value.code == 404
    assert unknown.value.status == "NOT_FOUND"


async def test_a_model_the_key_may_not_call_is_refused(sdks: Sdks, admin: Admin) -> None:
    _, secret = await admin.client_with_key(allowed_models=("demo/chat",))
    with pytest.raises(errors.ClientError) as refused:
        sdks.gemini(secret).models.get(model="gemini-2.5-flash")
    assert refused.value.code == 403


async def test_pages_and_bad_page_parameters(gateway: Gateway, admin: Admin) -> None:
    _, secret = await admin.client_with_key()
    headers = {"x-goog-api-key": secret}
    async with httpx.AsyncClient(base_url=gateway.url, headers=headers) as http:
        first = (await http.get("/v1beta/models", params={"pageSize": 3})).json()
        second = await http.get(
            "/v1beta/models", params={"pageSize": 3, "pageToken": first["nextPageToken"]}
        )
        everything = (await http.get("/v1beta/models", params={"pageSize": 1000})).json()
        bad = [
            await http.get("/v1beta/models", params={"pageSize": "many"}),
            await http.get("/v1beta/models", params={"pageSize": 0}),
            await http.get("/v1beta/models", params={"pageToken": "not a token!"}),
        ]
        v1 = (await http.get("/v1/models", params={"pageSize": 1000})).json()
        missing_key = await http.get("/v1beta/models", headers={"x-goog-api-key": ""})

    names = [m["name"] for m in everything["models"]]
    assert "nextPageToken" not in everything
    assert [m["name"] for m in first["models"]] == names[:3]
    assert [m["name"] for m in second.json()["models"]] == names[3:6]
    assert [m["name"] for m in v1["models"]] == names  # /v1 with Google's key: Gemini's list
    for answer in bad:
        assert answer.status_code == 400
        assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert missing_key.status_code == 401


async def test_openai_clients_keep_openais_list_and_get_retrieve(sdks: Sdks, admin: Admin) -> None:
    client_id, secret = await admin.client_with_key(allowed_models=("demo/chat",))
    await admin.container.aliases().set(AliasInput("support-bot", "demo/chat", client_id))
    openai_client = sdks.openai(secret)

    listed = [m.id for m in openai_client.models.list()]
    retrieved = openai_client.models.retrieve("support-bot")

    assert listed == ["demo/chat", "support-bot"]
    assert (retrieved.id, retrieved.owned_by) == ("support-bot", "demo")
