"""SQLite writers take turns through a file lock (registry.database, issue 11).

The gate is opt-in (SQLITE_WRITE_GATE) and attached to the app's own SQLite engine only. When
on, it must let one transaction write at a time, let the next go as soon as the first commits
or rolls back, never make a writer hang, and leave readers alone.
"""
from __future__ import annotations

import os
import threading
import time

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from registry import create_app, database
from registry.extensions import db

# (event, listener) pairs registry.database may attach to an engine (or its pool).
PRAGMAS = [("connect", database._sqlite_settings)]
GATE = [("before_cursor_execute", database._take_write_gate),
        ("commit", database._transaction_ends), ("rollback", database._transaction_ends),
        ("reset", database._connection_reset)]


def attached(target) -> list[str]:
    return [name for name, listener in PRAGMAS + GATE if event.contains(target, name, listener)]


def attached_globally() -> list[str]:
    """Listeners on SQLAlchemy's Engine and Pool classes (which every engine would run)."""
    pool_events = {"connect", "reset"}
    return [f"{cls.__name__}.{name}" for name, listener in PRAGMAS + GATE
            for cls in (Engine, Pool) if (name in pool_events) == (cls is Pool)
            and event.contains(cls, name, listener)]


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    database.configure_engine(engine, write_gate=True)  # what SQLITE_WRITE_GATE=true does
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
    assert (tmp := engine.url.database)
    assert (database.os.path.exists(tmp + "-writers"))


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


# -- opt-in, and only on the app's own SQLite engine ----------------------------------------------

def _app_engine(url: str, **settings):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **settings)
    with app.app_context():
        return app, db.engine


def _write_through_app(app) -> None:
    with app.app_context():
        db.create_all()
        db.session.execute(text("create table t (x integer)"))
        db.session.execute(text("insert into t values (1)"))
        db.session.commit()
        db.session.remove()


def test_by_default_sqlite_gets_the_pragmas_but_no_gate(tmp_path):
    path = tmp_path / "default.db"
    app, engine = _app_engine(f"sqlite:///{path}")
    assert app.config["SQLITE_WRITE_GATE"] is False
    assert attached(engine) == ["connect"]
    _write_through_app(app)
    assert not os.path.exists(f"{path}-writers")  # no writer ever took a turn
    with engine.connect() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar() == "wal"
        assert conn.execute(text("pragma synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("pragma busy_timeout")).scalar() == 15000
    engine.dispose()


def test_the_setting_switches_the_gate_on(tmp_path):
    path = tmp_path / "gated.db"
    app, engine = _app_engine(f"sqlite:///{path}", SQLITE_WRITE_GATE=True)
    assert attached(engine) == ["connect", "before_cursor_execute", "commit", "rollback",
                                "reset"]
    _write_through_app(app)
    assert os.path.exists(f"{path}-writers")
    assert not _holding()
    engine.dispose()


def test_engines_made_elsewhere_are_left_alone(tmp_path):
    """Nothing is installed on SQLAlchemy's global Engine and Pool classes: an engine that is
    not the app's (a script, a tool) keeps SQLite's defaults, even after a gated app."""
    _app_engine(f"sqlite:///{tmp_path / 'app.db'}", SQLITE_WRITE_GATE=True)[1].dispose()
    assert attached_globally() == []
    path = tmp_path / "plain.db"
    plain = create_engine(f"sqlite:///{path}")
    assert attached(plain) == []
    with plain.begin() as conn:
        conn.execute(text("create table t (x integer)"))
        assert conn.execute(text("pragma journal_mode")).scalar() == "delete"
    assert not os.path.exists(f"{path}-writers")
    plain.dispose()


def test_a_postgresql_app_carries_none_of_it(pg_url):
    _app, engine = _app_engine(pg_url, SQLITE_WRITE_GATE=True)  # the setting is SQLite-only
    assert engine.dialect.name == "postgresql"
    assert attached(engine) == []
    assert attached_globally() == []
    engine.dispose()
