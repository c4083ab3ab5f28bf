"""The one place adapters and their clients are built: ``requests.Session``, ``zeep.Client``, engines.

``build_adapters(config, secrets)`` resolves the secrets the config refers to, builds the pooled
session (or the database engine), the lines with their health and the retrying transport, and wires
one puller per configured record type and the pusher. Clients are injected into the adapters, never
created inside them, so tests and the sandbox can hand in their own.
"""

from __future__ import annotations

import time

import requests
from requests.adapters import HTTPAdapter
from zeep.wsse.username import UsernameToken

from jnx.adapters.auth import build_http_auth
from jnx.adapters.base import Adapters
from jnx.adapters.config import (
    AdapterConfig,
    DbFrontConfig,
    FileDropConfig,
    RestConfig,
    SecretResolver,
    SoapConfig,
    resolve_secret,
)
from jnx.adapters.lines import Clock, LineSet
from jnx.adapters.rest import RestPuller, RestPusher
from jnx.adapters.soap import CheckedZeepTransport, SoapPuller, SoapPusher, SoapService
from jnx.adapters.traffic import Traffic
from jnx.adapters.transport import HttpClient, Sleep, Transport


def new_session(pool_size: int = 10) -> requests.Session:
    """A pooled session with requests' own retries off (retries are the transport's job)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "jnx"
    return session


def build_adapters(
    config: AdapterConfig,
    secrets: SecretResolver,
    *,
    session: requests.Session | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    traffic: Traffic | None = None,
) -> Adapters:
    """``traffic`` counts the transport's retries (a new one when not given: ``Adapters.traffic``)."""
    traffic = traffic if traffic is not None else Traffic()
    if isinstance(config, DbFrontConfig):
        from jnx.adapters.dbfront import build_dbfront

        return build_dbfront(config, secrets, sleep=sleep, clock=clock, traffic=traffic)
    if isinstance(config, FileDropConfig):
        from jnx.adapters.files import build_files

        return build_files(config)
    session = session or new_session()
    lines = LineSet([(line.url, line.name) for line in config.lines], config.health, clock=clock)
    transport = Transport(lines, config.retry, sleep=sleep, traffic=traffic)
    adapters = Adapters(lines=lines, _close=[session.close], traffic=traffic)
    if isinstance(config, RestConfig):
        http = HttpClient(session, transport, config.timeouts, auth=build_http_auth(config.auth, secrets))
        adapters.pullers = {spec.record_type: RestPuller(http, spec, page_size=config.page_size) for spec in config.pull}
        adapters.pusher = RestPusher(http, config.push) if config.push else None
        return adapters
    assert isinstance(config, SoapConfig)
    timeouts = (config.timeouts.connect, config.timeouts.read)
    zeep_transport = CheckedZeepTransport(session=session, timeout=timeouts, operation_timeout=timeouts)
    wsse = None
    if config.auth is not None:
        password = resolve_secret(secrets, config.auth.password)
        wsse = UsernameToken(config.auth.username, password, use_digest=config.auth.digest)
    service = SoapService(config, transport, zeep_transport, wsse=wsse)
    adapters.pullers = {spec.record_type: SoapPuller(service, spec, page_size=config.page_size) for spec in config.pull}
    adapters.pusher = SoapPusher(service, config.push) if config.push else None
    return adapters
