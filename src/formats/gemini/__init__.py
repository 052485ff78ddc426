"""Gemini's native API <-> OpenAI chat: requests (`to_chat`, `from_chat`), their shape checks,
answers and streams; the mapping tables of both directions in `tables`."""
