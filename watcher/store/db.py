"""Engine set-up, migrations and sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from watcher.errors import ConfigError

T = TypeVar("T")

__all__ = ["Database", "open_database", "SCHEMA_HEAD", "in_chunks", "IN_LIST_SIZE"]

#: the newest migration; a test keeps it equal to Alembic's head.  Knowing it lets a
#: command check the schema with one SELECT instead of importing Alembic (~0.3 s).
SCHEMA_HEAD = "0007"

log = structlog.get_logger("parcelwatch.store")
_MIGRATION_LOCK = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """An engine plus migrations; hands out short-lived sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            if url.startswith("sqlite"):
                self.engine: Engine = create_engine(
                    url, connect_args={"check_same_thread": False, "timeout": 30}
                )
                event.listen(self.engine, "connect", _sqlite_pragmas)
            else:
                self.engine = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(f"database.url: cannot use {self.safe_url}: {exc}") from None
        self._sessions = sessionmaker(self.engine, class_=Session, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def safe_url(self) -> str:
        try:
            from sqlalchemy.engine import make_url

            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:
            return "<database url>"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    # -- migrations ---------------------------------------------------------
    def _alembic_config(self) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(files("watcher.store").joinpath("migrations")))
        cfg.attributes["engine"] = self.engine
        return cfg

    def current_revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except (OperationalError, ProgrammingError):  # no table yet: empty database
                return None

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def upgrade(self) -> tuple[str | None, str | None]:
        """Apply pending migrations; returns (before, after) revisions."""
        from alembic import command

        before = self.current_revision()
        if before != self.head_revision():
            with _MIGRATION_LOCK:  # alembic's context is process-global
                try:
                    command.upgrade(self._alembic_config(), "head")
                except OperationalError:
                    # Another process migrated the same new database at the same moment.
                    if self.current_revision() != self.head_revision():
                        raise
        after = self.current_revision()
        if before != after:
            log.info("store.migrated", url=self.safe_url, before=before, after=after)
        return before, after

    def ensure_schema(self) -> None:
        """SQLite is migrated automatically; other databases must run ``parcelwatch db upgrade``."""
        try:
            if self.is_sqlite:
                path = self.engine.url.database
                if path and path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
            current = self.current_revision()
            if current == SCHEMA_HEAD:
                return
            if self.is_sqlite:
                self.upgrade()
                return
            head = self.head_revision()
        except OperationalError as exc:
            raise ConfigError(f"database.url: cannot open {self.safe_url}: {exc.orig}") from None
        if current != head:
            raise ConfigError(
                f"database schema is at {current or 'nothing'}, code expects {head}: run `parcelwatch db upgrade`"
            )

    def dispose(self) -> None:
        self.engine.dispose()


#: ids per ``IN (…)`` list: well under every database's cap on bound parameters (SQLite: 32766)
IN_LIST_SIZE = 900


def in_chunks(ids: Sequence[T]) -> list[Sequence[T]]:
    """``ids`` cut into lists short enough for one ``WHERE x IN (…)`` each."""
    return [ids[i:i + IN_LIST_SIZE] for i in range(0, len(ids), IN_LIST_SIZE)]


def open_database(url: str, *, migrate: bool = True) -> Database:
    db = Database(url)
    if migrate:
        db.ensure_schema()
    return db
