"""Read an incident's cause where an issue's text states it ("Caused by #75"), with no I/O.

Contract §2: a cause written in an issue tracker's text in a documented form is an explicit link,
and the rule that read it is kept with the incident. The forms are in docs/github.md (a table, with
what does not count); this module is their one home. It reads what the text says — `#75`, a
commit SHA, a deployment id — and leaves putting it in the repository's terms (which repository
`#75` is in, which deployment `12345` is) to ingest/sql/stg_github__issues.sql, which knows the
repository's settings.

Only plain statements count: text inside code blocks, inline code, quotes, HTML comments (issue
templates' hints) and struck-through text is ignored, and so is a statement hedged by a word such
as "maybe" or "not" earlier in its sentence, or ending in a question mark.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Words that make a statement a guess or a denial when they come earlier in its sentence.
HEDGES = frozenset("""
    maybe perhaps possibly probably likely unlikely might may could would suspect suspected suspicion
    not never isn't wasn't aren't weren't doesn't didn't don't won't cannot can't unclear unsure
    unknown uncertain if whether think believe guess seems seem appears apparently
""".split())

# Text that is not a statement of the author's: removed before reading (fences first, so that a
# back-tick inside a fenced block does not start inline code).
_IGNORED = [
    re.compile(r"^[ \t]*(```|~~~).*?(^[ \t]*\1[^\n]*$|\Z)", re.M | re.S),   # fenced code blocks
    re.compile(r"<!--.*?(-->|\Z)", re.S),                                   # HTML comments
    re.compile(r"`[^`\n]*`"),                                               # inline code
    re.compile(r"~~[^~\n]*~~"),                                             # struck through
    re.compile(r"^[ \t]*>.*$", re.M),                                       # quoted lines
]

_OWNER_REPO = r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+"
# The forms a cause can take, most specific first; the group names are the rule's form.
_REFERENCE = (
    r"(?P<pull_url>https?://[^\s/]+/(?P<pull_repo>" + _OWNER_REPO + r")/pull/(?P<pull_number>[0-9]+))"
    r"|(?P<commit_url>https?://[^\s/]+/" + _OWNER_REPO + r"/commit/(?P<commit_url_sha>[0-9A-Fa-f]{7,40}))"
    r"|(?P<repo_change>(?P<change_repo>" + _OWNER_REPO + r")#(?P<change_number>[0-9]+))"
    r"|(?P<change>\#(?P<number>[0-9]+))"
    r"|(?P<deployment>deployment[ \t]*:?[ \t]*\#?(?P<deployment_id>[A-Za-z0-9][A-Za-z0-9._:/-]*))"
    r"|(?P<sha>[0-9A-Fa-f]{7,40})"
)
# A phrase, then (around an optional colon) spaces and Markdown emphasis, an optional `[` of a
# Markdown link, and the reference, which must end at a word boundary.
_STATEMENT = re.compile(
    r"\b(?P<phrase>caused[ \t]+by|regression[ \t]+from|root[ \t]+cause)\b[ \t*_]*:?[ \t*_]*\[?"
    r"(?P<ref>" + _REFERENCE + r")(?P<after>[*_\]]*[ \t]*\??)(?![\w/#-])",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?;:\n](?=\s|$)|\n")
_WORD = re.compile(r"[a-z']+")
_RULE_FORMS = {
    "pull_url": "pull request URL", "commit_url": "commit URL", "repo_change": "owner/name#N",
    "change": "#N", "deployment": "deployment <id>", "sha": "<sha>",
}


@dataclass(frozen=True)
class Cause:
    """An explicit cause read from text.

    kind: 'change', 'commit' or 'deployment'; ref: as written but tidied — `#75` or `owner/name#75`
    (a pull request URL becomes the latter), a lower-case SHA, a deployment id; rule: which part of
    the issue and which form, e.g. 'body: regression from #N'.
    """

    kind: str
    ref: str
    rule: str


def strip_ignored(text: str) -> str:
    """The text without code, quotes, HTML comments and struck-through parts (each becomes a newline,
    so that it also ends the sentence before it)."""
    for pattern in _IGNORED:
        text = pattern.sub("\n", text)
    return text


def is_hedged(before: str, after: str) -> bool:
    """True when the sentence up to the phrase holds a hedging word, or the reference ends in '?'."""
    if "?" in after:
        return True
    ends = list(_SENTENCE_END.finditer(before))
    clause = before[ends[-1].end():] if ends else before
    return any(word in HEDGES for word in _WORD.findall(clause.lower().replace("\u2019", "'")))


def _cause_of(match: re.Match[str], where: str) -> Cause | None:
    phrase = " ".join(match.group("phrase").lower().split())
    g = match.groupdict()
    form = next(name for name in _RULE_FORMS if g[name] is not None)
    rule = f"{where}: {phrase} {_RULE_FORMS[form]}"
    if form == "pull_url":
        return Cause("change", f"{g['pull_repo']}#{int(g['pull_number'])}", rule)
    if form == "repo_change":
        return Cause("change", f"{g['change_repo']}#{int(g['change_number'])}", rule)
    if form == "change":
        return Cause("change", f"#{int(g['number'])}", rule)
    if form == "commit_url":
        return Cause("commit", g["commit_url_sha"].lower(), rule)
    if form == "sha":
        return Cause("commit", g["sha"].lower(), rule)
    deployment_id = g["deployment_id"].rstrip(".:/-")
    # "caused by deployment of the cache" names no deployment: an id has a digit
    if not re.search(r"[0-9]", deployment_id):
        return None
    return Cause("deployment", deployment_id, rule)


def read_cause_in(text: str | None, where: str) -> Cause | None:
    """The first cause plainly stated in `text` (the part of the issue named by `where`), or None."""
    if not text:
        return None
    plain = strip_ignored(text)
    for match in _STATEMENT.finditer(plain):
        if is_hedged(plain[:match.start()], match.group("after")):
            continue
        cause = _cause_of(match, where)
        if cause is not None:
            return cause
    return None


def read_cause(title: str | None, body: str | None) -> Cause | None:
    """An issue's explicit cause: the first one its body states, else the one its title states."""
    return read_cause_in(body, "body") or read_cause_in(title, "title")
