"""OpenAI's rate-limit headers: `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, resets
written as OpenAI does ("1s", "6m0s", "120ms")."""

from __future__ import annotations

from domain.metering.ratelimits import Admission, Window

RATE_HEADERS = "rate_limit_headers"  # where a route leaves them in the request state


def rate_limit_headers(admission: Admission) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, found in (("requests", admission.requests), ("tokens", admission.tokens)):
        if found is not None:
            headers.update(_trio(name, found))
    return headers


def _trio(name: str, window: Window) -> dict[str, str]:
    return {
        f"x-ratelimit-limit-{name}": str(window.limit),
        f"x-ratelimit-remaining-{name}": str(window.remaining),
        f"x-ratelimit-reset-{name}": duration(window.reset_seconds),
    }


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text
