"""Anthropic Messages <-> OpenAI chat: requests (`to_chat`, `from_chat`), answers, streams; the
mapping tables of both directions in `tables`."""
