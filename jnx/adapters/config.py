"""Typed adapter configuration, embedded by a source-system registration file.

One model per protocol (``soap``, ``rest``, ``dbfront``, ``files``), a discriminated union
:data:`AdapterConfig` over them. Secrets are never values here: :class:`SecretRef` names an
environment variable or an entry of the encrypted secret store, resolved by the caller's
:class:`SecretResolver` when the factory builds the adapter.

Placeholders in arguments and query parameters: a string that is exactly ``"{since}"``,
``"{page}"``, ``"{page_size}"`` or ``"{cursor}"`` is replaced by that value (typed: numbers stay
numbers); a parameter whose value is ``"{cursor}"`` is left out while there is no cursor.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jnx.errors import ConfigError

PLACEHOLDERS = ("{since}", "{page}", "{page_size}", "{cursor}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(_Model):
    """Where a secret lives: an environment variable name or a key of the encrypted store."""

    env: str | None = None
    store: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.store is None):
            raise ValueError("a secret reference names exactly one of `env` or `store`")
        return self

    def __str__(self) -> str:
        return f"env:{self.env}" if self.env else f"store:{self.store}"


class SecretResolver(Protocol):
    """Turns a :class:`SecretRef` into the secret; raises ``ConfigError`` when it is missing."""

    def resolve(self, ref: SecretRef) -> str: ...


def _describe(ref: SecretRef) -> str:
    return f"environment variable {ref.env}" if ref.env else f"secret store entry {ref.store!r}"


def resolve_secret(resolver: SecretResolver, ref: SecretRef) -> str:
    """The secret ``ref`` names; an empty (or blank) one is missing: ``ConfigError`` naming it.

    Every adapter resolves through here, whatever resolver the caller hands in, so an empty
    password is never sent.
    """
    return _not_blank(ref, resolver.resolve(ref))


def _not_blank(ref: SecretRef, value: str) -> str:
    if not value.strip():
        raise ConfigError(
            f"secret {ref} is empty: the {_describe(ref)} is set but holds nothing",
            hint=f"put the secret in the {_describe(ref)} before running jnx",
        )
    return value


class MappingSecrets:
    """Resolves ``env`` references from a mapping the caller hands in (the CLI passes os.environ)."""

    def __init__(self, env: Mapping[str, str], store: Mapping[str, str] | None = None) -> None:
        self._env = env
        self._store = store or {}

    def resolve(self, ref: SecretRef) -> str:
        source, name = (self._env, ref.env) if ref.env else (self._store, ref.store)
        assert name is not None
        value = source.get(name)
        if value is None:
            raise ConfigError(f"secret {ref} is not set", hint=f"set the {_describe(ref)} before running jnx")
        return _not_blank(ref, value)


LINE_SCHEMES = ("http", "https")
_NO_CREDENTIALS = "credentials go in `auth` as references ({env: NAME} or {store: NAME}), never in a URL"


def check_no_userinfo(url: str, what: str) -> str:
    """``url`` unchanged, or ``ValueError`` when it carries a user or password (shown redacted)."""
    from jnx.adapters.urls import redact_url

    try:
        netloc = urlsplit(url).netloc
    except ValueError as exc:
        raise ValueError(f"{what} {redact_url(url)!r} is not a valid URL ({exc})") from None
    if "@" in netloc:
        raise ValueError(f"{what} {redact_url(url)!r} holds a user or password: {_NO_CREDENTIALS}")
    return url


class LineConfig(_Model):
    """One endpoint URL of a system (线路); the first line listed is the primary.

    Only ``http://`` and ``https://`` with a host, and never a user or password: those are refused
    when the registration is loaded, not found at run time. Errors never echo the input.
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    url: str
    name: str | None = None

    @field_validator("url")
    @classmethod
    def _http_without_credentials(cls, url: str) -> str:
        from jnx.adapters.urls import redact_url

        url = check_no_userinfo(url.strip(), "line URL")
        parts = urlsplit(url)
        if parts.scheme.lower() not in LINE_SCHEMES:
            shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
            raise ValueError(
                f"line URL {redact_url(url)!r} has {shown}: a line is reached over HTTP, write http:// or https://"
            )
        if not parts.hostname:
            raise ValueError(f"line URL {redact_url(url)!r} has no host")
        return url


class Timeouts(_Model):
    connect: float = Field(5.0, gt=0, description="seconds to open a connection")
    read: float = Field(30.0, gt=0, description="seconds to wait for each read of the answer")


class RetryConfig(_Model):
    """Exponential backoff with full jitter between ``initial`` and ``maximum`` seconds."""

    attempts: int = Field(5, ge=1, description="calls at most, the first included")
    initial: float = Field(0.5, ge=0)
    maximum: float = Field(30.0, ge=0, description="cap on one wait")
    max_retry_after: float = Field(120.0, ge=0, description="cap on a server's Retry-After")


class HealthConfig(_Model):
    """When a line is taken out (线路切换) and when it is probed again."""

    failures_before_down: int = Field(5, ge=1, description="consecutive 5xx/timeouts; refused = at once")
    cooldown: float = Field(30.0, ge=0, description="seconds a down line is skipped")
    max_cooldown: float = Field(600.0, ge=0, description="cool-down doubles per failed probe up to this")


class HmacAuthConfig(_Model):
    """App key + secret, HMAC-SHA256 over method, path, sorted query, timestamp and nonce."""

    kind: Literal["hmac"] = "hmac"
    app_key: str
    secret: SecretRef
    app_key_header: str = "X-App-Key"
    timestamp_header: str = "X-Timestamp"
    nonce_header: str = "X-Nonce"
    signature_header: str = "X-Signature"


class PasswordAuthConfig(_Model):
    """User name + password: WS-Security UsernameToken for SOAP, HTTP Basic for REST."""

    kind: Literal["password"] = "password"
    username: str
    password: SecretRef
    digest: bool = Field(False, description="SOAP: PasswordDigest instead of PasswordText")


class TokenAuthConfig(_Model):
    """A static token sent in a header: ``Authorization: Bearer …`` or ``X-Api-Token: …``."""

    kind: Literal["token"] = "token"
    token: SecretRef
    header: str = "Authorization"
    prefix: str = "Bearer "


AuthConfig = Annotated[HmacAuthConfig | PasswordAuthConfig | TokenAuthConfig, Field(discriminator="kind")]


class RecordFilter(_Model):
    """Which records of a feed belong to this pull: ``field`` (a dotted path) holds one of ``in``.

    For a feed that mixes record types (the case-handling ``coercions``: 强制措施 and 强制执行), one pull
    per type with the same path, each with its own ``where`` — the records of the other types are the
    other pulls'."""

    field: str = Field(description="dotted path, inside a record, of the field that tells its type (qzlx)")
    in_: list[str] = Field(alias="in", min_length=1, description="the values that route a record to this pull")


class RecordSpec(_Model):
    """Where records are in an answer and what identifies them."""

    record_type: str = Field(description="e.g. license, penalty, coercive_measure, inspection_result")
    records_path: str = Field(description="dotted path to the list of records in the answer")
    key_field: str = Field(description="dotted path, inside a record, of its source key")
    updated_field: str | None = Field(None, description="dotted path of its update time")
    total_path: str | None = Field(None, description="dotted path of the total count, if given")
    initial_since: str = Field("1970-01-01T00:00:00", description="`since` of the very first pull")
    where: RecordFilter | None = Field(None, description="keep only the records routed to this pull (a mixed feed)")


class ReceiptSpec(_Model):
    """How to read one receipt per item out of the receiver's answer."""

    receipts_path: str = Field("results", description="list of per-item results in the answer")
    match: Literal["index", "key"] = Field("index", description="find an item's result by position or key")
    index_path: str = "index"
    key_path: str = "idempotency_key"
    batch_id_path: str | None = Field("receipt_id", description="the receipt number of the whole answer")
    status_path: str = "status"
    id_path: str | None = "record_id"
    reasons_path: str | None = "reasons"
    reason_field_path: str = "field"
    reason_text_path: str = "message"
    reason_code_path: str | None = "code"
    accepted: tuple[str, ...] = ("accepted", "ACCEPTED", "0", "success")
    rejected: tuple[str, ...] = ("rejected", "REJECTED", "1", "failure")
    queued: tuple[str, ...] = ("queued", "pending", "QUEUED", "PENDING")


class _LinesConfig(_Model):
    model_config = ConfigDict(hide_input_in_errors=True)  # a refused line URL is never echoed

    lines: list[LineConfig] = Field(min_length=1)
    timeouts: Timeouts = Timeouts()
    retry: RetryConfig = RetryConfig()
    health: HealthConfig = HealthConfig()
    page_size: int = Field(100, ge=1, le=10_000)


class SoapPullSpec(RecordSpec):
    operation: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    first_page: int = 1


class SoapPushSpec(_Model):
    operation: str
    arguments: dict[str, Any] = Field(description='"{items}" (a list) or "{item}" (one call per item)')
    receipt: ReceiptSpec = ReceiptSpec()


class SoapConfig(_LinesConfig):
    protocol: Literal["soap"] = "soap"
    wsdl: str | None = Field(None, description="URL or file; default: each line's URL + '?wsdl'")
    service: str | None = None
    port: str | None = None
    auth: PasswordAuthConfig | None = None
    auth_fault_markers: tuple[str, ...] = Field(
        ("auth", "Auth", "FailedAuthentication", "InvalidSecurity", "认证", "密码"),
        description="a SOAP fault whose code or message contains one is an authentication failure",
    )
    pull: list[SoapPullSpec] = Field(default_factory=list)
    push: SoapPushSpec | None = None

    @field_validator("wsdl")
    @classmethod
    def _wsdl_without_credentials(cls, wsdl: str | None) -> str | None:
        return None if wsdl is None else check_no_userinfo(wsdl, "wsdl")

    @model_validator(mode="after")
    def _wsdl_or_lines(self) -> SoapConfig:
        if self.push is not None:
            text = repr(self.push.arguments)
            if "{items}" not in text and "{item}" not in text:
                raise ValueError('push.arguments must contain "{items}" or "{item}"')
        return self


class RestPullSpec(RecordSpec):
    path: str
    params: dict[str, Any] = Field(default_factory=dict)
    ok_path: str | None = Field(None, description="business status in the answer, e.g. `code` or `success`")
    ok_values: list[Any] = Field(default_factory=lambda: [0, True], description="values of ok_path that mean success")
    pagination: Literal["cursor", "page"] = "cursor"
    next_cursor_path: str | None = Field(None, description="cursor pagination: where the next cursor is")
    has_more_path: str | None = Field(None, description="cursor pagination: where the answer says whether more pages follow")
    message_path: str | None = Field("msg", description="where a refusing answer gives its reason (shown in the run's error)")
    first_page: int = 1

    @model_validator(mode="after")
    def _cursor_needs_path(self) -> RestPullSpec:
        if self.pagination == "cursor" and not self.next_cursor_path:
            raise ValueError("cursor pagination needs `next_cursor_path`")
        return self


class RestPushSpec(_Model):
    """A batch POST per record type; the batch's idempotency key derives from its items' keys."""

    paths: dict[str, str] = Field(description="record type → path, e.g. penalty: /api/v1/sgs/xzcf/batch")
    batch_field: str | None = Field("records", description="body = {batch_field: [items]}; None = bare list")
    batch_extra: dict[str, Any] = Field(
        default_factory=dict, description='more body fields; "{batch_no}" and "{record_count}" are filled'
    )
    max_batch: int = Field(100, ge=1)
    idempotency_header: str = "Idempotency-Key"
    item_key_field: str | None = Field(None, description="if set, each item's key is copied into it")
    receipt: ReceiptSpec = ReceiptSpec()


class RestConfig(_LinesConfig):
    protocol: Literal["rest"] = "rest"
    auth: AuthConfig | None = None
    pull: list[RestPullSpec] = Field(default_factory=list)
    push: RestPushSpec | None = None


class DbPullSpec(_Model):
    record_type: str
    table: str
    key_column: str
    updated_column: str
    initial_since: str = "1970-01-01T00:00:00"


class DbPushSpec(_Model):
    """Rows inserted for the other side, which sets ``status_column`` when it has taken them."""

    table: str
    key_column: str = "idempotency_key"
    record_type_column: str = "record_type"
    payload_column: str = "payload"
    status_column: str = "status"
    reason_column: str | None = "reason"
    created_column: str | None = "created_at"
    status_new: str = "0"
    accepted: tuple[str, ...] = ("1",)
    rejected: tuple[str, ...] = ("2",)


class DbFrontConfig(_Model):
    protocol: Literal["dbfront"] = "dbfront"
    url: SecretRef = Field(description="the database URL holds a password, so it is a reference")
    db_schema: str | None = Field(None, alias="schema")
    retry: RetryConfig = RetryConfig()
    health: HealthConfig = HealthConfig()
    page_size: int = Field(500, ge=1, le=100_000)
    pull: list[DbPullSpec] = Field(default_factory=list)
    push: DbPushSpec | None = None


class FilePullSpec(_Model):
    record_type: str
    pattern: str = "*.csv"
    format: Literal["csv", "xml"] = "csv"
    encoding: str | None = Field(None, description="default: the XML declaration, else UTF-8")
    delimiter: str = ","
    key_field: str
    updated_field: str | None = None
    record_element: str | None = Field(None, description="xml: tag of one record element")
    ready_suffix: str | None = Field(None, description="only files with a sibling NAME+suffix (e.g. .ok)")
    partial_suffixes: tuple[str, ...] = (".part", ".tmp", ".partial", ".filepart", ".crdownload")
    min_age_seconds: float = Field(0.0, ge=0, description="skip files modified more recently")
    max_bytes: int = Field(200_000_000, ge=1, description="xml: the largest file read (CSV files are streamed, any size)")

    @field_validator("pattern")
    @classmethod
    def _pattern_inside_folder(cls, value: str) -> str:
        _inside_folder(value, "pattern")
        if "**" in value:
            raise ValueError("`pattern` matches files of the folder itself: no `**`")
        return value

    @model_validator(mode="after")
    def _xml_needs_element(self) -> FilePullSpec:
        if self.format == "xml" and not self.record_element:
            raise ValueError("xml files need `record_element`")
        return self


class FilePushSpec(_Model):
    folder: Path
    file_prefix: str = "jnx"
    encoding: str = "utf-8"


class FileDropConfig(_Model):
    protocol: Literal["files"] = "files"
    folder: Path
    done_folder: str = Field("done", description="committed files move here (relative to folder)")
    page_size: int = Field(1000, ge=1)
    pull: list[FilePullSpec] = Field(default_factory=list)
    push: FilePushSpec | None = None

    @field_validator("done_folder")
    @classmethod
    def _done_inside_folder(cls, value: str) -> str:
        _inside_folder(value, "done_folder")
        if not value.strip() or Path(value) == Path("."):
            raise ValueError("`done_folder` must be a sub-folder of `folder`, e.g. done")
        return value


def _inside_folder(value: str, name: str) -> None:
    """A path of a files registration stays inside its folder: relative, no ``..``, no drive or root."""
    path = Path(value.replace("\\", "/"))
    if path.is_absolute() or value.startswith(("/", "\\", "~")) or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"`{name}` is relative to `folder`: {value!r} is an absolute path")
    if ".." in path.parts:
        raise ValueError(f"`{name}` stays inside `folder`: {value!r} climbs out with `..`")


AdapterConfig = Annotated[SoapConfig | RestConfig | DbFrontConfig | FileDropConfig, Field(discriminator="protocol")]


def fill_placeholders(template: Any, values: dict[str, Any]) -> Any:
    """``template`` with every exact ``"{name}"`` string replaced; ``None`` values drop dict keys."""
    if isinstance(template, dict):
        out: dict[str, Any] = {}
        for key, value in template.items():
            filled = fill_placeholders(value, values)
            if filled is not None or value is None:
                out[key] = filled
        return out
    if isinstance(template, list):
        return [fill_placeholders(v, values) for v in template]
    if isinstance(template, str) and template.startswith("{") and template.endswith("}"):
        name = template[1:-1]
        if name in values:
            return values[name]
    return template
