"""A worker leaves the objects of its start-up out of garbage collection (issue 20).

CPython's full collections walk every tracked object; a worker holds some 160,000 from
start-up (modules, classes, the app), and the export of all obstacles at 100,000 entries
spent ~40% of its time in those walks. ``create_app`` freezes them (``gc.freeze``) once per
process when ``GC_FREEZE`` is on (not in the testing configuration: a test run builds many
apps). Each case runs in a fresh interpreter: freezing is process-wide.
"""
from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import gc
from registry import create_app
counts = []
for _ in range({apps}):
    create_app({config!r}, SQLALCHEMY_DATABASE_URI="sqlite://")
    counts.append(gc.get_freeze_count())
print(*counts)
"""


def _frozen_after_create_app(config: str, apps: int = 1, **env: str) -> list[int]:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE.format(config=config, apps=apps)],
        capture_output=True, text=True, timeout=120, check=True, env={**os.environ, **env})
    return [int(n) for n in done.stdout.split()]


def test_a_serving_app_freezes_what_it_built_at_start_up_once():
    first, second = _frozen_after_create_app("development", apps=2)
    assert first > 50_000
    # a second app in the same process freezes nothing more (frozen objects freed since
    # leave the permanent generation)
    assert second <= first


def test_a_test_app_and_the_setting_switched_off_freeze_nothing():
    assert _frozen_after_create_app("testing") == [0]
    assert _frozen_after_create_app("development", GC_FREEZE="false") == [0]
