"""A worker leaves the objects of its start-up out of garbage collection (issue 20).

CPython's full collections walk every tracked object; a worker holds some 160,000 from
start-up (modules, classes, the app), and the export of all obstacles at 100,000 entries
spent ~40% of its time in those walks. ``create_app`` freezes them (``gc.freeze``), except in
a test run, which builds many apps. Each case runs in a fresh interpreter: freezing is
process-wide.
"""
from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from registry import create_app
create_app({config!r}, SQLALCHEMY_DATABASE_URI="sqlite://")
print(gc.get_freeze_count())
"""


def _frozen_after_create_app(config: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE.format(config=config)],  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=True)
    return int(done.stdout.split()[-1])


def test_a_serving_app_freezes_what_it_built_at_start_up():
    assert _frozen_after_create_app("development") > 50_000


def test_a_test_app_freezes_nothing():
    assert _frozen_after_create_app("testing") == 0
