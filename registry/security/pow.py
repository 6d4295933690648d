"""A self-hosted, privacy-friendly proof-of-work challenge (ALTCHA-style; no third parties).

The server hands out a challenge: a random salt (with an expiry), and ``sha256(salt + n)`` for a
secret random number ``n <= maxnumber``, signed with HMAC. The browser (static/js/pow.js) tries
0, 1, 2, ... until it finds ``n`` and puts the base64 JSON solution in the form. Verifying costs
the server one hash and one HMAC; solving costs the client maxnumber/2 hashes on average.
A solution can be used once (remembered in the rate-limit storage until it expires).

Off by default (``POW_ENABLED``); the form works without JavaScript only when it is off.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from flask import Flask, current_app, jsonify

from registry.extensions import limiter

ALGORITHM = "SHA-256"
_used_fallback: dict[str, float] = {}


def _key() -> bytes:
    return ("pow:" + current_app.config["SECRET_KEY"]).encode()


def _sign(challenge: str) -> str:
    return hmac.new(_key(), challenge.encode(), hashlib.sha256).hexdigest()


def create_challenge(maxnumber: int | None = None, ttl: int | None = None) -> dict:
    maxnumber = maxnumber or int(current_app.config["POW_MAXNUMBER"])
    ttl = ttl or int(current_app.config["POW_TTL_SECONDS"])
    expires = int(time.time()) + ttl
    salt = f"{secrets.token_hex(12)}?expires={expires}"
    number = secrets.randbelow(maxnumber + 1)
    challenge = hashlib.sha256(f"{salt}{number}".encode()).hexdigest()
    return {"algorithm": ALGORITHM, "challenge": challenge, "maxnumber": maxnumber,
            "salt": salt, "signature": _sign(challenge)}


def solve(challenge: dict) -> str:
    """Solve a challenge the way the browser does (used by tests and scripts)."""
    for number in range(challenge["maxnumber"] + 1):
        digest = hashlib.sha256(f"{challenge['salt']}{number}".encode()).hexdigest()
        if digest == challenge["challenge"]:
            payload = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}
            payload["number"] = number
            return base64.b64encode(json.dumps(payload).encode()).decode()
    raise ValueError("no solution")


def _mark_used(challenge: str, expires: int) -> bool:
    """True the first time a challenge is used; False for a replay."""
    ttl = max(1, expires - int(time.time()))
    try:
        storage = limiter.storage
        return storage.incr(f"pow-used/{challenge}", ttl) == 1
    except Exception:  # limiter not initialised (disabled): in-process memory
        now = time.time()
        for key, until in list(_used_fallback.items()):
            if until < now:
                del _used_fallback[key]
        if challenge in _used_fallback:
            return False
        _used_fallback[challenge] = now + ttl
        return True


def verify_solution(encoded: str) -> bool:
    try:
        payload = json.loads(base64.b64decode(encoded, validate=True))
        salt, challenge = str(payload["salt"]), str(payload["challenge"])
        number, signature = int(payload["number"]), str(payload["signature"])
        if payload.get("algorithm") != ALGORITHM:
            return False
        expires = int(salt.rsplit("?expires=", 1)[1])
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return False
    if expires < time.time():
        return False
    if not hmac.compare_digest(_sign(challenge), signature):
        return False
    if hashlib.sha256(f"{salt}{number}".encode()).hexdigest() != challenge:
        return False
    return _mark_used(challenge, expires)


def init_app(app: Flask) -> None:
    def pow_challenge():
        response = jsonify(create_challenge())
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_url_rule("/beveiliging/pow-challenge", "pow_challenge", pow_challenge)
