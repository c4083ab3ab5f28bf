"""Operations: what the big-data centre watches jnx with (docs/operations.md).

* :mod:`jnx.ops.health` — ``/healthz`` (alive) and ``/readyz`` (database, schema, key store).
* :mod:`jnx.ops.metrics` — ``/metrics`` in the Prometheus text format, counts read from the database.
* :mod:`jnx.ops.logs` — one JSON object per log line (``JNX_LOG_FORMAT=json``) with correlation ids.
* :mod:`jnx.ops.listener` — the small HTTP listener of ``jnx serve --metrics-port``.
* :mod:`jnx.ops.alerts`, :mod:`jnx.ops.checks`, :mod:`jnx.ops.notify`, :mod:`jnx.ops.watch` — alerts:
  evaluated, opened once, resolved, sent to a signed webhook and by e-mail.
* :mod:`jnx.ops.workers` — the registry of ``jnx serve`` processes and the NOTIFY wake-up of idle workers;
  :mod:`jnx.ops.serving` assembles what ``jnx serve`` runs beside its workers.
* :mod:`jnx.ops.status` — `jnx status`, the operator's screen.
"""
