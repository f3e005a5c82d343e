"""shared/ is the pure core: importing all of it must not pull in web, UI, database or network code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("fastapi", "starlette", "uvicorn", "textual", "httpx", "sqlalchemy", "requests", "urllib3", "aiohttp")


def test_importing_every_shared_module_pulls_in_no_shell_library() -> None:
    root = Path(__file__).resolve().parents[2]
    modules = sorted(
        ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for p in (root / "shared").rglob("*.py")
        if p.name != "__main__.py"  # running it is the CLI, not an import
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"shared/ imports shell libraries: {out.stdout.strip()}"


def test_no_code_reads_the_reference_folder_beside_the_checkout() -> None:
    root = Path(__file__).resolve().parents[2]
    needle = "../" + "shared"
    offenders = [
        str(p.relative_to(root))
        for folder in ("shared", "issuer", "verifier", "wallet", "tests", "benchmarks")
        for p in (root / folder).rglob("*")
        if p.suffix in {".py", ".mjs", ".js", ".toml"}
        and "node_modules" not in p.parts
        and needle in p.read_text(errors="ignore")
    ]
    assert offenders == []
