"""OpenAI Responses API <-> OpenAI chat: requests, answers and streams."""
