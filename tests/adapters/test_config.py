"""Adapter configuration refused at load time: credentials in line URLs, non-HTTP lines, empty secrets."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from jnx.adapters.config import (
    AdapterConfig,
    MappingSecrets,
    RestConfig,
    SecretRef,
    SoapConfig,
    resolve_secret,
)
from jnx.adapters.factory import build_adapters
from jnx.errors import ConfigError

ADAPTER = TypeAdapter(AdapterConfig)


def rest(url: str, **more: object) -> dict[str, object]:
    return {"protocol": "rest", "lines": [{"url": "http://127.0.0.1:18083"}, {"url": url}], **more}


def refusal(doc: dict[str, object]) -> str:
    with pytest.raises(ValidationError) as info:
        ADAPTER.validate_python(doc)
    return " ".join(error["msg"] for error in info.value.errors())


def test_a_line_url_with_a_password_is_refused_without_echoing_it() -> None:
    message = refusal(rest("http://jnx:s3cret@127.0.0.1:18084/api"))
    assert "credentials go in `auth` as references" in message and "never in a URL" in message
    assert "http://127.0.0.1:18084/api" in message  # which line, redacted
    assert "s3cret" not in message


def test_a_line_url_with_only_a_user_is_refused() -> None:
    assert "holds a user or password" in refusal(rest("https://jnx@127.0.0.1:18084"))


def test_the_adapter_models_do_not_echo_a_refused_url_in_their_error_text() -> None:
    with pytest.raises(ValidationError) as info:
        RestConfig.model_validate(rest("http://jnx:s3cret@127.0.0.1:18084"))
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/drop", "gopher://127.0.0.1:70", "127.0.0.1:18084"])
def test_a_line_that_is_not_http_is_refused_at_load_time(url: str) -> None:
    message = refusal(rest(url))
    assert "a line is reached over HTTP, write http:// or https://" in message


def test_a_line_without_a_host_is_refused() -> None:
    assert "has no host" in refusal(rest("http:///api"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:18084", "https://xk.example.gov.cn/services/Q?wsdl", "HTTP://127.0.0.1"])
def test_http_and_https_lines_are_accepted(url: str) -> None:
    config = ADAPTER.validate_python(rest(url))
    assert config.lines[1].url == url


def test_a_wsdl_url_with_a_password_is_refused() -> None:
    doc = {"protocol": "soap", "lines": [{"url": "http://127.0.0.1:18081/ws"}], "wsdl": "http://u:pw@127.0.0.1:18081/ws?wsdl"}
    assert "holds a user or password" in refusal(doc)
    assert SoapConfig.model_validate(doc | {"wsdl": "/etc/jnx/licensing.wsdl"}).wsdl == "/etc/jnx/licensing.wsdl"


def test_an_empty_environment_variable_is_a_missing_secret() -> None:
    secrets = MappingSecrets({"JNX_CASE_SECRET": ""})
    with pytest.raises(ConfigError, match="JNX_CASE_SECRET") as info:
        secrets.resolve(SecretRef(env="JNX_CASE_SECRET"))
    assert "empty" in info.value.message and info.value.hint and "JNX_CASE_SECRET" in info.value.hint


def test_a_blank_secret_from_any_resolver_is_refused() -> None:
    class Blank:
        def resolve(self, ref: SecretRef) -> str:
            return "  \n"

    with pytest.raises(ConfigError, match="store:credit-token is empty"):
        resolve_secret(Blank(), SecretRef(store="credit-token"))


def test_an_unset_secret_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="env:JNX_CREDIT_TOKEN is not set"):
        MappingSecrets({}).resolve(SecretRef(env="JNX_CREDIT_TOKEN"))


@pytest.mark.parametrize(
    "auth",
    [
        {"kind": "hmac", "app_key": "jnx", "secret": {"env": "EMPTY"}},
        {"kind": "token", "token": {"env": "EMPTY"}},
        {"kind": "password", "username": "jnx", "password": {"env": "EMPTY"}},
    ],
)
def test_no_rest_adapter_is_built_with_an_empty_secret(auth: dict[str, object]) -> None:
    config = ADAPTER.validate_python(rest("http://127.0.0.1:18084", auth=auth))
    with pytest.raises(ConfigError, match="environment variable EMPTY is set but holds nothing"):
        build_adapters(config, MappingSecrets({"EMPTY": ""}))


def test_no_soap_adapter_is_built_with_an_empty_password() -> None:
    config = SoapConfig.model_validate(
        {"lines": [{"url": "http://127.0.0.1:18081/ws"}], "auth": {"kind": "password", "username": "u", "password": {"env": "EMPTY"}}}
    )
    with pytest.raises(ConfigError, match="EMPTY"):
        build_adapters(config, MappingSecrets({"EMPTY": ""}))


def test_no_front_database_is_opened_with_an_empty_url() -> None:
    config = ADAPTER.validate_python({"protocol": "dbfront", "url": {"env": "JNX_FRONT_DB_URL"}})
    with pytest.raises(ConfigError, match="JNX_FRONT_DB_URL"):
        build_adapters(config, MappingSecrets({"JNX_FRONT_DB_URL": ""}))
