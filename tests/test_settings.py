"""Every setting lives in config.py and is documented in the README (issue 15: about 16 keys
existed only as scattered ``.get(KEY, default)`` calls). Read from the source files."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import flask
import pytest

import config

ROOT = Path(__file__).resolve().parent.parent
# Set by Flask itself or by an extension's own defaults, not by this project.
FRAMEWORK = set(flask.Flask.default_config) | {
    "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "WTF_CSRF_ENABLED",
    "WTF_CSRF_TIME_LIMIT", "BABEL_DEFAULT_LOCALE", "BABEL_DEFAULT_TIMEZONE",
}


def _config_keys_read_in(package: Path) -> dict[str, str]:
    """Keys the code reads as ``<something>.config[...]``, ``.config.get(...)`` or ``cfg[...]``
    with a literal name, and where."""
    found = {}
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            key = None
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
                target = ast.unparse(node.value)
                if target.endswith("config") or target == "cfg":
                    key = node.slice.value
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get" and ast.unparse(node.func.value).endswith("config")
                    and node.args and isinstance(node.args[0], ast.Constant)):
                key = node.args[0].value
            if isinstance(key, str) and key.isupper():
                found[key] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_no_scattered_defaults():
    """Settings are read with ``config[KEY]``: the one default is in config.py."""
    offenders = []
    for path in (ROOT / "registry").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"config\.get\(\s*[\"'][A-Z_]+[\"']", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


def test_every_setting_the_code_reads_is_in_config():
    defined = {name for name in dir(config.Config) if name.isupper()}
    missing = {key: where for key, where in _config_keys_read_in(ROOT / "registry").items()
               if key not in defined | FRAMEWORK}
    assert missing == {}


def _environment_variables() -> set[str]:
    names = set()
    for path in [ROOT / "config.py", *(ROOT / "registry").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"(?:_int|_bool|os\.environ\.get)\(\s*\"([A-Z][A-Z0-9_]+)\"", text))
    return names


def test_every_environment_variable_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    variables = _environment_variables()
    assert "SECRET_KEY" in variables
    assert "MAIL_SEND_IMMEDIATELY" in variables
    assert sorted(variables - documented) == []


@pytest.mark.parametrize("name", ["MAX_OBSTACLES", "SMALL_NUMBER_THRESHOLD"])
def test_settings_are_used(name):
    """Defined settings are read somewhere (MAX_OBSTACLES was defined but 20 was hard-coded)."""
    assert name in _config_keys_read_in(ROOT / "registry")
