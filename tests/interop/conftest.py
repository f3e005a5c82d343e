"""Fixtures for the interop tests: independent JavaScript implementations run as oracles.

Each oracle is a Node.js script in this directory (``di.mjs``, ``sdjwt.mjs``) that reads one JSON
request on stdin and writes one JSON result on stdout (see README.md). The ``oracle`` fixture runs a
script and returns the parsed result; a non-zero exit is a harness failure and fails the test.

When Node.js or the npm packages (``make unit`` runs ``npm ci`` here) are missing, the tests are
skipped on a developer machine but FAIL in CI (``CI=true``, or ``TESSERA_REQUIRE_INTEROP=1``):
CI must never pass by silently skipping the interop suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
TIMEOUT_SECONDS = 60

Oracle = Callable[..., dict[str, Any]]


def _interop_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("TESSERA_REQUIRE_INTEROP") == "1"


def _missing_prerequisite() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "Node.js (node) is not on PATH"
    manifest = json.loads((HERE / "package.json").read_text(encoding="utf-8"))
    missing = [name for name in manifest["dependencies"] if not (NODE_MODULES / name / "package.json").is_file()]
    if missing:
        return f"npm packages not installed in {NODE_MODULES} ({', '.join(missing)}); run `make unit` or `npm ci`"
    return None


@pytest.fixture(scope="session")
def node() -> str:
    """The path of the node binary, once the oracles' prerequisites are known to be there."""
    reason = _missing_prerequisite()
    if reason is not None:
        if _interop_required():
            pytest.fail(f"interop oracles unavailable in CI: {reason}", pytrace=False)
        pytest.skip(f"interop oracles unavailable: {reason}")
    path = shutil.which("node")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def oracle(node: str) -> Oracle:
    """``oracle("di.mjs", {"op": "verify", ...})`` → the script's JSON result."""

    def run(script: str, request: dict[str, Any], *, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
        path = HERE / script
        assert path.is_file(), f"no oracle script {script}"
        try:
            proc = subprocess.run(
                [node, str(path)],
                input=json.dumps(request).encode("utf-8"),
                capture_output=True,
                timeout=timeout,
                cwd=HERE,
                check=False,
                env={**os.environ, "NODE_NO_WARNINGS": "1"},
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{script} timed out after {timeout} s on op {request.get('op')!r}", pytrace=False)
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode != 0:
            pytest.fail(
                f"{script} failed (exit {proc.returncode}) on op {request.get('op')!r}\n"
                f"stdout: {stdout[-4000:]}\nstderr: {stderr[-4000:]}",
                pytrace=False,
            )
        try:
            result: dict[str, Any] = json.loads(stdout)
        except json.JSONDecodeError:
            pytest.fail(f"{script} wrote no JSON: {stdout[-2000:]!r}\nstderr: {stderr[-2000:]}", pytrace=False)
        return result

    return run
