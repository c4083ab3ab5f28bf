"""Operations: what the big-data centre watches jnx with (docs/operations.md).

* :mod:`jnx.ops.health` — ``/healthz`` (alive) and ``/readyz`` (database, schema, key store).
* :mod:`jnx.ops.metrics` — ``/metrics`` in the Prometheus text format, counts read from the database.
* :mod:`jnx.ops.logs` — one JSON object per log line (``JNX_LOG_FORMAT=json``) with correlation ids.
* :mod:`jnx.ops.listener` — the small HTTP listener of ``jnx serve --metrics-port``.
"""
