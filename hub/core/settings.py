"""Settings: the only module that reads the environment.

Sources, highest priority first: explicit keyword arguments, ``TELEHUB_*``
environment variables (nested sections with ``__``, e.g.
``TELEHUB_XDS__HOME_COMMUNITY_ID``), the TOML file named by ``TELEHUB_CONFIG``
(default ``./telehub.toml`` when it exists), then the defaults below.
``Settings`` is built once, in the composition root, and passed down.
"""

from __future__ import annotations

import enum
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.core.errors import ConfigurationError


class ValidationLevel(enum.Enum):
    """How far a FHIR write is validated before it is stored."""

    OFF = "off"
    BASE = "base"
    PROFILES = "profiles"


class SecurityMode(enum.Enum):
    """``dev``: local key and test tokens; ``production``: pinned trust only; ``open``: no auth (loud)."""

    DEV = "dev"
    PRODUCTION = "production"
    OPEN = "open"


class ReplayScope(enum.Enum):
    """What an ID card's replay defence remembers until the card expires.

    ``card``: the card itself (``sosi:IDCardID``): each card is accepted once.  ``message``: the card's
    messages (``wsa:MessageID``, else DGWS ``medcom:MessageID``): one card serves many requests, as DGWS
    clients use it, and each message is accepted once.
    """

    CARD = "card"
    MESSAGE = "message"


class ReadAudit(enum.Enum):
    """When the audit record of a read (FHIR read/search/history, ITI-18, ITI-43) is written.

    ``batched``: queued and written within 50 ms, off the response path (a crash can lose that window).
    ``durable``: committed before the response leaves (group commit: reads arriving meanwhile share the next
    transaction); when it cannot be written the read fails and releases nothing.
    """

    BATCHED = "batched"
    DURABLE = "durable"


class Strictness(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class ValidationSettings(BaseModel):
    default_level: ValidationLevel = ValidationLevel.BASE
    # per resource type override, e.g. {"Observation": "profiles"}
    levels: dict[str, ValidationLevel] = Field(default_factory=dict)
    # profiles every instance of a type must conform to, e.g. {"Observation": ["http://.../dk-tm-observation"]}
    required_profiles: dict[str, list[str]] = Field(default_factory=dict)
    # extra package sources (folders or .tgz) loaded at start-up besides the built-in package
    packages: list[str] = Field(default_factory=list)
    fhir_package_cache: Path = Field(default_factory=lambda: Path.home() / ".fhir" / "packages")


class XdsSettings(BaseModel):
    home_community_id: str = "urn:oid:1.2.208.176.43210.8.10"
    repository_unique_id: str = "1.2.208.176.43210.8.10.1"
    registry_unique_id: str = "1.2.208.176.43210.8.10.2"
    # Danish metadata value-set checks: "error" rejects, "warning" reports and accepts
    danish_profile_strictness: Strictness = Strictness.ERROR
    default_healthcare_facility_type: str = "550621000005101"
    default_practice_setting: str = "408443003"
    max_document_bytes: int = 200 * 1024 * 1024
    # When set, patient ids must be known to the hub (Patient resources with that CPR) -> XDSUnknownPatientId
    patient_registry: bool = False
    # An ITI-18 query that would return more DocumentEntries, SubmissionSets or Folders (of one kind) fails
    # with XDSTooManyResults instead of building an answer of unbounded size
    max_query_results: int = Field(default=5_000, ge=1)


class SecuritySettings(BaseModel):
    mode: SecurityMode = SecurityMode.DEV
    read_audit: ReadAudit = ReadAudit.BATCHED
    # OAuth2 / JWT
    jwt_issuer: str = "https://telehub.local/dev"
    jwt_audience: str = "telehub"
    jwks_file: Path | None = None
    jwks_url: str | None = None
    # SAML / DGWS: PEM certificates of trusted ID-card issuers (STS)
    saml_trusted_certs: list[Path] = Field(default_factory=list)
    saml_audience: str | None = None
    saml_min_auth_level: int = 3
    # per door ("fhir", "xds", "mhd", "admin") minimum sosi:AuthenticationLevel, overriding the one above
    saml_door_min_auth_levels: dict[str, int] = Field(default_factory=dict)
    # accept rsa-sha1 / sha1 ID-card signatures from legacy STSs (off: SHA-2 only)
    saml_allow_sha1: bool = False
    # assertion ids remembered against replay (in-memory, per process)
    replay_cache_size: int = 100_000
    # "card": an ID card is accepted once; "message": a card serves many messages, each accepted once
    saml_replay_scope: ReplayScope = ReplayScope.CARD
    # signature-verified ID cards remembered by their exact bytes until they expire ("message" scope only)
    saml_verified_card_cache_size: int = Field(default=10_000, ge=0)
    # medcom:CareProviderID values of system ID cards whose HSUID header may name the acting user
    hsuid_trusted_providers: list[str] = Field(default_factory=list)
    jwks_cache_seconds: int = 300
    clock_skew_seconds: int = 60
    # dev mode signing material (generated under data_dir when absent)
    dev_key_file: Path | None = None
    dev_key_password: SecretStr | None = None
    max_header_bytes: int = 16 * 1024


def config_file() -> Path | None:
    """The TOML settings file: ``TELEHUB_CONFIG`` (which must exist; empty: none), else ``./telehub.toml``
    when it exists."""
    named = os.environ.get("TELEHUB_CONFIG")
    if named is None:
        default = Path("telehub.toml")
        return default if default.is_file() else None
    if not named:
        return None
    path = Path(named)
    if not path.is_file():
        raise ConfigurationError(
            f"TELEHUB_CONFIG names {named!r}, which is not a file (set it to an existing TOML file, or to an "
            "empty value for none)"
        )
    return path


class Settings(BaseSettings):
    """Effective telehub configuration."""

    model_config = SettingsConfigDict(
        env_prefix="TELEHUB_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file=None,
    )

    # empty: the embedded SQLite database inside data_dir (see _embedded_database_by_default)
    database_url: str = ""
    data_dir: Path = Path("./var")
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    log_level: str = "info"
    base_url: str | None = None
    max_body_bytes: int = 20 * 1024 * 1024
    max_json_depth: int = 64
    max_array_length: int = 10_000
    default_page_size: int = 50
    max_page_size: int = 1000
    db_pool_size: int = 10
    # garbage collector of each `telehub serve` worker once it is ready (hub.core.heap)
    gc_freeze: bool = True
    gc_gen0_threshold: int = Field(default=10_000, ge=0)
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    xds: XdsSettings = Field(default_factory=XdsSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = config_file()
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @model_validator(mode="after")
    def _embedded_database_by_default(self) -> Settings:
        """No database URL: ``<data_dir>/telehub.db`` (``./var/telehub.db`` with the default data folder), so
        moving the data folder moves the database with the blobs, packs and packages."""
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'telehub.db'}"
        return self

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def packs_dir(self) -> Path:
        return self.data_dir / "packs"

    @property
    def packages_dir(self) -> Path:
        return self.data_dir / "packages"

    def masked(self) -> dict[str, Any]:
        """The effective settings as JSON-able data, with secrets (and URL passwords) masked."""
        data = self.model_dump(mode="json")
        data["database_url"] = mask_url_password(self.database_url)
        return data


def mask_url_password(url: str) -> str:
    """``postgresql+asyncpg://u:secret@h/db`` -> ``postgresql+asyncpg://u:***@h/db``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    if ":" not in creds:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
