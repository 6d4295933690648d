"""Normalisers for Dutch addresses, institution codes and other user input."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_POSTCODE = re.compile(r"([1-9][0-9]{3})\s*([A-Za-z]{2})")
_CREBO = re.compile(r"[0-9]{5}")
_WS = re.compile(r"[ \t\r\f\v]+")


def strip_filter(value):
    """Strip surrounding whitespace and collapse runs of spaces (keeps newlines)."""
    if isinstance(value, str):
        lines = [_WS.sub(" ", line).strip() for line in value.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip()
    return value


def normalise_brin(value):
    return value.upper().replace(" ", "") if isinstance(value, str) else value


def normalise_postcode(value: str | None) -> str | None:
    """'1234ab' -> '1234 AB'; None when it is not a Dutch postcode."""
    if not value:
        return None
    match = _POSTCODE.fullmatch(value.strip())
    if not match:
        return None
    return f"{match.group(1)} {match.group(2).upper()}"


def normalise_qualification_codes(value: str | None) -> str:
    """'25180, 25181 ;25182' -> '25180, 25181, 25182'; ValueError lists what is not a code."""
    if not value:
        return ""
    parts = [p for p in re.split(r"[\s,;]+", value) if p]
    bad = [p for p in parts if not _CREBO.fullmatch(p)]
    if bad:
        raise ValueError(", ".join(bad[:5]))
    seen: list[str] = []
    for part in parts:
        if part not in seen:
            seen.append(part)
    return ", ".join(seen)


def normalise_website(value: str | None) -> str | None:
    """Add https:// when missing; only http(s) URLs with a dotted host are accepted."""
    if not value:
        return ""
    candidate = value.strip()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", candidate):
        if ":" in candidate.split("/")[0]:  # e.g. javascript:alert(1)
            return None
        candidate = "https://" + candidate
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in {"http", "https"}:
        return None
    host = parts.hostname or ""
    if "." not in host or not re.fullmatch(r"[A-Za-z0-9.-]+", host) or any(
        c.isspace() for c in candidate
    ):
        return None
    return candidate
