"""Settings read once at the edges (CLI, dashboard, flows) from the environment."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATHWAY_", env_ignore_empty=True, extra="ignore")

    home: Path = Path(".pathway")
    database_url: str | None = None
    # How long a SQLite writer waits for another's write lock before the save is refused as busy.
    sqlite_busy_seconds: float = 30

    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_url(self.database_url)
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.home / 'pathway.db').resolve()}"


def normalise_url(url: str) -> str:
    """PostgreSQL always through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
