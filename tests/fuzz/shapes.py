"""Hypothesis strategies for the bodies each route takes, valid and then mutated: any node of a
valid body replaced by a value of a wrong type or size, or by a value nested up to 300 levels
deep (past the 64-level bound, which must answer 400). Bodies stay under 100 KB (the body-size
limit is checked on its own)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

# Scalars of every JSON type, the awkward ones included (NUL, huge numbers, empty strings).
SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "\x00", "x" * 5000, "user", "assistant", "text", "image", "tool_use"]),
)


def _nested(depth: int) -> Any:
    """Arrays and objects in turn, `depth` levels around a string."""
    value: Any = "x"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
) | st.integers(min_value=1, max_value=300).map(_nested)

TEXT = st.text(max_size=40)
CHAT_MESSAGE = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user"]), "content": TEXT}),
    st.fixed_dictionaries(
        {
            "role": st.just("user"),
            "content": st.lists(
                st.one_of(
                    st.fixed_dictionaries({"type": st.just("text"), "text": TEXT}),
                    st.fixed_dictionaries(
                        {
                            "type": st.just("image_url"),
                            "image_url": st.fixed_dictionaries(
                                {"url": st.just("https://example.com/a.png")}
                            ),
                        }
                    ),
                ),
                min_size=1,
                max_size=3,
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "role": st.just("assistant"),
            "content": st.none() | TEXT,
            "tool_calls": st.just(
                [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
            ),
        }
    ),
    st.fixed_dictionaries(
        {"role": st.just("tool"), "tool_call_id": st.just("c1"), "content": TEXT}
    ),
)
TOOL = {"type": "function", "function": {"name": "f", "description": "d", "parameters": {}}}


def chat_body(model: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"model": model, "messages": st.lists(CHAT_MESSAGE, min_size=1, max_size=4)},
        optional={
            "max_tokens": st.integers(1, 50),
            "temperature": st.floats(0, 2),
            "top_p": st.floats(0, 1),
            "stop": st.one_of(TEXT, st.lists(TEXT, max_size=2)),
            "n": st.just(1),
            "user": TEXT,
            "tools": st.just([TOOL]),
            "tool_choice": st.sampled_from(["auto", "none", "required"]),
            "parallel_tool_calls": st.booleans(),
            "seed": st.integers(0, 100),
            "response_format": st.just({"type": "json_object"}),
            "stream": st.booleans(),
        },
    )


def embeddings_body(model: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "model": model,
            "input": st.one_of(TEXT.filter(bool), st.lists(TEXT, min_size=1, max_size=3)),
        },
        optional={
            "encoding_format": st.sampled_from(["float", "base64"]),
            "dimensions": st.integers(1, 64),
            "user": TEXT,
        },
    )


ANTHROPIC_BLOCK = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": TEXT}),
    st.just({"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}),
    st.just(
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}
    ),
)
ANTHROPIC_TURNS = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {
                "role": st.just("user"),
                "content": st.one_of(TEXT, st.lists(ANTHROPIC_BLOCK, min_size=1, max_size=2)),
            }
        ),
        min_size=1,
        max_size=2,
    ),
    st.just(
        [
            {"role": "user", "content": "hi"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "calling"},
                    {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
            },
        ]
    ),
)


def messages_body(model: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"model": model, "max_tokens": st.integers(1, 50), "messages": ANTHROPIC_TURNS},
        optional={
            "system": st.one_of(TEXT, st.just([{"type": "text", "text": "be brief"}])),
            "temperature": st.floats(0, 1),
            "top_p": st.floats(0, 1),
            "top_k": st.integers(1, 10),
            "stop_sequences": st.lists(TEXT, max_size=2),
            "metadata": st.just({"user_id": "u1"}),
            "tools": st.just([{"name": "f", "description": "d", "input_schema": {}}]),
            "tool_choice": st.sampled_from(
                [{"type": "auto"}, {"type": "any"}, {"type": "tool", "name": "f"}]
            ),
            "stream": st.booleans(),
        },
    )


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


@st.composite
def mutated(
    draw: st.DrawFn,
    valid: st.SearchStrategy[dict[str, Any]],
    keep: tuple[str, ...] = (),
    fields: tuple[str, ...] = (),
) -> Any:
    """A valid body with one to three nodes replaced by a value of another type, or one of the
    route's top-level `fields` set to one (so every field a translation reads gets its turn).
    Keys in `keep` (the model, say) are left as they were at the top."""
    body: Any = copy.deepcopy(draw(valid))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(body) if p and p[0] not in keep]
        if fields and (not paths or draw(st.booleans())):
            body[draw(st.sampled_from(fields))] = draw(JSON_VALUES)
            continue
        if not paths:
            return draw(JSON_VALUES)
        path = draw(st.sampled_from(paths))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = draw(JSON_VALUES)
    return body


CHAT_FIELDS = (
    "messages",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "n",
    "user",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "seed",
    "response_format",
    "stream",
    "stream_options",
    "presence_penalty",
    "frequency_penalty",
)
EMBEDDING_FIELDS = ("input", "encoding_format", "dimensions", "user")
MESSAGES_FIELDS = (
    "messages",
    "max_tokens",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "metadata",
    "tools",
    "tool_choice",
    "stream",
    "thinking",
)

RESPONSES_TOOL = {"type": "function", "name": "f", "description": "d", "parameters": {}}
RESPONSES_ITEMS = st.one_of(
    TEXT.filter(bool),
    st.lists(
        st.fixed_dictionaries(
            {
                "role": st.sampled_from(["user", "system", "developer"]),
                "content": st.one_of(
                    TEXT,
                    st.lists(
                        st.one_of(
                            st.fixed_dictionaries({"type": st.just("input_text"), "text": TEXT}),
                            st.just(
                                {"type": "input_image", "image_url": "https://example.com/a.png"}
                            ),
                        ),
                        min_size=1,
                        max_size=2,
                    ),
                ),
            }
        ),
        min_size=1,
        max_size=2,
    ),
    st.just(
        [
            {"role": "user", "content": "hi"},
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a":1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "ok"},
        ]
    ),
)


def responses_body(model: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"model": model, "input": RESPONSES_ITEMS},
        optional={
            "instructions": TEXT,
            "max_output_tokens": st.integers(1, 50),
            "temperature": st.floats(0, 2),
            "top_p": st.floats(0, 1),
            "user": TEXT,
            "tools": st.just([RESPONSES_TOOL]),
            "tool_choice": st.sampled_from(["auto", "none", "required"]),
            "parallel_tool_calls": st.booleans(),
            "store": st.booleans(),
            "metadata": st.just({"k": "v"}),
            "text": st.just({"format": {"type": "json_object"}}),
            "stream": st.booleans(),
        },
    )


RESPONSES_FIELDS = (
    "input",
    "instructions",
    "max_output_tokens",
    "temperature",
    "top_p",
    "user",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "store",
    "metadata",
    "text",
    "stream",
    "previous_response_id",
    "background",
    "reasoning",
)

GEMINI_PART = st.one_of(
    TEXT.map(lambda t: {"text": t}),
    st.just({"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}),
    st.just({"functionCall": {"name": "f", "args": {"a": 1}}}),
    st.just({"functionResponse": {"name": "f", "response": {"r": "x"}}}),
)
GEMINI_CONTENTS = st.lists(
    st.fixed_dictionaries(
        {"parts": st.lists(GEMINI_PART, min_size=1, max_size=3)},
        optional={"role": st.sampled_from(["user", "model"])},
    ),
    min_size=1,
    max_size=3,
)


def gemini_body() -> st.SearchStrategy[dict[str, Any]]:
    """A generateContent body (the model is in the URL)."""
    return st.fixed_dictionaries(
        {"contents": GEMINI_CONTENTS},
        optional={
            "systemInstruction": TEXT.map(lambda t: {"parts": [{"text": t}]}),
            "generationConfig": st.fixed_dictionaries(
                {},
                optional={
                    "maxOutputTokens": st.integers(1, 50),
                    "temperature": st.floats(0, 1),
                    "topP": st.floats(0, 1),
                    "candidateCount": st.integers(1, 2),
                    "stopSequences": st.lists(TEXT, max_size=2),
                },
            ),
            "tools": st.just(
                [{"functionDeclarations": [{"name": "f", "parameters": {"type": "OBJECT"}}]}]
            ),
            "toolConfig": st.just({"functionCallingConfig": {"mode": "AUTO"}}),
        },
    )


def gemini_embed_body() -> st.SearchStrategy[dict[str, Any]]:
    """A batchEmbedContents body."""
    request = st.fixed_dictionaries(
        {"content": TEXT.map(lambda t: {"parts": [{"text": t or "."}]})},
        optional={"outputDimensionality": st.integers(1, 8)},
    )
    return st.fixed_dictionaries({"requests": st.lists(request, min_size=1, max_size=3)})


GEMINI_FIELDS = ("contents", "systemInstruction", "generationConfig", "tools", "toolConfig")
GEMINI_EMBED_FIELDS = ("requests",)
