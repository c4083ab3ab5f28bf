"""The licensing platform: two SOAP 1.1 document/literal services with WS-Security UsernameToken.

- ``/services/LicenseQueryService`` — the city licensing system, ``QueryLicenses`` (§1 of
  docs/source-shapes.md);
- ``/axis/services/XkxxService`` — the provincial system, ``GetXkxxList`` with legacy field codes
  (§1b), a second WSDL to prove a SOAP system can be connected by configuration alone.

Requests are parsed with entity resolution, DTDs and network access off.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from xml.sax.saxutils import escape

from lxml import etree

from jnx.sandbox.data import BEIJING, parse_since
from jnx.sandbox.faults import FaultDecision, FaultState
from jnx.sandbox.feed import Feed, SourceRecord
from jnx.sandbox.httpserver import Platform, Request, Response

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
XML_TYPE = "text/xml; charset=utf-8"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)


class SoapFault(Exception):
    def __init__(self, code: str, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def fault_response(code: str, message: str, status: int = 500) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:wsse="{WSSE}">'
            f"<soap:Body><soap:Fault><faultcode>{escape(code)}</faultcode><faultstring>{escape(message)}</faultstring>"
            "</soap:Fault></soap:Body></soap:Envelope>")
    return Response(status, body.encode(), XML_TYPE)


def _element(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


@dataclass(frozen=True)
class SoapService:
    """One service: its path, WSDL/XSD files, operation, argument names and record rendering."""

    path: str
    wsdl: str
    xsd: str
    namespace: str
    operation: str
    since_arg: str
    page_arg: str
    size_arg: str
    max_size: int
    record_element: str
    user: str
    password: str
    feed: Feed
    render_response: Callable[[int, int, int, bytes], bytes]

    def document(self, name: str, address: str) -> bytes:
        text = resources.files("jnx.sandbox").joinpath("wsdl", name).read_text("utf-8")
        return text.replace("@ADDRESS@", address).encode()


def license_xml(record: SourceRecord) -> bytes:
    parts = [_element(k, v) for k, v in record.fields.items() if v is not None]
    parts.append(_element("gxsj", record.updated.astimezone(BEIJING).isoformat()))
    return ("<license>" + "".join(parts) + "</license>").encode()


def province_xml(record: SourceRecord) -> bytes:
    return ("<XKXX>" + "".join(_element(k, v) for k, v in record.fields.items() if v is not None) + "</XKXX>").encode()


def _license_response(total: int, page: int, size: int, items: bytes) -> bytes:
    return (b'<tns:QueryLicensesResponse xmlns:tns="http://xzxk.jining.gov.cn/ws/license/2021" '
            b'xmlns="http://xzxk.jining.gov.cn/ws/license/2021">'
            + f"<total>{total}</total><pageNo>{page}</pageNo><pageSize>{size}</pageSize>".encode()
            + b"<records>" + items + b"</records></tns:QueryLicensesResponse>")


def _province_response(total: int, page: int, size: int, items: bytes) -> bytes:
    return (b'<GetXkxxListResponse xmlns="http://sjgx.sdzwfw.gov.cn/xkxx"><GetXkxxListResult>'
            + f"<ZS>{total}</ZS><YM>{page}</YM>".encode() + items + b"</GetXkxxListResult></GetXkxxListResponse>")


def check_username_token(header: etree._Element | None, user: str, password: str) -> None:
    """WS-Security UsernameToken, PasswordText or PasswordDigest (Base64(SHA-1(nonce + created + password)))."""
    token = header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken") if header is not None else None
    if token is None:
        raise SoapFault("wsse:InvalidSecurity", "缺少 WS-Security UsernameToken (MISSING_SECURITY_HEADER)")
    given_user = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
    pw = token.find(f"{{{WSSE}}}Password")
    if pw is None or not hmac.compare_digest(given_user, user):
        raise SoapFault("wsse:FailedAuthentication", "认证失败: 用户名或密码错误 (AUTH_FAILED)")
    kind = pw.get("Type", "#PasswordText")
    if kind.endswith("#PasswordDigest"):
        try:
            nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "", validate=True)
        except binascii.Error:
            nonce = b""
        created = token.findtext(f"{{{WSU}}}Created") or ""
        expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
        ok = hmac.compare_digest(expected, (pw.text or "").strip())
    else:
        ok = hmac.compare_digest((pw.text or "").encode(), password.encode())
    if not ok:
        raise SoapFault("wsse:FailedAuthentication", "认证失败: 用户名或密码错误 (AUTH_FAILED)")


class LicensingPlatform(Platform):
    name = "licensing"
    xml = True

    def __init__(self, faults: FaultState, services: list[SoapService]) -> None:
        super().__init__(faults)
        self.services = {s.path: s for s in services}

    def is_data_request(self, request: Request) -> bool:
        return request.method == "POST"

    def error_response(self, status: int) -> Response:
        return fault_response("soap:Server", "服务繁忙，请稍后重试 (sandbox fault)", status)

    def advance(self) -> int:
        return sum(s.feed.advance() for s in self.services.values())

    def handle(self, request: Request, decision: FaultDecision) -> Response:
        service = self.services.get(request.path)
        if service is None:
            return Response(404, f"no service at {request.path}; services: {', '.join(self.services)}".encode(), "text/plain; charset=utf-8")
        if request.method == "GET":
            host = request.headers.get("Host") or "127.0.0.1"
            if "wsdl" in {k.lower() for k in request.query}:
                return Response(200, service.document(service.wsdl, f"http://{host}{service.path}"), XML_TYPE)
            if "xsd" in request.query:
                return Response(200, service.document(service.xsd, ""), XML_TYPE)
            return Response(200, f"{service.operation} service; WSDL at {service.path}?wsdl".encode(), "text/plain; charset=utf-8")
        try:
            return self._call(service, request, decision)
        except SoapFault as exc:
            return fault_response(exc.code, exc.message, exc.status)

    def _call(self, service: SoapService, request: Request, decision: FaultDecision) -> Response:
        try:
            root = etree.fromstring(request.body, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise SoapFault("soap:Client", f"请求不是合法的 XML: {exc} (MALFORMED_REQUEST)") from exc
        if root.getroottree().docinfo.doctype:
            raise SoapFault("soap:Client", "请求不得包含 DTD (DTD_FORBIDDEN)")
        check_username_token(root.find(f"{{{SOAP_ENV}}}Header"), service.user, service.password)
        call = root.find(f"{{{SOAP_ENV}}}Body/{{{service.namespace}}}{service.operation}")
        if call is None:
            raise SoapFault("soap:Client", f"未知操作，本服务只提供 {service.operation} (UNKNOWN_OPERATION)")
        try:
            since = parse_since(call.findtext(f"{{{service.namespace}}}{service.since_arg}"))
            page = int(call.findtext(f"{{{service.namespace}}}{service.page_arg}") or "1")
            size = int(call.findtext(f"{{{service.namespace}}}{service.size_arg}") or "0")
        except ValueError as exc:
            raise SoapFault("soap:Client", f"参数错误: {exc} (INVALID_ARGUMENT)") from exc
        if page < 1 or not 1 <= size <= service.max_size:
            raise SoapFault("soap:Client", f"参数错误: {service.page_arg} ≥ 1, {service.size_arg} 超出范围 1-{service.max_size} (INVALID_ARGUMENT)")
        first = service.feed.index_since(since)
        _, _, blobs = service.feed.snapshot()
        total = len(blobs) - first
        start = first + (page - 1) * size
        if decision.duplicate and page > 1:
            start -= size // 2 or 1  # the page repeats the tail of the previous one
        items = b"".join(blobs[max(start, first): first + page * size])
        body = (f'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'.encode()
                + service.render_response(total, page, size, items) + b"</soap:Body></soap:Envelope>")
        return Response(200, body, XML_TYPE, page=True)


def build_services(licenses: Feed, province: Feed, credentials: Mapping[str, str]) -> list[SoapService]:
    return [
        SoapService("/services/LicenseQueryService", "license.wsdl", "license.xsd", "http://xzxk.jining.gov.cn/ws/license/2021",
                    "QueryLicenses", "modifiedSince", "pageNo", "pageSize", 500, "license",
                    credentials["licensing_user"], credentials["licensing_password"], licenses, _license_response),
        SoapService("/axis/services/XkxxService", "province.wsdl", "province.xsd", "http://sjgx.sdzwfw.gov.cn/xkxx",
                    "GetXkxxList", "startTime", "page", "rows", 200, "XKXX",
                    credentials["province_user"], credentials["province_password"], province, _province_response),
    ]

