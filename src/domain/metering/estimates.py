"""Token estimates, used only when a provider reported no usage (product.md: flagged, and an
estimate never exceeds max_tokens). Roughly four characters per token, as tokenizers average
on English text."""

from __future__ import annotations

from domain.metering.tokens import TokenUsage

CHARS_PER_TOKEN = 4


def tokens_in(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN) if chars > 0 else 0


def estimate_usage(
    prompt_chars: int,
    output_chars: int,
    max_output_tokens: int,
    max_input_tokens: int | None = None,
) -> TokenUsage:
    """`max_input_tokens` (the hold's prompt bound) keeps an estimate inside the hold."""
    input_tokens = tokens_in(prompt_chars)
    if max_input_tokens is not None:
        input_tokens = min(input_tokens, max_input_tokens)
    return TokenUsage(
        input_tokens=input_tokens,
        output_tokens=min(tokens_in(output_chars), max_output_tokens),
    )
