"""Where the monitor state lives: ``--state`` as a SQLite file path or a SQLAlchemy URL, opened as an engine.

- a path (``state.db``) or ``sqlite:///path``: a SQLite file through the standard library's ``sqlite3``, WAL
  journal, ``synchronous=FULL``; each batch transaction is ``BEGIN IMMEDIATE`` (one writer at a time);
- ``postgresql+psycopg://user@host:port/db`` (or ``postgresql://``, any SQLAlchemy PostgreSQL driver that is
  installed): a PostgreSQL database; the driver comes with ``pip install 'textrisk[postgres]'``.

Errors are one line and name the URL with its password hidden: a malformed URL or an unsupported backend
(:class:`ConfigError`), a missing driver (:class:`ConfigError`), a server that cannot be reached or a file that
is not a database, or holds another application's tables (:class:`DataError`, found before anything is written).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from ..errors import ConfigError, DataError

__all__ = ["Database", "open_database", "safe_url", "state_file"]

_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def safe_url(state: str) -> str:
    """``state`` with any password in it replaced by ``***`` (also for strings that do not parse as URLs)."""
    return _PASSWORD.sub(r"\1***@", state)


@dataclass
class Database:
    """An opened state location: the engine, one connection, the dialect name and a printable label."""

    engine: sa.engine.Engine
    connection: sa.engine.Connection
    dialect: str  # "sqlite" or "postgresql"
    label: str  # the path, or the URL without its password
    path: Path | None  # the SQLite file, None on a server


def _sqlite_engine(path: Path, readonly: bool) -> sa.engine.Engine:
    def connect() -> sqlite3.Connection:
        if readonly:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        else:
            db = sqlite3.connect(path, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        db.row_factory = sqlite3.Row
        return db

    engine = sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)
    begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"  # the driver is in autocommit mode: transactions are ours

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.engine.Connection) -> None:
        connection.exec_driver_sql(begin)

    return engine


def _sqlite_path(state: str) -> Path:
    try:
        url = sa.engine.make_url(state)
    except (sa.exc.ArgumentError, ValueError):
        url = None
    if url is None or url.get_driver_name() != "pysqlite" or not url.database or url.database == ":memory:":
        raise ConfigError(f"--state {safe_url(state)}: a sqlite URL needs a file path (sqlite:///state.db)")
    return Path(url.database)


def _server_engine(state: str) -> tuple[sa.engine.Engine, str]:
    label = safe_url(state)
    try:
        url = sa.engine.make_url(state)
    except (sa.exc.ArgumentError, ValueError):
        raise ConfigError(f"--state {label}: not a SQLite path or a database URL "
                          "(postgresql+psycopg://user@host:5432/dbname)") from None
    label = url.render_as_string(hide_password=True)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"--state {label}: unsupported database {url.get_backend_name()!r} (use a SQLite path, "
                          "sqlite:///PATH or postgresql+psycopg://user@host/dbname)")
    # libpq waits for the operating system's TCP timeout (minutes) on a host that does not answer; 10 s unless set
    timeout = {"connect_timeout": 10} if url.get_driver_name() in ("psycopg", "psycopg2") \
        and "connect_timeout" not in url.query else {}
    try:
        return sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=timeout), label
    except ImportError as exc:
        raise ConfigError(f"--state {label}: the database driver is not installed ({exc}); "
                          "pip install 'textrisk[postgres]' for postgresql+psycopg://") from None
    except sa.exc.NoSuchModuleError:
        raise ConfigError(f"--state {label}: unknown PostgreSQL driver {url.get_driver_name()!r} "
                          "(use postgresql+psycopg://)") from None


def _check_sqlite_file(path: Path, label: str) -> None:
    """Before a writable connection changes anything (the WAL switch rewrites the file header): an existing file
    must be a SQLite database holding no tables but a monitor state's."""
    from .schema import metadata

    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise DataError(f"{label} is not a textrisk monitor state ({str(exc).splitlines()[0]})") from None
    foreign = sorted(t for t in tables - set(metadata.tables) if not t.startswith("sqlite_"))
    if foreign:
        raise DataError(f"{label} is not a textrisk monitor state: it holds other tables ({', '.join(foreign[:5])}); "
                        "use a new --state file")


def state_file(state: str | Path) -> Path | None:
    """The SQLite file of ``--state`` (a path or ``sqlite:///PATH``), None for a database server."""
    state = str(state)
    is_url = "://" in state or state.lower().startswith("sqlite:")
    if not is_url:
        return Path(state)
    return _sqlite_path(state) if state.lower().startswith("sqlite") else None


def open_database(state: str | Path, readonly: bool = False) -> Database:
    """Open ``state`` (a SQLite path or a SQLAlchemy URL) and connect once; errors as in the module docstring."""
    state = str(state)
    path = state_file(state)
    is_url = "://" in state or state.lower().startswith("sqlite:")
    if path is not None:
        label = safe_url(state) if is_url else state
        if readonly and not path.is_file():
            raise DataError(f"monitor state {path} does not exist (run textrisk monitor first)")
        if not readonly:
            if path.is_file() and path.stat().st_size:
                _check_sqlite_file(path, label)
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(path, readonly)
    else:
        engine, label = _server_engine(state)
    try:
        connection = engine.connect()
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        if path is not None:
            raise DataError(f"{label} is not a textrisk monitor state ({reason})") from None
        raise DataError(f"cannot connect to monitor state {label}: {reason}") from None
    return Database(engine, connection, engine.dialect.name, label, path)
