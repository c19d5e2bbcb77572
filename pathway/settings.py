"""Settings read once at the edges (CLI, dashboard, flows) from the environment."""

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATHWAY_", env_ignore_empty=True, extra="ignore")

    home: Path = Path(".pathway")
    database_url: str | None = None
    # How long a SQLite writer waits for another's write lock before the save is refused as busy.
    sqlite_busy_seconds: float = 30
    # The key that signs the audit trail's anchors (pathway.store.audit_anchor): never in the database.
    # PATHWAY_AUDIT_KEY, else the file PATHWAY_AUDIT_KEY_FILE, else $PATHWAY_HOME/audit.key if it exists
    # (where `pathway demo` puts a generated one); none: anchors are unsigned.
    audit_key: SecretStr | None = None
    audit_key_file: Path | None = None
    audit_anchor_file: Path | None = None  # default $PATHWAY_HOME/audit-anchors.jsonl

    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_url(self.database_url)
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.home / 'pathway.db').resolve()}"

    def resolved_audit_key(self) -> bytes | None:
        if self.audit_key is not None and self.audit_key.get_secret_value():
            return self.audit_key.get_secret_value().encode()
        file = self.audit_key_file or self.home / "audit.key"
        if self.audit_key_file is not None or file.exists():
            return file.read_bytes().strip() or None
        return None

    def resolved_anchor_file(self) -> Path:
        return self.audit_anchor_file or self.home / "audit-anchors.jsonl"


def normalise_url(url: str) -> str:
    """PostgreSQL always through psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
