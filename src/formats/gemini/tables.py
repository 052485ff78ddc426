"""The mapping tables of Gemini <-> OpenAI chat, each defined once and read in both directions:
finish reasons, tool-calling modes and audio formats."""

from __future__ import annotations

from typing import Any

# Gemini finishReason <-> OpenAI finish_reason, for the reasons both formats have.
FINISH_REASONS: tuple[tuple[str, str], ...] = (
    ("STOP", "stop"),
    ("MAX_TOKENS", "length"),
    ("SAFETY", "content_filter"),
)
# Reasons one side only has, and the nearest of the other side. Gemini's blocks all read as
# OpenAI's content_filter; OpenAI's tool-call reasons are a plain STOP for Gemini, whose
# answer then carries functionCall parts.
_GEMINI_ONLY = dict.fromkeys(
    (
        "RECITATION",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
    ),
    "content_filter",
)
_OPENAI_ONLY = {"tool_calls": "STOP", "function_call": "STOP"}

CHAT_FINISH = {**dict(FINISH_REASONS), **_GEMINI_ONLY}
GEMINI_FINISH = {**{chat: gemini for gemini, chat in FINISH_REASONS}, **_OPENAI_ONLY}
GEMINI_FINISH_REASONS = tuple(CHAT_FINISH)

# Gemini functionCallingConfig.mode <-> OpenAI's string tool_choice (a single allowed function
# name <-> a function object). VALIDATED (schema-checked AUTO) reads as auto.
TOOL_MODES: tuple[tuple[str, str], ...] = (("AUTO", "auto"), ("ANY", "required"), ("NONE", "none"))
CHAT_TOOL_CHOICE = {**dict(TOOL_MODES), "VALIDATED": "auto"}
GEMINI_TOOL_MODE = {chat: mode for mode, chat in TOOL_MODES}

# OpenAI sampling option <-> Gemini generationConfig field (numbers both; the seed, an integer
# for OpenAI, is checked apart).
SAMPLING: tuple[tuple[str, str], ...] = (
    ("temperature", "temperature"),
    ("top_p", "topP"),
    ("presence_penalty", "presencePenalty"),
    ("frequency_penalty", "frequencyPenalty"),
)

# OpenAI input_audio format <-> Gemini inlineData mime type (audio/mpeg is mp3 too).
AUDIO_FORMATS: tuple[tuple[str, str], ...] = (("wav", "audio/wav"), ("mp3", "audio/mp3"))
AUDIO_MIME = dict(AUDIO_FORMATS)
AUDIO_FORMAT = {**{mime: fmt for fmt, mime in AUDIO_FORMATS}, "audio/mpeg": "mp3"}


def finish_reason(reason: Any, has_tool_calls: bool) -> str:
    """A Gemini finishReason as OpenAI's (`tool_calls` when a normal stop carried calls)."""
    mapped = CHAT_FINISH.get(reason, "stop") if isinstance(reason, str) else "stop"
    return "tool_calls" if has_tool_calls and mapped == "stop" else mapped


def gemini_finish_reason(reason: Any) -> str:
    """An OpenAI finish_reason as Gemini's (`STOP` for none or an unknown one)."""
    return GEMINI_FINISH.get(reason, "STOP")
