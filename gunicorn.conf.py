"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py 'registry:create_app()'``.

Options on the command line override the ones here (``--workers 8``, ``--bind ...``).

Private links carry a secret in their path or query string: old manage links
(``/beheren/<token>``; new ones keep the token in the URL fragment, which is never sent),
confirmation links (``/bevestigen/<token>``), set-password links (``/wachtwoord/<token>``) and
the links of relayed messages and subscriptions (``/contact/...``, ``/volgen/...``). Whoever
reads an access log must not be able to use them, so ``RedactingLogger`` replaces such a
path segment, and the value of any query parameter that looks like a secret, with
``[redacted]`` in every access-log field (request line, path, query, referrer, any header or
environ atom) and in gunicorn's error log. The same rule for nginx: docs/deployment.md.
"""
from __future__ import annotations

import logging
import os
import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
SLASH = r"(?:/|%2[Ff])"
# Path prefixes whose next segment is a secret, and the fixed words after them that are not.
SECRET_PREFIXES = ("beheren", "bevestigen", "wachtwoord", "contact/antwoord",
                   "contact/afmelden", "contact/aanmelden", "volgen/bevestigen",
                   "volgen/afmelden")
NOT_SECRET = ("nieuwe-link", "openen", "sluiten", "gewist", "bewerken", "intrekken",
              "gegevens-wissen", "mijn-gegevens.json", "knelpunten")
_PREFIX = "|".join(p.replace("/", SLASH + "+") for p in SECRET_PREFIXES)
_KEEP = "|".join(re.escape(w) for w in NOT_SECRET)
SECRET_SEGMENT = re.compile(
    rf"(?P<head>{SLASH}+(?:{_PREFIX}){SLASH}+)(?!(?:{_KEEP})(?:[/?#&\s\"]|%2[Ff]|$))"
    r"[^/?#&\s\"%]+(?:%(?!2[Ff])[0-9A-Fa-f]{2}[^/?#&\s\"%]*)*", re.IGNORECASE)
# Query parameters (also inside an encoded ``next=``) whose value is a secret.
SECRET_PARAM = re.compile(
    r"(?P<head>(?:^|[?&;]|%3[Ff]|%26)[A-Za-z_.-]*(?:token|code|key|secret|password|signature)"
    r"[A-Za-z_.-]*(?:=|%3[Dd]))(?P<value>[^&;\s\"#%]+(?:%(?!26|3[Dd])[0-9A-Fa-f]{2}"
    r"[^&;\s\"#%]*)*)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` (a request line, path, query string, URL...) without secrets."""
    if not text:
        return text
    text = SECRET_SEGMENT.sub(lambda m: m.group("head") + REDACTED, text)
    return SECRET_PARAM.sub(lambda m: m.group("head") + REDACTED, text)


class RedactingFilter(logging.Filter):
    """Redacts the formatted message of every record (error log, application log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingLogger(Logger):
    """gunicorn's logger with every access-log atom and error-log message redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in atoms.items()}

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(RedactingFilter())


def post_worker_init(worker):
    """The app's own log (Flask logs "Exception on <path>") goes through the root logger."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())


logger_class = RedactingLogger
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")  # stdout; a file path, or "" for none
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
forwarded_allow_ips = "127.0.0.1"
control_socket_disable = True
