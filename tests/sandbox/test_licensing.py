"""The licensing SOAP services: WSDLs zeep accepts, paged queries, WS-Security UsernameToken."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
import requests
from zeep import Client
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

from jnx.sandbox.runner import Credentials, Sandbox
from tests.sandbox.conftest import SANDBOX_RECORDS

pytestmark = pytest.mark.integration
SINCE = dt.datetime(2000, 1, 1)


def city_client(sandbox: Sandbox, creds: Credentials, *, digest: bool = False, password: str | None = None) -> Client:
    token = UsernameToken(creds.licensing_user, password or creds.licensing_password, use_digest=digest)
    return Client(sandbox.url("licensing") + "/services/LicenseQueryService?wsdl", wsse=token)


def test_zeeps_own_command_line_dumps_the_wsdl(sandbox: Sandbox) -> None:
    done = subprocess.run([sys.executable, "-m", "zeep", sandbox.url("licensing") + "/services/LicenseQueryService?wsdl"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "QueryLicenses(modifiedSince: xsd:dateTime, pageNo: xsd:int, pageSize: xsd:int)" in done.stdout


@pytest.mark.parametrize("digest", [False, True], ids=["PasswordText", "PasswordDigest"])
def test_zeep_calls_query_licenses_with_a_username_token(sandbox: Sandbox, creds, digest: bool) -> None:
    answer = city_client(sandbox, creds, digest=digest).service.QueryLicenses(modifiedSince=SINCE, pageNo=1, pageSize=10)
    assert answer.total == SANDBOX_RECORDS
    assert len(answer.records.license) == 10
    assert answer.records.license[0].xkid.startswith("XK3708")
    assert answer.records.license[0].gxsj.utcoffset() == dt.timedelta(hours=8)


def test_paging_covers_every_licence_exactly_once(sandbox: Sandbox, creds) -> None:
    service = city_client(sandbox, creds).service
    keys: list[str] = []
    page = 1
    while True:
        answer = service.QueryLicenses(modifiedSince=SINCE, pageNo=page, pageSize=45)
        batch = answer.records.license if answer.records else []
        if not batch:
            break
        keys += [r.xkid for r in batch]
        page += 1
    assert len(keys) == SANDBOX_RECORDS == len(set(keys))


def test_a_wrong_password_is_a_soap_fault_with_an_auth_code(sandbox: Sandbox, creds) -> None:
    for digest in (False, True):
        with pytest.raises(Fault) as caught:
            city_client(sandbox, creds, digest=digest, password="wrong").service.QueryLicenses(modifiedSince=SINCE, pageNo=1, pageSize=1)
        assert caught.value.code == "wsse:FailedAuthentication"
        assert "AUTH_FAILED" in caught.value.message


def test_a_request_without_security_header_is_refused(sandbox: Sandbox) -> None:
    client = Client(sandbox.url("licensing") + "/services/LicenseQueryService?wsdl")
    with pytest.raises(Fault, match="MISSING_SECURITY_HEADER"):
        client.service.QueryLicenses(modifiedSince=SINCE, pageNo=1, pageSize=1)


def test_a_page_size_out_of_range_is_a_client_fault(sandbox: Sandbox, creds) -> None:
    with pytest.raises(Fault, match="INVALID_ARGUMENT"):
        city_client(sandbox, creds).service.QueryLicenses(modifiedSince=SINCE, pageNo=1, pageSize=501)


def test_a_request_with_a_dtd_is_refused_without_expanding_it(sandbox: Sandbox) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&b;</soap:Body></soap:Envelope>')
    answer = requests.post(sandbox.url("licensing") + "/services/LicenseQueryService", data=bomb, timeout=10,
                           headers={"Content-Type": "text/xml"})
    assert answer.status_code == 500 and b"DTD_FORBIDDEN" in answer.content


def test_the_provincial_service_has_its_own_wsdl_and_legacy_field_codes(sandbox: Sandbox, creds) -> None:
    client = Client(sandbox.url("licensing", "backup") + "/axis/services/XkxxService?wsdl",
                    wsse=UsernameToken(creds.province_user, creds.province_password))
    answer = client.service.GetXkxxList(startTime="2000-01-01 00:00:00", page=1, rows=200)
    assert answer.ZS == SANDBOX_RECORDS // 5 == len(answer.XKXX)
    first = answer.XKXX[0]
    assert first.XK_WSH.startswith("鲁济审批许字") and len(first.XK_JDRQ) == 8


def test_the_wsdl_address_is_the_line_it_was_fetched_from(sandbox: Sandbox) -> None:
    for line in ("primary", "backup"):
        url = sandbox.url("licensing", line)
        wsdl = requests.get(url + "/services/LicenseQueryService?wsdl", timeout=10).text
        assert f'location="{url}/services/LicenseQueryService"' in wsdl
