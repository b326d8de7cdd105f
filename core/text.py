"""Text from the data, made safe for where it goes: a spreadsheet, a terminal, Markdown, a stored message.

Event logs, GitHub answers and CSV files are written by other people: a service may be named
`=HYPERLINK(…)`, a reject may carry a clear-screen escape, an error body may echo the token. Every
edge that shows or stores such text passes it through one of these functions.
"""
from __future__ import annotations

import re

# Contract §3 (OWASP's CSV injection advice): a text cell starting with one of these runs as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# C0 controls except none (newline and tab included: one record is one line), DEL and the C1 controls
# a terminal acts on (CSI, OSC: clear screen, window title, hyperlinks).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Markdown's (and Streamlit's) active characters: links, emphasis, code, headings, HTML, :emoji: and
# $math$. Escaped with a backslash they print as themselves.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")

# Tokens GitHub issues (classic and fine-grained), in case one arrives that was never registered.
_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b")
REDACTED = "[REDACTED]"
_secrets: set[str] = set()


def neutralise_cell(value: object) -> object:
    """A CSV text cell a spreadsheet shows as text: a leading `'` before a formula start (contract §3)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def escape_controls(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\n`), for the terminal."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def escape_markdown(text: str) -> str:
    """`text` shown as itself inside Markdown (no links, emphasis or HTML), control characters escaped."""
    return _MARKDOWN.sub(r"\\\1", escape_controls(text))


def register_secret(value: str) -> None:
    """Remember a secret (the GitHub token) so that `redact` removes it from every message."""
    if value and len(value) >= 4:  # a tiny "secret" would redact ordinary words
        _secrets.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret and anything shaped like a GitHub token replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _GITHUB_TOKEN.sub(REDACTED, text)
