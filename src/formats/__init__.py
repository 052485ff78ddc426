"""The wire formats the gateway speaks and their translations, as pure functions.

One module per pair of formats, used by the routes (a client's format in, OpenAI chat to the
providers) and by the provider adapters (OpenAI chat out, an upstream's format back) alike, so
each mapping table is defined once: `anthropic/` (Messages <-> chat), `gemini/`
(generateContent <-> chat) and `responses/` (Responses API <-> chat); `chat.py` holds what all
of them share of OpenAI's chat format. Standard library and `domain` only (docs/architecture.md,
"Wire formats").
"""
