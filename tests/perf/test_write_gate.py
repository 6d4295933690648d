"""SQLite writers take turns through a file lock (registry.database, issue 11).

The gate must let one transaction write at a time, let the next go as soon as the first
commits or rolls back, never make a writer hang, and leave readers alone.
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from registry import database


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    with engine.begin() as conn:
        conn.execute(text("create table t (x integer)"))
    yield engine
    engine.dispose()


def _holding() -> bool:
    return getattr(database._held, "gate", None) is not None


def test_the_gate_is_held_from_the_first_write_until_commit(engine):
    with Session(engine) as session:
        session.execute(text("select count(*) from t")).scalar()
        assert not _holding()  # reading takes no turn
        session.execute(text("insert into t values (1)"))
        assert _holding()
        session.commit()
        assert not _holding()
        session.execute(text("insert into t values (2)"))
        session.rollback()
        assert not _holding()
        session.execute(text("insert into t values (3)"))
    assert not _holding()  # closing the session ends its transaction too
    assert (tmp := engine.url.database) and (database.os.path.exists(tmp + "-writers"))


def test_a_second_writer_waits_for_the_first_commit_then_goes_on(engine):
    events: list[str] = []
    first_wrote = threading.Event()

    def second():
        first_wrote.wait()
        with Session(engine) as session:
            session.execute(text("insert into t values (2)"))
            events.append("second wrote")
            session.commit()

    thread = threading.Thread(target=second)
    thread.start()
    with Session(engine) as session:
        session.execute(text("insert into t values (1)"))
        first_wrote.set()
        time.sleep(0.2)  # the second writer is waiting for its turn meanwhile
        events.append("first commits")
        session.commit()
    thread.join(10)
    assert events == ["first commits", "second wrote"]
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from t")).scalar() == 2


def test_readers_are_not_held_up_by_a_writer(engine):
    with Session(engine) as writer:
        writer.execute(text("insert into t values (1)"))
        result: list[int] = []
        reader = threading.Thread(target=lambda: result.append(
            engine.connect().execute(text("select count(*) from t")).scalar()))
        reader.start()
        reader.join(5)
        assert result == [0]  # answered at once, without the uncommitted row
        writer.commit()


def test_a_writer_never_hangs_on_the_gate(engine, monkeypatch):
    """A turn that never ends (here: another thread keeps the gate) costs at most the
    timeout; then SQLite's own locking decides, as without the gate."""
    monkeypatch.setattr(database, "GATE_TIMEOUT_S", 0.3)
    gate = database._gate_for(database.os.path.abspath(engine.url.database))
    taken = threading.Event()
    done = threading.Event()

    def keep_gate():
        gate.acquire()
        taken.set()
        done.wait(10)
        gate.release()

    keeper = threading.Thread(target=keep_gate)
    keeper.start()
    taken.wait(5)
    started = time.monotonic()
    with Session(engine) as session:
        session.execute(text("insert into t values (1)"))
        session.commit()
    waited = time.monotonic() - started
    done.set()
    keeper.join(5)
    assert 0.25 <= waited < 5
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from t")).scalar() == 1


def test_other_connections_of_the_same_thread_do_not_end_the_turn(engine):
    with Session(engine) as session:
        session.execute(text("insert into t values (1)"))
        with engine.connect() as other:  # e.g. the page cache reading the data version
            other.execute(text("select 1")).scalar()
        assert _holding()
        session.commit()
    assert not _holding()
