"""The benchmark scripts refuse bad settings in one line (exit 2) before any measuring starts."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--episodes", "0"], "--episodes must be a positive integer"),
        (["--threads", "-1"], "--threads must be a positive integer"),
        (["--hidden", "1x"], "invalid literal"),
        (["--hidden", "0"], "positive entries"),
        (["--own-env", "underact/Nope-v0"], "unknown environment id"),
        (["--own-genome", "/nonexistent/run"], "is not a run folder"),
    ],
)
def test_bench_agents_refuses_bad_settings_in_one_line(args, message):
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench_agents.py"), "--no-ray", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""
