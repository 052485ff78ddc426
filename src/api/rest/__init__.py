"""The REST model-call API (OpenAI-compatible routes and Anthropic's /v1/messages)."""
