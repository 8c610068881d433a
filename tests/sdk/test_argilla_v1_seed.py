"""The legacy argilla-v1 (1.29.1) comparison-data workflow, run unchanged against Juror."""
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_WORKFLOW = REPO_ROOT.parent / "shared" / "examples" / "seed_workflow.py"
OWNER_API_KEY = "argilla.apikey"


def test_seed_workflow_runs_against_juror(argilla_url):
    assert SEED_WORKFLOW.is_file(), f"seed workflow not found at {SEED_WORKFLOW}"

    result = subprocess.run(
        [sys.executable, str(SEED_WORKFLOW), argilla_url, OWNER_API_KEY],
        capture_output=True,
        text=True,
        timeout=600,
    )

    report = f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr[-6000:]}"
    assert result.returncode == 0, report
    assert "ok:" in result.stdout, report
