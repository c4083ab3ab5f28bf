"""SOAP through zeep, driven by the WSDL and the registration, not by code.

:class:`SoapService` holds one ``zeep.Client`` (built by the factory, WSDL loaded on first use over
the lines) and a service proxy per line, so failover only changes the address. The operation, its
arguments (with ``{since}``, ``{page}``, ``{page_size}`` placeholders), where the records and the
total are, and which fields are the key and the update time all come from :class:`SoapPullSpec`:
another SOAP system is connected by configuration alone.

zeep and lxml exceptions are translated here: a fault whose code or message carries one of the
configured auth markers → :class:`AuthenticationError` (never retried); other faults →
:class:`RequestRejectedError`; a DTD or entity → :class:`UnsafeXmlError`; broken XML →
:class:`PayloadError`. HTTP statuses are checked before zeep parses (429/5xx other than a SOAP 500
fault → :class:`ServerBusyError` with Retry-After).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
import zeep
import zeep.exceptions
from zeep.helpers import serialize_object
from zeep.proxy import ServiceProxy
from zeep.transports import Transport as ZeepTransport
from zeep.wsse.username import UsernameToken

from jnx.adapters.base import OutboundItem, Page, PayloadEncoding, Receipt, Watermark
from jnx.adapters.config import (
    SoapConfig,
    SoapPullSpec,
    SoapPushSpec,
    fill_placeholders,
)
from jnx.adapters.errors import (
    AuthenticationError,
    PayloadError,
    RequestRejectedError,
    ServerBusyError,
    UnsafeXmlError,
)
from jnx.adapters.lines import Line, scrub_credentials
from jnx.adapters.paging import PageAnswer, PageRequest, paginate
from jnx.adapters.receipts import batch_key, read_receipts
from jnx.adapters.transport import Transport, check_status
from jnx.adapters.urls import redact_url
from jnx.adapters.xmlsafe import DEFAULT_MAX_BYTES, plain_reason, screen, zeep_settings


class CheckedZeepTransport(ZeepTransport):
    """zeep's transport on the shared session, with HTTP statuses checked before zeep parses.

    WSDL and XSD documents are loaded only from the origins (scheme, host, port) of the system's
    lines and WSDL; a document pointing anywhere else is refused.
    """

    allowed_origins: frozenset[str] = frozenset()
    max_bytes: int = DEFAULT_MAX_BYTES

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        response = super().post(address, message, headers)
        check_status(response, redact_url(address), "SOAP call", ok=(500,))  # 500 carries SOAP faults
        media_type = response.headers.get("Content-Type", "text/xml").split(";", 1)[0].strip().lower()
        if response.status_code == 500 and not (media_type.endswith("/xml") or media_type.endswith("+xml")):
            # a failing server's error page, not a fault: transient, the next line is tried
            raise ServerBusyError(f"SOAP call on line {redact_url(address)}: HTTP 500 ({media_type}, not a SOAP fault)", status=500)
        screen(response.content, source=f"SOAP answer from {redact_url(address)}", max_bytes=self.max_bytes)
        return response

    def load(self, url: str) -> bytes:
        if url.startswith(("http://", "https://")):
            if _origin(url) not in self.allowed_origins:
                raise UnsafeXmlError(f"the WSDL refers to {redact_url(url)}, outside the system's lines", source="WSDL")
            response = self.session.get(url, timeout=self.load_timeout)
            check_status(response, redact_url(url), "loading the WSDL")
            screen(response.content, source=redact_url(url), max_bytes=self.max_bytes)
            return response.content
        return super().load(url)


class SoapService:
    """One WSDL, one zeep client, a proxy per line; every call goes through the shared transport."""

    def __init__(
        self,
        config: SoapConfig,
        transport: Transport,
        zeep_transport: ZeepTransport,
        *,
        wsse: UsernameToken | None = None,
    ) -> None:
        self.config = config
        self.transport = transport
        self._zeep_transport = zeep_transport
        self._wsse = wsse
        self._client: zeep.Client | None = None
        self._binding: str | None = None
        self._proxies: dict[str, ServiceProxy] = {}

    def _load(self, line: Line) -> zeep.Client:
        if self._client is None:
            wsdl = self.config.wsdl or f"{line.url}?wsdl"
            if isinstance(self._zeep_transport, CheckedZeepTransport):
                origins = {_origin(u) for u in [wsdl, *(c.url for c in self.config.lines)]}
                self._zeep_transport.allowed_origins = frozenset(origins)
            client = zeep.Client(
                wsdl, transport=self._zeep_transport, settings=zeep_settings(loading_wsdl=True), wsse=self._wsse
            )
            client.settings = zeep_settings()  # answers are parsed with external references forbidden
            proxy = client.bind(self.config.service, self.config.port) if self.config.service else client.service
            self._binding = str(proxy._binding.name)
            self._client = client
        return self._client

    def _proxy(self, line: Line) -> ServiceProxy:
        client = self._load(line)
        if line.url not in self._proxies:
            assert self._binding is not None
            self._proxies[line.url] = client.create_service(self._binding, line.url)
        return self._proxies[line.url]

    def call(self, operation: str, arguments: dict[str, Any]) -> tuple[Any, Line]:
        """``operation(**arguments)`` on a healthy line: the serialised result and the line."""
        what = f"SOAP {operation}"

        def op(line: Line) -> tuple[Any, Line]:
            with translated_zeep_errors(line, what, self.config.auth_fault_markers):
                proxy = self._proxy(line)
                try:
                    method = proxy[operation]
                except AttributeError as exc:
                    known = ", ".join(sorted(proxy._operations))
                    raise RequestRejectedError(f"{what}: the WSDL has no operation {operation!r}; it has: {known}") from exc
                return serialize_object(method(**arguments), dict), line

        return self.transport.call(op, what=what)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()


class translated_zeep_errors:  # noqa: N801 - used as a context manager
    """Translate zeep and lxml exceptions raised inside the block into jnx errors."""

    def __init__(self, line: Line, what: str, auth_markers: tuple[str, ...]) -> None:
        self.where = f"{what} on line {line.label}"
        self.auth_markers = auth_markers

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, RecursionError):
            raise PayloadError(f"{self.where}: the answer nests elements deeper than can be read",
                               hint="a record nested so deep is no record of the standard; ask the platform to check it") from exc
        if exc is None or not isinstance(exc, zeep.exceptions.Error | TypeError | ValueError):
            return
        raise self._translate(exc) from exc

    def _translate(self, exc: BaseException) -> Exception:
        said = _plain_zeep(scrub_credentials(str(getattr(exc, "message", None) or exc)))  # library text may hold a URL
        if isinstance(exc, zeep.exceptions.Fault):
            code = str(exc.code or "")
            text = f"{code} {said}"
            if any(marker in text for marker in self.auth_markers):
                return AuthenticationError(
                    f"{self.where}: credentials refused ({said})",
                    hint="check the user name and the password the registration refers to; jnx did not retry",
                )
            return RequestRejectedError(f"{self.where}: SOAP fault {code}: {said[:500]}")
        if isinstance(exc, zeep.exceptions.DTDForbidden | zeep.exceptions.EntitiesForbidden):
            return UnsafeXmlError(said or type(exc).__name__, source=self.where)
        if isinstance(exc, zeep.exceptions.ExternalReferenceForbidden):
            return UnsafeXmlError(f"external reference {said}", source=self.where)
        if isinstance(exc, zeep.exceptions.TransportError):
            if 200 <= exc.status_code < 300:  # zeep's way of saying the answer was not XML
                size = len(exc.content) if isinstance(exc.content, bytes) else None
                received = f"; {size} bytes received" if size is not None else ""
                return PayloadError(f"{self.where}: malformed XML (HTTP {exc.status_code}: {said[:300]}){received}",
                                    hint="the platform sent a broken answer; the run stops before the watermark moves")
            if exc.status_code >= 500 or exc.status_code == 429:
                return ServerBusyError(f"{self.where}: HTTP {exc.status_code}", status=exc.status_code)
            return RequestRejectedError(f"{self.where}: HTTP {exc.status_code}", status=exc.status_code)
        if isinstance(exc, zeep.exceptions.XMLSyntaxError | zeep.exceptions.XMLParseError):
            return PayloadError(f"{self.where}: malformed XML ({said})")
        if isinstance(exc, TypeError | ValueError | zeep.exceptions.ValidationError | zeep.exceptions.LookupError):
            return RequestRejectedError(f"{self.where}: arguments do not fit the WSDL ({said})")
        return PayloadError(f"{self.where}: {type(exc).__name__}: {said}")


_ZEEP_WRAPPERS = (
    re.compile(r"^Server returned response \(\d+\) with invalid XML: ", re.DOTALL),
    re.compile(r"^Invalid XML content received \((?P<inner>.*)\)\.?$", re.DOTALL),
)


def _plain_zeep(message: str) -> str:
    """What zeep says, without the answer's bytes it appends (``\nContent: b'<?xml …'``, cut off
    mid-document in any message that is shortened) and without libxml2's advice to lift its limits."""
    text = message.split("\nContent: ", 1)[0].strip().rstrip(".")
    text = _ZEEP_WRAPPERS[0].sub("", text)
    inner = _ZEEP_WRAPPERS[1].match(text)
    if inner is not None:
        text = inner.group("inner")
    return plain_reason(text.strip())


class SoapPuller:
    """Pulls one record type by a configured, paged SOAP operation."""

    def __init__(self, service: SoapService, spec: SoapPullSpec, *, page_size: int) -> None:
        self.service = service
        self.spec = spec
        self.page_size = page_size

    def pull(self, watermark: Watermark | None, *, page_size: int | None = None) -> Iterator[Page]:
        return paginate(
            self._fetch,
            self.spec,
            watermark,
            page_size=page_size or self.page_size,
            mode="page",
            first_page=self.spec.first_page,
            encoding=PayloadEncoding.XML,
        )

    def acknowledge(self, page: Page) -> None:
        return None

    def _fetch(self, request: PageRequest) -> PageAnswer:
        arguments = fill_placeholders(self.spec.arguments, request.placeholders())
        data, line = self.service.call(self.spec.operation, arguments)
        return PageAnswer(data, line.label)


class SoapPusher:
    """Pushes through a configured operation: the whole batch as ``{items}`` or one call per ``{item}``."""

    def __init__(self, service: SoapService, spec: SoapPushSpec) -> None:
        self.service = service
        self.spec = spec

    def push(self, batch: list[OutboundItem]) -> list[Receipt]:
        if not batch:
            return []
        per_item = "{item}" in repr(self.spec.arguments)
        groups = [[item] for item in batch] if per_item else [batch]
        receipts: list[Receipt] = []
        for group in groups:
            for item in group:
                if isinstance(item.payload, bytes):
                    raise PayloadError(f"item {item.idempotency_key}: the SOAP pusher sends structured records")
            values: dict[str, Any] = {"items": [dict(i.payload) for i in group], "item": dict(group[0].payload)}  # type: ignore[arg-type]
            values["idempotency_key"] = group[0].idempotency_key if per_item else batch_key(group)
            answer, line = self.service.call(self.spec.operation, fill_placeholders(self.spec.arguments, values))
            receipts += read_receipts(answer, group, self.spec.receipt, source=f"SOAP {self.spec.operation} on {line.label}")
        return receipts
