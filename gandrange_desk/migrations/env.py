"""Alembic environment: runs on the connection handed over by gandrange_desk.services.system.schema."""

from alembic import context

from gandrange_desk.models import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; use `gandrange-desk db upgrade`.")
run_migrations_online()
