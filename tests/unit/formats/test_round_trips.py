"""Round trips through src/formats: a chat request translated into a provider's format and back
keeps its meaning, and every table maps every value it names (so the two directions of a pair
cannot drift apart). The Responses API has no chat -> Responses request direction, so it has no
request round trip; its finish reasons are checked against chat's."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from formats.anthropic import tables as anthropic
from formats.anthropic.from_chat import openai_to_anthropic_request
from formats.anthropic.to_chat import anthropic_to_openai_request
from formats.chat import FINISH_REASONS, parse_data_url
from formats.gemini import tables as gemini
from formats.gemini.from_chat import chat_request_to_gemini
from formats.gemini.to_chat import gemini_to_openai_request
from formats.responses.answers import INCOMPLETE_REASONS

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30)
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
NUMBER = st.floats(min_value=0, max_value=2, allow_nan=False) | st.integers(0, 2)


@st.composite
def chat_requests(draw: st.DrawFn) -> dict[str, Any]:
    """A chat request both Anthropic and Gemini can express: alternating user and assistant
    text turns (user first and last), optional system text, sampling options, function tools
    and a tool choice."""
    turns = draw(st.integers(0, 3)) * 2 + 1
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(TEXT)})
    for i in range(turns):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": draw(TEXT)})
    body: dict[str, Any] = {"model": "m", "messages": messages}
    body["max_completion_tokens"] = draw(st.integers(1, 100_000))
    for key in ("temperature", "top_p"):
        if draw(st.booleans()):
            body[key] = draw(NUMBER)
    if draw(st.booleans()):
        body["stop"] = draw(st.lists(TEXT, min_size=1, max_size=3))
    names = draw(st.lists(NAME, min_size=0, max_size=3, unique=True))
    if names:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": name,
                    "parameters": {"type": "object", "properties": {"x": {"type": "string"}}},
                    "description": draw(TEXT),
                },
            }
            for name in names
        ]
        body["tool_choice"] = draw(
            st.sampled_from(["auto", "required", "none"])
            | st.sampled_from(names).map(lambda n: {"type": "function", "function": {"name": n}})
        )
    return body


def _meaning(body: dict[str, Any], max_key: str) -> dict[str, Any]:
    """What a chat request asks for, in the fields both translations carry."""
    keep = ("messages", "temperature", "top_p", "stop", "tools", "tool_choice")
    out = {k: body[k] for k in keep if k in body}
    out["max"] = body[max_key]
    return out


@given(chat_requests())
def test_a_chat_request_through_anthropic_and_back_keeps_its_meaning(body: dict[str, Any]) -> None:
    anthropic_body = openai_to_anthropic_request(body, "claude")
    back = anthropic_to_openai_request({**anthropic_body, "model": "m"})
    assert _meaning(back, "max_completion_tokens") == _meaning(body, "max_completion_tokens")


PENALTIES = st.dictionaries(
    st.sampled_from(["presence_penalty", "frequency_penalty"]),
    st.floats(min_value=-2, max_value=2, allow_nan=False),
)


@given(chat_requests(), PENALTIES)
def test_a_chat_request_through_gemini_and_back_keeps_its_meaning(
    body: dict[str, Any], penalties: dict[str, float]
) -> None:
    body = {**body, **penalties}
    back = gemini_to_openai_request(chat_request_to_gemini(body), "m", stream=False)
    assert _meaning(back, "max_tokens") == _meaning(body, "max_completion_tokens")
    assert {k: back[k] for k in penalties} == penalties


# ------------------------------------------------------------------------- tables


def test_every_anthropic_stop_reason_maps_to_a_chat_finish_reason_and_back() -> None:
    for reason in anthropic.ANTHROPIC_STOP_REASONS:
        assert anthropic.finish_reason(reason) in FINISH_REASONS
    for reason in FINISH_REASONS:
        assert anthropic.stop_reason(reason) in anthropic.ANTHROPIC_STOP_REASONS
    for stop, finish in anthropic.STOP_REASONS:
        assert anthropic.finish_reason(stop) == finish
        assert anthropic.stop_reason(finish) == stop


def test_every_gemini_finish_reason_maps_to_a_chat_finish_reason_and_back() -> None:
    for reason in gemini.GEMINI_FINISH_REASONS:
        assert gemini.finish_reason(reason, has_tool_calls=False) in FINISH_REASONS
    for reason in FINISH_REASONS:
        assert gemini.gemini_finish_reason(reason) in gemini.GEMINI_FINISH_REASONS
    for theirs, ours in gemini.FINISH_REASONS:
        assert gemini.finish_reason(theirs, has_tool_calls=False) == ours
        assert gemini.gemini_finish_reason(ours) == theirs


def test_every_chat_finish_reason_has_a_responses_status() -> None:
    assert set(INCOMPLETE_REASONS) <= set(FINISH_REASONS)


def test_every_tool_choice_maps_both_ways() -> None:
    for theirs, ours in anthropic.TOOL_CHOICES:
        assert anthropic.CHAT_TOOL_CHOICE[theirs] == ours
        assert anthropic.ANTHROPIC_TOOL_CHOICE[ours] == theirs
    for mode, ours in gemini.TOOL_MODES:
        assert gemini.CHAT_TOOL_CHOICE[mode] == ours
        assert gemini.GEMINI_TOOL_MODE[ours] == mode
    assert set(gemini.CHAT_TOOL_CHOICE.values()) <= set(gemini.GEMINI_TOOL_MODE)


def test_every_audio_format_maps_both_ways() -> None:
    for fmt, mime in gemini.AUDIO_FORMATS:
        assert gemini.AUDIO_MIME[fmt] == mime
        assert gemini.AUDIO_FORMAT[mime] == fmt
    assert set(gemini.AUDIO_FORMAT.values()) <= set(gemini.AUDIO_MIME)


BASE64 = st.from_regex(r"[A-Za-z0-9+/]{4,40}={0,2}", fullmatch=True)


@given(st.sampled_from(anthropic.IMAGE_TYPES), BASE64)
def test_every_inline_image_source_maps_both_ways(media_type: str, data: str) -> None:
    source = {"type": "base64", "media_type": media_type, "data": data}
    url = anthropic.image_url(source)
    assert anthropic.image_source(url) == source
    parsed = parse_data_url(url)
    assert parsed is not None
    assert (parsed.media_type, parsed.base64, parsed.data) == (media_type, True, data)


@given(st.from_regex(r"https://[a-z]{1,10}\.example/[a-z]{1,10}\.png", fullmatch=True))
def test_every_image_url_source_maps_both_ways(url: str) -> None:
    source = {"type": "url", "url": url}
    assert anthropic.image_source(anthropic.image_url(source)) == source


@given(st.lists(st.sampled_from(["text", "image", "tool_result"]), min_size=1, max_size=4))
def test_every_anthropic_user_content_kind_maps_to_chat(kinds: list[str]) -> None:
    blocks: list[dict[str, Any]] = []
    for i, kind in enumerate(kinds):
        if kind == "text":
            blocks.append({"type": "text", "text": f"t{i}"})
        elif kind == "image":
            source = {"type": "base64", "media_type": "image/png", "data": "AAAA"}
            blocks.append({"type": "image", "source": source})
        else:
            blocks.append({"type": "tool_result", "tool_use_id": f"c{i}", "content": f"r{i}"})
    messages = [
        {"role": "assistant", "content": [{"type": "tool_use", "id": f"c{i}", "name": "f"}]}
        for i, kind in enumerate(kinds)
        if kind == "tool_result"
    ]
    chat = anthropic_to_openai_request(
        {"model": "m", "messages": [*messages, {"role": "user", "content": blocks}]}
    )
    results = [m for m in chat["messages"] if m["role"] == "tool"]
    assert len(results) == kinds.count("tool_result")
    rest = [b for b in blocks if b["type"] != "tool_result"]
    # and back: the chat request reads as Anthropic blocks of the same kinds, in order
    again = openai_to_anthropic_request(chat, "claude")
    user = again["messages"][-1]["content"]
    user_blocks = [{"type": "text", "text": user}] if isinstance(user, str) else user
    assert [b["type"] for b in user_blocks if b["type"] != "tool_result"] == [
        b["type"] for b in rest
    ]
    assert [b["tool_use_id"] for b in user_blocks if b["type"] == "tool_result"] == [
        b["tool_use_id"] for b in blocks if b["type"] == "tool_result"
    ]
