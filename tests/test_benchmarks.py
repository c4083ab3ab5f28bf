"""Every benchmark in benchmarks/ runs here at a small size, so none can rot: it must finish, exit 0
and print its figures as JSON. The figures themselves are not judged here (speed is never a timed
test); the full-size runs and their figures are in docs/performance.md.

A new benchmark is added to :data:`SMOKE` with arguments that make it take seconds; a script in
benchmarks/ that is not listed fails :func:`test_every_benchmark_has_a_smoke_run`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

#: script → (small-size arguments, keys its --json output must have)
SMOKE: dict[str, tuple[list[str], set[str]]] = {
    "bench_api.py": (["--records", "2000", "--errors", "300", "--pages", "2"], {"lists", "slowest_p95_ms", "load_average"}),
    "bench_console.py": (["--records", "2000", "--errors", "300", "--repeat", "1"], {"pages", "slowest_median_ms", "all_under_300_ms"}),
    "bench_envelope.py": (["-n", "40", "--processes", "1"], set()),
    "bench_filedrop.py": (["--mb", "0.3,1.5", "--page-size", "200"], {"sizes", "ratio", "within_1_2x"}),
    "bench_exchange.py": (["--records", "600", "--page-size", "200", "--map-processes", "0", "--peer"], {"jnx_over_dlt", "results"}),
    "bench_indicators.py": (["--records", "3000", "--repeat", "1"], {"median_seconds", "under_2_s", "records", "timeliness"}),
    "bench_login.py": (["-n", "3"], {"login_ms_median", "verify_ms_median", "argon2"}),
    "bench_mapping.py": (["--records", "2000"], {"records", "engine_rps", "handwritten_rps", "ratio"}),
    "bench_push.py": (["-n", "60", "--batch", "20", "--workers", "1", "--open-processes", "1"], set()),
}

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_every_benchmark_has_a_smoke_run() -> None:
    assert sorted(p.name for p in BENCHMARKS.glob("bench_*.py")) == sorted(SMOKE)


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_the_benchmark_runs_at_a_small_size_and_prints_its_figures(script: str, tmp_path: Path) -> None:
    arguments, keys = SMOKE[script]
    environment = {k: v for k, v in os.environ.items() if k != "JNX_TEST_DATABASE_URL"}  # SQLite only: seconds, not minutes
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *arguments, "--json"], capture_output=True, text=True,
                          timeout=240, cwd=tmp_path, env=environment, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(figures, dict) and figures, done.stdout
    assert keys <= figures.keys(), sorted(figures)
