"""The one settings tree: every ``LEDGERBOT_*`` variable, by section, read from the environment and ``.env``.

Each section is a pydantic-settings class with its own prefix, so every setting has exactly one
variable (the README's table lists them all); ``get_settings()`` assembles the tree once per
process. Secrets are ``SecretStr`` without a default. A value that does not parse stops start-up
with one coded line naming the variable (``[E806] LEDGERBOT_IMAP_PORT: ...``).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ledgerbot.core.errors import ConfigError


class InvalidSetting(ConfigError):
    """A ``LEDGERBOT_*`` variable whose value does not parse or is out of range."""

    code = "E806"


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )


class StoreSettings(BaseSettings):
    """Where documents, the database and everything derived from them live."""

    model_config = _config("LEDGERBOT_")

    home: Path = Field(
        default=Path("var"), description="Folder for the SQLite store, files, models, screenshots"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL (postgresql+psycopg://...); default a SQLite file in home"
    )


class ModelSettings(BaseSettings):
    """Trained models: where they are and how much CPU inference may take."""

    model_config = _config("LEDGERBOT_")

    dir: Path | None = Field(
        default=None,
        validation_alias="LEDGERBOT_MODELS",
        description="Trained models; default home/models",
    )
    torch_threads: int = Field(default=2, ge=1, le=64, description="Threads the transformer may use")


class TemplateSettings(BaseSettings):
    """Vendor templates: where learned ones live and when a learned one is trusted."""

    model_config = _config("LEDGERBOT_TEMPLATE_")

    dir: Path | None = Field(
        default=None,
        validation_alias="LEDGERBOT_TEMPLATES_DIR",
        description="Vendor templates folder used besides the shipped templates/",
    )
    trust_after: int = Field(
        default=1,
        ge=1,
        description="Documents a shadow template must read as the clerk did before it is trusted",
    )


class ProcessingSettings(BaseSettings):
    """Bounds on the work one document may take, and the claims that keep processes apart."""

    model_config = _config("LEDGERBOT_")

    document_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Time budget for reading one document (all its pages); past it the document "
        "fails with E210 and the batch goes on",
    )
    claim_seconds: float = Field(
        default=600.0,
        gt=0,
        description="Lease on a document while a process runs a stage on it; another process takes "
        "it over only after this long without renewal (sooner when the holder died on this machine)",
    )
    text_backend: Literal["pdfplumber", "pdfium"] = Field(
        default="pdfium",
        description="How born-digital PDF pages are read into words: pdfium (characters read in C, "
        "joined into words in pdfplumber's way) or pdfplumber (pure Python, several times slower)",
    )
    extract_processes: int = Field(
        default=0,
        ge=0,
        description="Processes that extract a batch's documents side by side, forked after the models "
        "load (0: one per available core; 1: this process alone)",
    )


class PolicySettings(BaseSettings):
    """The rules engine's tolerance policy: the same file for processing, workers and the review app."""

    model_config = _config("LEDGERBOT_POLICY_")

    path: Path | None = Field(
        default=None,
        validation_alias="LEDGERBOT_POLICY",
        description="Tolerance policy YAML; default the shipped policy",
    )


class TargetSettings(BaseSettings):
    """The target system invoices are posted into, and how the posting robot treats it."""

    model_config = _config("LEDGERBOT_ERP_")

    kind: str = Field(
        default="sandbox",
        validation_alias="LEDGERBOT_TARGET",
        description="Adapter: a ledgerbot.targets entry point (sandbox, tryton) or module:factory",
    )
    url: str | None = Field(default=None, description="The target's base URL")
    user: str = Field(default="ap-robot", description="Account the robot signs in with")
    password: SecretStr | None = Field(default=None, description="That account's password (secret)")
    database: str | None = Field(default=None, description="Database name, for targets that have several")
    mode: Literal["ui", "rpc"] = Field(default="ui", description="Post through the UI or the target's API")
    lease_seconds: float = Field(default=120.0, gt=0, description="Lease on the target account while posting")
    post_attempts: int = Field(default=3, ge=1, le=20, description="Tries per invoice before retry_later")
    post_backoff_seconds: float = Field(default=2.0, ge=0, description="First wait between tries (doubles)")
    breaker_failures: int = Field(
        default=5, ge=1, description="Consecutive target-system faults after which posting pauses"
    )
    breaker_pause_seconds: float = Field(
        default=300.0, ge=0, description="How long posting pauses once the breaker opened, before one trial"
    )
    browser: Path = Field(
        default=Path("/usr/bin/chromium"),
        validation_alias="LEDGERBOT_CHROMIUM",
        description="Chromium the UI robots drive",
    )


# A host name or an IPv4/IPv6 address, as urlsplit(...).hostname gives it (lower case, no port).
_HOST = re.compile(r"^(\[?[0-9a-f:.]+\]?|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$")


def parse_host_list(value: Any) -> list[str]:
    """Hosts from a JSON list (``["a.test", "b.test"]``), a comma-separated string or a list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"not a valid JSON list ({error.msg} at column {error.colno}); "
                    'write it as ["host1", "host2"] or host1,host2'
                ) from None
        else:
            value = text.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError("must be a list of host names")
    hosts = [item.strip().lower() for item in value if item.strip()]
    for host in hosts:
        if not _HOST.match(host.strip("[]")):
            raise ValueError(f"{host!r} is not a host name (give hosts only, no scheme, port or path)")
    return [host.strip("[]") for host in hosts]


class MailSettings(BaseSettings):
    """The AP mailbox (IMAP); the password comes from the environment or ``.env``, never code."""

    model_config = _config("LEDGERBOT_IMAP_")

    host: str = Field(default="127.0.0.1", description="IMAP server")
    port: int = Field(default=143, ge=1, le=65535, description="IMAP port")
    user: str = Field(default="", description="Mailbox user")
    password: SecretStr | None = Field(default=None, description="Mailbox password (secret)")
    tls: bool = Field(default=False, description="IMAP over TLS")
    folder: str = Field(default="INBOX", description="Folder the invoices arrive in")
    processed_folder: str = Field(
        default="Processed", description="Where a mail goes once every part is on record"
    )
    failed_keyword: str = Field(
        default="LedgerbotFailed", description="Keyword on a mail that failed; skipped until cleared"
    )
    code_keyword_prefix: str = Field(
        default="Ledgerbot", description="A coded failure also tags the mail prefix + code (LedgerbotE716)"
    )
    link_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description='Hosts body links may be fetched from: a,b or ["a", "b"]'
    )
    follow_links: Literal["fallback", "always"] = Field(
        default="fallback", description="fallback: links only when a mail has no invoice attachment"
    )
    link_timeout: float = Field(default=20.0, gt=0, description="Seconds one link download may take")
    max_link_bytes: int = Field(default=50 * 1024 * 1024, gt=0, description="Largest file a link may deliver")
    max_link_redirects: int = Field(
        default=5, ge=0, description="Redirects followed per link, within link_hosts"
    )
    smime_trust_store: Path | None = Field(
        default=None, description="PEM CA certificates S/MIME signers must chain to; unset: not checked"
    )
    fetch_batch: int = Field(default=20, ge=1, description="Most mails fetched per IMAP round trip")
    fetch_batch_bytes: int = Field(
        default=32 * 1024 * 1024, gt=0, description="Most bytes per round trip (a bigger mail comes alone)"
    )

    _split_hosts = field_validator("link_hosts", mode="before")(parse_host_list)


# Reasons a clerk or approver picks from (the review app shows them; the audit trail keeps the key).
OVERRIDE_REASONS: dict[str, str] = {
    "price_agreed": "Price agreed with the buyer",
    "contract_terms": "Covered by the contract's terms",
    "partial_delivery_ok": "Partial delivery accepted",
    "bank_change_verified": "Bank change verified with the vendor by phone",
    "rounding": "Rounding or small difference",
    "other": "Other (explain)",
}
REJECT_REASONS: dict[str, str] = {
    "duplicate": "Duplicate of an invoice already received",
    "not_ordered": "Goods or services not ordered",
    "not_received": "Goods or services not received",
    "wrong_price": "Price not as agreed",
    "wrong_recipient": "Addressed to another company",
    "suspected_fraud": "Suspected fraud",
    "other": "Other (explain)",
}


class ReviewSettings(BaseSettings):
    """The clerks' web app."""

    model_config = _config("LEDGERBOT_REVIEW_")

    session_hours: float = Field(default=12.0, gt=0, description="How long a sign-in lasts")
    cookie_secure: bool = Field(default=False, description="Set the Secure flag (serve over HTTPS)")
    idle_minutes: float = Field(default=30.0, gt=0, description="A session unused this long is signed out")
    login_free_failures: int = Field(
        default=3, ge=1, description="Failed sign-ins on one account before each next try waits"
    )
    login_backoff_seconds: float = Field(
        default=1.0, ge=0, description="The first wait; it doubles with each further failure"
    )
    login_backoff_max_seconds: float = Field(
        default=30.0,
        ge=0,
        description="The longest wait: the account's owner always gets in after it (never a lock)",
    )
    login_max_failures_per_client: int = Field(
        default=50, ge=1, description="Failed sign-ins per client address per window, behind trusted proxies"
    )
    login_window_minutes: int = Field(default=15, ge=1, description="How far back failures count")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For/-Proto are believed; only then "
        "is the client address known well enough to limit sign-ins per address",
    )
    default_locale: str = Field(
        default="en_GB", description="How numbers and dates read for users who chose no locale"
    )
    max_amount: Decimal = Field(default=Decimal("999999999999.99"), description="Largest amount accepted")
    max_quantity: Decimal = Field(default=Decimal("999999999"), description="Largest quantity accepted")
    amount_places: int = Field(default=4, ge=0, le=6, description="Decimal places an amount may have")
    quantity_places: int = Field(default=6, ge=0, le=10, description="Decimal places a quantity may have")
    date_oldest_days: int = Field(default=3660, ge=1, description="Oldest document date accepted (days ago)")
    date_newest_days: int = Field(default=730, ge=0, description="Latest document date accepted (days ahead)")
    claim_timeout_minutes: float = Field(
        default=60.0, gt=0, description="A claim nobody acted on for this long lapses and others may act"
    )
    price_override_second_approver_above: Decimal = Field(
        default=Decimal("1000"),
        description="Approving over a price variance worth more than this (quantity x price difference) "
        "needs two approvers",
    )
    clerk_reject_limit: Decimal = Field(
        default=Decimal("10000"), description="A clerk's rejection of a larger total waits for an approver"
    )
    override_reasons: dict[str, str] = Field(
        default_factory=lambda: dict(OVERRIDE_REASONS),
        description="Reasons an approver may pick when approving over open exceptions",
    )
    reject_reasons: dict[str, str] = Field(
        default_factory=lambda: dict(REJECT_REASONS), description="Reasons a rejection may give"
    )
    page_size: int = Field(default=50, ge=5, le=500, description="Queue rows per page")
    sla_warn_hours: float = Field(default=24.0, description="Queue rows turn amber after this age")
    sla_breach_hours: float = Field(default=72.0, description="Queue rows turn red after this age")
    render_scale: float = Field(default=1.5, gt=0.2, le=4, description="Page image pixels per PDF point")
    # Used only when the rules engine's policy cannot be loaded: an amount above it needs
    # a second approver. The policy's own ``needs_second_approver`` wins whenever it exists.
    fallback_second_approver_threshold: Decimal = Field(
        default=Decimal("10000"), description="Second approver above this when no policy loads"
    )
    sync_interval_seconds: float = Field(
        default=1.0, ge=0, description="Minimum time between two reads of the audit trail for the queue"
    )
    threads: int = Field(
        default=4,
        ge=1,
        le=100,
        description="Threads per worker process for the routes' database work: only one runs Python "
        "at a time, and more of them contend for it (4: about 8% less CPU per request than 40)",
    )

    @property
    def cache_dir(self) -> Path:
        return get_settings().review_cache_dir

    @property
    def drafts_dir(self) -> Path:
        """Template drafts waiting for an automation engineer to accept them."""
        return get_settings().review_drafts_dir


class WorkerSettings(BaseSettings):
    """A scale-out worker: its document reader and its periodic jobs."""

    model_config = _config("LEDGERBOT_")

    reader: str = Field(
        default="ledgerbot.worker.readers:pipeline_reader",
        description="module:callable returning the DocumentReader the processing jobs use",
    )
    # Periodic jobs (cron, with an optional sixth field for seconds: "* * * * * */10").
    dispatch_cron: str = Field(default="* * * * * */15", description="Queueing waiting documents")
    recover_cron: str = Field(default="* * * * * */10", description="Retrying jobs of dead workers")
    report_cron: str = Field(default="0 6 * * *", description="The scheduled finance report")
    report_dir: Path | None = Field(default=None, description="Where the scheduled finance report is written")
    report_days: int = Field(default=30, ge=1, description="Days the scheduled report covers")
    inbox: Path | None = Field(
        default=None, description="Folder the periodic intake job empties into the store"
    )
    split_files: bool = Field(
        default=True,
        description="Cut a received file that holds several documents into one document each",
    )
    # A worker whose heartbeat is older than this is dead; its running jobs are retried.
    stalled_seconds: float = Field(default=30.0, gt=0, description="Heartbeat age of a dead worker")
    heartbeat_seconds: float = Field(default=5.0, gt=0, description="Heartbeat interval")


class ModelOpsSettings(BaseSettings):
    """Model operations: the registry's shadow and canary runs and when a canary is rolled back."""

    model_config = _config("LEDGERBOT_MODELOPS_")

    trained_state: Literal["active", "candidate"] = Field(
        default="active",
        description="State a newly trained model is registered in: active (it runs at once, the "
        "previous one retired and kept for a rollback) or candidate (it waits for shadow and canary)",
    )
    canary_share: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        description="Share of documents (by a stable hash of their sha256) a canary model decides",
    )
    rollback_margin: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="How much worse (absolute rate) the canary's correction or exception rate may be "
        "than the active model's before the test for a rollback starts counting it",
    )
    rollback_alpha: float = Field(
        default=0.05,
        gt=0.0,
        lt=0.5,
        description="Significance of the one-sided two-proportion z-test that rolls a canary back",
    )
    low_confidence: float = Field(
        default=0.6,
        gt=0.0,
        lt=1.0,
        description="Confidence below which a decision counts as low, at every stage (document type, "
        "each extracted field, the ranker's and a template's reads, line matching)",
    )
    drift_margin: float = Field(
        default=0.15,
        gt=0.0,
        le=1.0,
        description="Rise of a day's low-confidence share over the days before it that raises a drift alarm",
    )
    new_vendor_share: float = Field(
        default=0.3,
        gt=0.0,
        le=1.0,
        description="Share of a day's documents from vendors not seen before (or none matched) that "
        "raises a drift alarm",
    )
    drift_min_documents: int = Field(
        default=5,
        ge=1,
        description="Documents a stage needs on a day before that day's figures can raise a drift alarm "
        "for it (a field read on two documents says nothing yet)",
    )
    min_documents: int = Field(
        default=20,
        ge=1,
        description="Documents each arm (canary and active) needs before the rollback test is applied",
    )
    shadow_cpu_budget: float = Field(
        default=0.5,
        ge=0.0,
        description="CPU a model in shadow may add, as a share of the pipeline's own CPU per document; "
        "a document whose expected shadow cost would pass it is read without the shadow",
    )


SECTIONS: dict[str, type[BaseSettings]] = {
    "store": StoreSettings,
    "models": ModelSettings,
    "templates": TemplateSettings,
    "processing": ProcessingSettings,
    "policy": PolicySettings,
    "target": TargetSettings,
    "mail": MailSettings,
    "review": ReviewSettings,
    "worker": WorkerSettings,
    "modelops": ModelOpsSettings,
}


def variable_name(section: type[BaseSettings], field: str) -> str:
    """The environment variable behind one field of a section."""
    alias = section.model_fields[field].validation_alias
    # Aliases are full variable names only: a bare alias would match an unrelated variable
    # (``path`` is PATH, case-insensitively).
    if isinstance(alias, str):
        return alias
    return f"{section.model_config.get('env_prefix', '')}{field}".upper()


S = TypeVar("S", bound=BaseSettings)


def load_section(section: type[S], **values: Any) -> S:
    """One section from the environment (and ``.env``); a bad value is one coded line naming its variable."""
    try:
        return section(**values)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        name = variable_name(section, field) if field in section.model_fields else field.upper()
        raise InvalidSetting(f"{name}: {first['msg']}", variable=name) from None


class Settings(BaseModel):
    """The whole tree; ``get_settings()`` builds it from the environment once per process."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    store: StoreSettings
    models: ModelSettings
    templates: TemplateSettings
    processing: ProcessingSettings
    policy: PolicySettings
    target: TargetSettings
    mail: MailSettings
    review: ReviewSettings
    worker: WorkerSettings
    modelops: ModelOpsSettings

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(**{name: load_section(section) for name, section in SECTIONS.items()})

    @property
    def home(self) -> Path:
        return self.store.home

    @property
    def files_dir(self) -> Path:
        return self.store.home / "files"

    @property
    def models_dir(self) -> Path:
        return self.models.dir or self.store.home / "models"

    @property
    def screenshots_dir(self) -> Path:
        return self.store.home / "screenshots"

    @property
    def review_cache_dir(self) -> Path:
        return self.store.home / "review_cache"

    @property
    def review_drafts_dir(self) -> Path:
        """Template drafts waiting for an automation engineer to accept them."""
        return self.store.home / "review_drafts"

    @property
    def has_store(self) -> bool:
        """Whether a store exists to be asked (a database URL, or the embedded file on disk);
        answered without opening it, so a command without one loads no database code."""
        return bool(self.store.database_url) or (self.store.home / "ledgerbot.db").is_file()

    @property
    def resolved_database_url(self) -> str:
        if self.store.database_url:
            return self.store.database_url
        return f"sqlite:///{(self.store.home / 'ledgerbot.db').resolve()}"


def learned_templates_dir() -> Path:
    """Where templates learned from clerks' corrections go: ``LEDGERBOT_TEMPLATES_DIR``, else
    ``home/templates`` (never the shipped folder). Read afresh, like the templates folder itself."""
    return load_section(TemplateSettings).dir or load_section(StoreSettings).home / "templates"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_environment()
