"""Runtime settings, read from ``LEDGERBOT_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERBOT_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), description="Folder for the SQLite store, files and models")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under ``home``"
    )
    models: Path | None = Field(default=None, description="Trained models; default ``home/models``")
    erp_url: str = Field(default="http://127.0.0.1:8071", description="The target ERP's base URL")
    erp_user: str = "ap-robot"
    erp_password: SecretStr = Field(default=SecretStr(""), description="From the environment, never code")
    policy: Path | None = Field(default=None, description="Tolerance policy YAML; default: shipped policy")
    document_seconds: float = Field(
        default=120.0,
        description="Time budget for reading one document (all its pages); past it the document "
        "fails with E210 and the batch goes on",
    )
    erp_breaker_failures: int = Field(
        default=5, description="Consecutive target-system faults after which posting pauses"
    )
    erp_breaker_pause_seconds: float = Field(
        default=300.0, description="How long posting pauses once the breaker opened, before one trial"
    )
    claim_seconds: float = Field(
        default=600.0,
        description="Lease on a document while a process runs a stage on it; another process takes "
        "it over only after this long without renewal (sooner when the holder died on this machine)",
    )

    @property
    def files_dir(self) -> Path:
        return self.home / "files"

    @property
    def models_dir(self) -> Path:
        return self.models or self.home / "models"

    @property
    def screenshots_dir(self) -> Path:
        return self.home / "screenshots"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'ledgerbot.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
