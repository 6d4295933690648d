"""Nothing lost: a gunicorn worker is SIGKILLed in the middle of storing a submission.

How the kill is timed: gunicorn runs the app with a test-only config file (written below) whose
``post_worker_init`` hook adds two listeners to the worker's own database engine. One notes
the title when a transaction inserts an initiative; the other runs at that transaction's
COMMIT, just before the driver commits. Once the test has *armed* the hook (a file, created
after ARM_AFTER submissions were acknowledged), the first worker to reach such a COMMIT claims
the hook (an O_EXCL file, so only one worker ever does), writes its pid and the title, and
sleeps. The test waits for that file and SIGKILLs the pid. So the kill always lands while a
submission's rows (initiative, organisation, contact, obstacles, dimensions, history, outbox
mail) are written but not committed, with other submissions in flight on the other worker -
no sleeps or luck involved. Nothing in the app itself knows about the test.

Mail: the SMTP server is down until the kill, so the confirmation mail of every submission
acknowledged before it fails after the response and stays queued (with
MAIL_RETRY_BASE_SECONDS=0, due again at once); after the kill SMTP is back and mail goes out
right after each response. ``send-mail`` afterwards must deliver the rest.

Then, with plain SQL: every submission acknowledged with a 302 is stored with all its
obstacles, the killed one is not stored at all, nothing is half stored, and every acknowledged
submission's confirmation mail reached the SMTP server exactly once.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import csrf_token_from
from tests.factories import form_post
from tests.fixtures.mail import SmtpServer

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = 24
ARM_AFTER = 6  # acknowledged submissions before the hook is armed
OBSTACLES = 3

GUNICORN_CONF = '''
import json, os, time
from sqlalchemy import event

HOOKS = os.environ["KILL_TEST_DIR"]


def post_worker_init(worker):
    from registry.extensions import db

    with worker.wsgi.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def note_title(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO INITIATIVE "):
            for value in parameters or ():
                if isinstance(value, str) and value.startswith("Burst "):
                    conn.info["burst_title"] = value

    @event.listens_for(engine, "rollback")
    def forget_title(conn):
        conn.info.pop("burst_title", None)

    @event.listens_for(engine, "commit")
    def pause_before_commit(conn):
        title = conn.info.pop("burst_title", None)
        if title is None or not os.path.exists(os.path.join(HOOKS, "armed")):
            return
        try:
            os.close(os.open(os.path.join(HOOKS, "claimed"), os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return  # another worker is (or was) the victim
        with open(os.path.join(HOOKS, "in-flight.tmp"), "w") as out:
            json.dump({"pid": os.getpid(), "title": title}, out)
        os.rename(os.path.join(HOOKS, "in-flight.tmp"), os.path.join(HOOKS, "in-flight.json"))
        time.sleep(60)  # SIGKILLed long before this ends
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Server:
    def __init__(self, base: str, proc: subprocess.Popen, url: str, hooks: Path,
                 smtp: SmtpServer, settings: dict):
        self.base, self.proc, self.url, self.hooks = base, proc, url, hooks
        self.smtp, self.settings = smtp, settings

    def stop(self) -> None:
        """Graceful stop: workers finish their request, including the mail after it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    conf = tmp_path / "gunicorn_conf.py"
    conf.write_text(GUNICORN_CONF)
    env = dict(os.environ, TEST_DATABASE_URL=url, REGISTRY_CONFIG="testing",
               KILL_TEST_DIR=str(hooks))
    setup = (  # the schema and the seeded taxonomies, as a deployment gets them
        "from flask_migrate import upgrade\n"
        "from registry import create_app\n"
        "app = create_app('testing')\n"
        "with app.app_context():\n"
        "    upgrade()\n"
    )
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=ROOT, check=True)
    smtp = SmtpServer()  # not started: SMTP is down until the kill
    settings = dict(SQLALCHEMY_DATABASE_URI=url, MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1",
                    MAIL_PORT=smtp.port, MAIL_TIMEOUT=5, MAIL_RETRY_BASE_SECONDS=0)
    spec = "registry:create_app('testing', {})".format(
        ", ".join(f"{k}={v!r}" for k, v in settings.items()))
    port = _free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "--no-control-socket", "--workers", "2", "--threads", "1",
         "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "1", "--log-level", "warning",
         "-c", str(conf), spec],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(base + "/aanmelden", timeout=10).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start: " + proc.stderr.read().decode()[-2000:])
    srv = Server(base, proc, url, hooks, smtp, settings)
    yield srv
    srv.stop()
    proc.stderr.close()
    smtp.down()


def test_killing_a_worker_mid_write_loses_nothing(server):
    answered: dict[str, int] = {}
    failed: list[str] = []
    lock = threading.Lock()
    armed = server.hooks / "armed"

    def submit(n: int) -> None:
        title = f"Burst {n}"
        data = form_post(obstacles=OBSTACLES, title=title,
                         **{"contact-email": f"burst{n}@example.org"})
        try:
            with requests.Session() as s:
                page = s.get(server.base + "/aanmelden", timeout=20)
                data["csrf_token"] = csrf_token_from(page.text)
                r = s.post(server.base + "/aanmelden", data=data, allow_redirects=False,
                           timeout=20)
        except requests.RequestException:
            with lock:
                failed.append(title)
            return
        with lock:
            answered[title] = r.status_code
            if sum(1 for s in answered.values() if s == 302) >= ARM_AFTER:
                armed.touch()

    killed: list[dict] = []

    def killer() -> None:
        in_flight = server.hooks / "in-flight.json"
        deadline = time.monotonic() + 30
        while not in_flight.exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        if not in_flight.exists():
            return
        victim = json.loads(in_flight.read_text())
        victim["was_worker"] = victim["pid"] in _children(server.proc.pid)
        if victim["was_worker"]:  # only ever a worker of the gunicorn this test started
            os.kill(victim["pid"], signal.SIGKILL)
        killed.append(victim)
        server.smtp.up()  # from now on mail goes out right after each response

    kill_thread = threading.Thread(target=killer)
    kill_thread.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(submit, range(SUBMISSIONS)))
    kill_thread.join()
    server.stop()  # let the surviving workers finish sending after their last responses

    # The kill landed in a submission's COMMIT; exactly that request got no answer.
    assert len(killed) == 1, "the hook never paused a worker"
    assert killed[0]["was_worker"], killed
    victim = killed[0]["title"]
    assert failed == [victim]
    acknowledged = {title for title, status in answered.items() if status == 302}
    assert answered == {title: 302 for title in acknowledged}
    assert len(acknowledged) == SUBMISSIONS - 1

    engine = create_engine(server.url)
    with engine.connect() as conn:
        stored = {row[0] for row in conn.execute(text(
            "SELECT title FROM initiative WHERE title LIKE 'Burst %'"))}
        assert stored == acknowledged  # all acknowledged ones, and not the killed one
        partial = conn.execute(text(
            "SELECT i.title FROM initiative i "
            "LEFT JOIN organisation o ON o.id = i.organisation_id "
            "LEFT JOIN contact c ON c.initiative_id = i.id "
            "WHERE o.id IS NULL OR c.id IS NULL "
            "OR (SELECT count(*) FROM obstacle ob WHERE ob.initiative_id = i.id) != :n "
            "OR (SELECT count(*) FROM initiative_dimension d WHERE d.initiative_id = i.id) = 0"
        ), {"n": OBSTACLES}).all()
        assert partial == []
        counts = conn.execute(text(
            "SELECT (SELECT count(*) FROM initiative), (SELECT count(*) FROM organisation), "
            "(SELECT count(*) FROM contact), (SELECT count(*) FROM obstacle)")).one()
        assert tuple(counts) == (len(acknowledged), len(acknowledged), len(acknowledged),
                                 OBSTACLES * len(acknowledged))
        before = {address: (status, attempts) for address, status, attempts in conn.execute(
            text("SELECT to_address, status, attempts FROM outbox_message "
                 "WHERE kind = 'confirm'"))}
    addresses = {f"burst{title.split()[1]}@example.org" for title in acknowledged}
    assert set(before) == addresses  # one confirmation mail per stored submission
    # Mail after the kill went out right after its response; mail before it failed once
    # (SMTP down) and waits in the outbox, due again at once.
    assert set(before.values()) == {("sent", 1), ("queued", 1)}
    waiting = {address for address, state in before.items() if state == ("queued", 1)}
    assert len(server.smtp.messages) == len(addresses) - len(waiting)

    from registry import create_app

    runner = create_app("testing", **server.settings).test_cli_runner()
    result = runner.invoke(args=["send-mail"])  # what the timer runs
    assert result.exit_code == 0, result.output
    assert result.output == f"sent: {len(waiting)}, retry later: 0, failed: 0, skipped: 0\n"
    assert runner.invoke(args=["send-mail"]).output.startswith("sent: 0,")

    with engine.connect() as conn:
        after = {address: (status, attempts) for address, status, attempts in conn.execute(
            text("SELECT to_address, status, attempts FROM outbox_message "
                 "WHERE kind = 'confirm'"))}
    engine.dispose()
    assert after == {address: ("sent", 2 if address in waiting else 1) for address in addresses}
    received = Counter(rcpt for _from, rcpts in server.smtp.envelopes for rcpt in rcpts)
    assert received == Counter({address: 1 for address in addresses})  # each exactly once
