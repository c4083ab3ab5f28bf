"""How long a login takes with the chosen Argon2id cost; prints milliseconds per login.

    .venv/bin/python benchmarks/bench_login.py [-n 20] [--time-cost T] [--memory-kib M] [--parallelism P] [--json]

Measured: ``Accounts.login`` for a user in a fresh SQLite database (look the user up, check the rate
limits, verify the Argon2id hash, open a session, write the attempt), committed, ``-n`` times; and the
hash verification alone. The cost defaults to the settings' (``JNX_ACCOUNTS__ARGON2_…``: 3 passes,
64 MiB, 1 lane). Target on the 2-core reference machine: 50–250 ms per login — slow enough that
guessing offline from a stolen hash costs, fast enough that a login stays quick and a burst of
logins does not starve the server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jnx.security.accounts import Accounts  # noqa: E402
from jnx.security.passwords import Hasher  # noqa: E402
from jnx.settings import AccountSettings  # noqa: E402
from jnx.store.db import (  # noqa: E402
    create_engine_for,  # noqa: E402
    session_factory,
    upgrade,
)

PASSWORD = "Bench#Login2026"


def main() -> None:
    defaults = AccountSettings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20, help="logins to time")
    parser.add_argument("--time-cost", type=int, default=defaults.argon2_time_cost)
    parser.add_argument("--memory-kib", type=int, default=defaults.argon2_memory_kib)
    parser.add_argument("--parallelism", type=int, default=defaults.argon2_parallelism)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    settings = AccountSettings(argon2_time_cost=args.time_cost, argon2_memory_kib=args.memory_kib,
                               argon2_parallelism=args.parallelism, login_limit_per_account=10**6,
                               login_limit_per_address=10**6)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'jnx.db'}"
        upgrade(url)
        engine = create_engine_for(url)
        factory = session_factory(engine)
        with factory.begin() as session:
            Accounts(session, settings, note=lambda *_: None).add("bench", "bench.user", roles=["operator"], password=PASSWORD)
        login_ms: list[float] = []
        for _ in range(args.n):
            started = time.perf_counter()
            with factory.begin() as session:
                result = Accounts(session, settings, note=lambda *_: None).login("bench.user", PASSWORD, address="127.0.0.1")
            login_ms.append((time.perf_counter() - started) * 1000)
            if result.error is not None:
                raise SystemExit(f"login failed: {result.error}")
        engine.dispose()
    hasher = Hasher.from_settings(settings)
    stored = hasher.hash(PASSWORD)
    verify_ms: list[float] = []
    for _ in range(args.n):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        verify_ms.append((time.perf_counter() - started) * 1000)
    figures: dict[str, Any] = {
        "argon2": {"time_cost": args.time_cost, "memory_kib": args.memory_kib, "parallelism": args.parallelism},
        "logins": args.n,
        "login_ms_median": round(statistics.median(login_ms), 1),
        "login_ms_max": round(max(login_ms), 1),
        "verify_ms_median": round(statistics.median(verify_ms), 1),
        "target_ms": [50, 250],
        "in_target": 50 <= statistics.median(login_ms) <= 250,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"Argon2id t={args.time_cost} m={args.memory_kib} KiB p={args.parallelism}: login "
              f"{figures['login_ms_median']} ms median ({figures['login_ms_max']} ms max) over {args.n}; "
              f"hash verification alone {figures['verify_ms_median']} ms; target 50–250 ms: "
              f"{'met' if figures['in_target'] else 'NOT met'}")


if __name__ == "__main__":
    main()
