"""Nothing lost: a gunicorn worker is SIGKILLed during a burst of submissions.

Every submission that got a 2xx/3xx answer is stored; nothing is half stored.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import csrf_token_from
from tests.factories import form_post

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.fixture
def server(tmp_path):
    db_file = tmp_path / "kill.db"
    url = f"sqlite:///{db_file}"
    env = dict(os.environ, TEST_DATABASE_URL=url, REGISTRY_CONFIG="testing")
    setup = (
        "from registry import create_app\n"
        "from registry.extensions import db\n"
        "from registry.taxonomy.services import ensure_taxonomies\n"
        "app = create_app('testing')\n"
        "with app.app_context():\n"
        "    db.create_all(); ensure_taxonomies(); db.session.commit()\n"
    )
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=ROOT, check=True)
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "--no-control-socket", "--workers", "2", "--threads", "1",
         "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "1", "--log-level", "warning",
         "registry:create_app('testing')"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(base + "/aanmelden", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])
    yield SimpleServer(base, proc.pid, url)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stderr.close()


class SimpleServer:
    def __init__(self, base: str, pid: int, url: str):
        self.base, self.pid, self.url = base, pid, url


def test_killing_a_worker_mid_burst_loses_nothing(server):
    answered: dict[str, int] = {}
    failed: list[str] = []
    started = threading.Event()
    done_count = [0]
    lock = threading.Lock()

    def submit(n: int) -> None:
        title = f"Burst {n}"
        try:
            with requests.Session() as s:
                page = s.get(server.base + "/aanmelden", timeout=20)
                data = dict(form_post(obstacles=3, title=title),
                            csrf_token=csrf_token_from(page.text))
                started.set()
                r = s.post(server.base + "/aanmelden", data=data, allow_redirects=False,
                           timeout=20)
            with lock:
                answered[title] = r.status_code
                done_count[0] += 1
        except requests.RequestException:
            with lock:
                failed.append(title)

    killed = []

    def killer() -> None:
        started.wait(20)
        while done_count[0] < 5:
            time.sleep(0.005)
        workers = _children(server.pid)
        if workers:
            os.kill(workers[0], signal.SIGKILL)  # a worker of the gunicorn this test started
            killed.append(workers[0])

    kill_thread = threading.Thread(target=killer)
    kill_thread.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(submit, range(30)))
    kill_thread.join()

    assert killed, "no worker was killed"
    ok = {t for t, status in answered.items() if 200 <= status < 400}
    assert all(status in (302, 500, 502, 503) or status < 400 for status in answered.values()), \
        answered
    assert len(ok) >= 12

    engine = create_engine(server.url)
    with engine.connect() as conn:
        titles = {row[0] for row in conn.execute(text("SELECT title FROM initiative"))}
        assert ok <= titles, ok - titles  # every acknowledged submission is stored
        partial = conn.execute(text(
            "SELECT i.id FROM initiative i "
            "LEFT JOIN organisation o ON o.id = i.organisation_id "
            "LEFT JOIN contact c ON c.initiative_id = i.id "
            "WHERE o.id IS NULL OR c.id IS NULL "
            "OR (SELECT count(*) FROM obstacle ob WHERE ob.initiative_id = i.id) != 3 "
            "OR (SELECT count(*) FROM initiative_dimension d WHERE d.initiative_id = i.id) = 0"
        )).all()
        assert partial == []
        orphans = conn.execute(text(
            "SELECT count(*) FROM organisation o WHERE NOT EXISTS "
            "(SELECT 1 FROM initiative i WHERE i.organisation_id = o.id)")).scalar()
        assert orphans == 0
    engine.dispose()
