"""Alembic environment: the engine comes from the caller (watcher.store.db.Database)."""

from alembic import context
from sqlmodel import SQLModel

import watcher.store.models  # noqa: F401  (registers tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - we never run offline
    raise SystemExit("offline migrations are not supported")
run_migrations_online()
