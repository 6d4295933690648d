"""The framework ceiling: a minimal Flask app returning a fixed JSON body.

Served by bench.run under exactly the same gunicorn settings as the registry
(``gunicorn 'bench.ceiling_app:create_app()'``), so the ratio shows how much of Flask +
gunicorn's own throughput a real page keeps.
"""
from __future__ import annotations

from flask import Flask, jsonify

BODY = {"status": "ok", "items": [{"id": i, "title": f"Initiatief {i}"} for i in range(10)]}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        return jsonify(BODY)

    return app
