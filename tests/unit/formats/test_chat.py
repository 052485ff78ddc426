"""What the translations share of OpenAI's chat format (src/formats/chat.py), and the JSON codec
a provider may inject so its wire bytes stay its own."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.chat import compact_json, data_url, parse_data_url, parse_json
from formats.gemini.answers import chat_response_to_openai
from formats.gemini.from_chat import chat_request_to_gemini
from formats.gemini.streams import GeminiToOpenAIStream

MEDIA = st.from_regex(r"[a-z]{1,8}/[a-z0-9.+-]{1,12}", fullmatch=True)
DATA = st.from_regex(r"[A-Za-z0-9+/]{0,40}={0,2}", fullmatch=True)


@given(MEDIA, DATA)
def test_a_data_url_reads_back_as_what_it_was_made_of(media_type: str, data: str) -> None:
    parsed = parse_data_url(data_url(media_type, data))
    assert parsed is not None
    assert (parsed.media_type, parsed.params, parsed.data) == (media_type, ("base64",), data)


@pytest.mark.parametrize("url", ["https://x.example/a.png", "data:image/png;base64", "data:"])
def test_what_is_no_data_url_reads_as_none(url: str) -> None:
    assert parse_data_url(url) is None


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', '{"a": -Infinity}', "{"])
def test_strict_json_refuses_what_json_forbids(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        parse_json(text)


def test_compact_json_has_no_spaces_and_keeps_non_ascii() -> None:
    assert compact_json({"a": [1, "é"]}) == '{"a":[1,"é"]}'


GEMINI_ANSWER = {
    "candidates": [
        {
            "content": {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {}}}]},
            "finishReason": "STOP",
        }
    ]
}


def test_the_gemini_answers_encode_tool_arguments_with_the_encoder_given() -> None:
    def encode(value: object) -> str:
        return "<" + compact_json(value) + ">"

    body = chat_response_to_openai(GEMINI_ANSWER, "m", created=1, dumps=encode)
    assert body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == "<{}>"
    stream = GeminiToOpenAIStream("m", created=1, dumps=encode)
    calls = [c for chunk in stream.feed(GEMINI_ANSWER) for c in chunk["choices"]]
    assert calls[1]["delta"]["tool_calls"][0]["function"]["arguments"] == "<{}>"


def test_the_gemini_request_decodes_tool_arguments_with_the_decoder_given() -> None:
    seen: list[str] = []

    def decode(text: str) -> object:
        seen.append(text)
        return json.loads(text)

    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}}
    body = {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": '{"ok":true}'},
        ]
    }
    request = chat_request_to_gemini(body, loads=decode)
    assert seen == ['{"x":1}', '{"ok":true}']
    assert request["contents"][1]["parts"][0]["functionCall"]["args"] == {"x": 1}
    assert request["contents"][2]["parts"][0]["functionResponse"]["response"] == {"ok": True}
