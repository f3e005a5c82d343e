"""The counter page (``GET /sessions/{id}/view``): plain HTML, no JavaScript, no external assets.

While the session waits for the wallet, the page shows the QR code (inline SVG), the link as text for
same-device use, and the purpose in every language the policy has, and reloads itself every few
seconds with ``<meta http-equiv="refresh">``. Once answered it shows the result: each check with its
sentence and the claims the policy asked for. Every value is HTML-escaped (claims come from outside).
"""

from __future__ import annotations

from html import escape
from typing import Any

from shared import qr
from shared.dcql import format_path
from verifier.policy import Policy

REFRESH_SECONDS = 3
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "svg{width:min(22rem,90vw);height:auto}.ok{color:#0a5d00}.bad{color:#a00000}"
    "table{border-collapse:collapse}td,th{border:1px solid #888;padding:.25rem .5rem;text-align:left}"
    "code{word-break:break-all}"
)
STATUS_TEXT = {
    "pending": "Waiting for the wallet. Scan the code with your wallet.",
    "fetched": "The wallet has opened the request. Waiting for its answer.",
    "processing": "Checking the answer.",
    "verified": "Verified.",
    "rejected": "Not verified.",
    "declined": "The person declined to share.",
    "expired": "This request has expired.",
}


def _claims_rows(claims: Any, prefix: tuple[str | int | None, ...] = ()) -> list[str]:
    if isinstance(claims, dict):
        return [row for key, value in claims.items() for row in _claims_rows(value, (*prefix, key))]
    if isinstance(claims, list) and claims and all(isinstance(c, (dict, list)) for c in claims):
        return [row for i, value in enumerate(claims) for row in _claims_rows(value, (*prefix, i))]
    text = ", ".join(map(str, claims)) if isinstance(claims, list) else str(claims)
    return [f"<tr><th scope='row'>{escape(format_path(prefix))}</th><td>{escape(text)}</td></tr>"]


def render(status: dict[str, Any], policy: Policy | None, link: str) -> str:
    state = status["status"]
    waiting = state in ("pending", "fetched", "processing")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<meta http-equiv='refresh' content='{REFRESH_SECONDS}'>" if waiting else "",
        f"<title>Tessera verifier – {escape(STATUS_TEXT.get(state, state))}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        "<h1>Share your credential</h1>" if waiting else "<h1>Result</h1>",
    ]
    if policy is not None:
        parts.append("<section aria-label='Purpose'>")
        for lang, text in policy.purpose.items():
            parts.append(f"<p lang='{escape(lang)}'>{escape(text)}</p>")
        parts.append("</section>")
    parts.append(f"<p role='status'><strong>{escape(STATUS_TEXT.get(state, state))}</strong></p>")
    if waiting:
        parts.append(qr.to_svg(link, title="QR code of the presentation request"))
        parts.append(f"<p>On this device: <a href='{escape(link)}'>open the request in your wallet</a>.</p>")
    verdict = status.get("verdict")
    if isinstance(verdict, dict) and verdict.get("checks"):
        parts.append("<h2>Checks</h2><ul>")
        for check in verdict["checks"]:
            mark = {"passed": "✓ passed", "failed": "✗ failed", "skipped": "– skipped"}.get(check["outcome"], "")
            css = "ok" if check["outcome"] == "passed" else "bad" if check["outcome"] == "failed" else ""
            parts.append(
                f"<li class='{css}'><strong>{escape(mark)}</strong> {escape(check['message'])}"
                f" <code>{escape(check['code'])}</code></li>"
            )
        parts.append("</ul>")
    if status.get("claims"):
        parts.append("<h2>Shared information</h2><table><tbody>")
        for query_id, claims in status["claims"].items():
            parts.append(f"<tr><th colspan='2'>{escape(query_id)}</th></tr>")
            parts.extend(_claims_rows(claims))
        parts.append("</tbody></table>")
    parts.append("</main></body></html>")
    return "".join(parts)
