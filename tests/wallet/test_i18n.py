"""Every string the wallet shows through the catalogue has a French translation, and placeholders match."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from wallet.i18n import FR, Translator, detect_language

WALLET = Path(__file__).parents[2] / "wallet"


def _msgids() -> set[str]:
    """Literal first arguments of calls to ``t(...)``, ``self.t(...)``, ``args.t(...)``, ``self.app_t(...)``."""
    found: set[str] = set()
    for source in WALLET.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            first = node.args[0]
            if name in {"t", "app_t"} and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    return found


def test_french_is_complete() -> None:
    ids = _msgids()
    assert len(ids) > 40
    assert sorted(ids - FR.keys()) == []


def test_placeholders_match() -> None:
    for msgid, text in FR.items():
        want = {f for _, f, _, _ in string.Formatter().parse(msgid) if f}
        got = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        assert want == got, msgid


def test_language_choice() -> None:
    assert detect_language({"TESSERA_LANG": "fr"}) == "fr"
    assert detect_language({"LANG": "fr_CA.UTF-8"}) == "fr"
    assert detect_language({"LANG": "de_DE.UTF-8"}) == "en"
    assert detect_language({"LC_ALL": "C", "LANG": "fr_FR"}) == "fr"
    assert detect_language({}) == "en"
    assert Translator("fr")("Sent.") == "Envoyé."
    assert Translator("en")("Sent.") == "Sent."
    assert re.search(
        "Reçu", Translator("fr-FR")("Received {title} from {issuer} ({id})", title="a", issuer="b", id="c")
    )
