"""How provider-references.jsonl was made (run by hand, not by the tests; its inputs are public repositories).

    python tests/data/bounces/transcribe.py SISIMAI_GO_CHECKOUT NO_AUTH_NO_ENTRY_CHECKOUT > provider-references.jsonl

1. Gmail's own SMTP error reference (https://support.google.com/a/answer/3726730), every archived copy of the
   page in azumakuniyuki/feb-2024-no-auth-no-entry (BSD 2-Clause): each table row "code, status, text" is one
   reply, exactly as Google publishes it ("published").
2. The replies Sisimai (sisimai/go-sisimai, BSD 2-Clause) quotes in its rhost tables for Microsoft, Yahoo/AOL,
   Apple iCloud, Orange/La Poste, GoDaddy and Mimecast, each table citing the provider's reference page:
   full replies from its comments ("quoted") and the key phrases it matches, with their code and status
   ("phrase"; Sisimai keeps them lower-cased).
3. provider-pages.yaml, next to this script: replies of Comcast, GMX/WEB.DE, T-Online, Mail.ru, Yandex,
   Proofpoint, Barracuda and Cisco transcribed by hand from those providers' own pages ("published"), or
   quoted in public reports that name the provider's code or reference page ("observed"); each row names its
   source, and where the page says more than the reason alone, its categories or type, with a note.

What each reply means comes from Sisimai's reason for it (mapped to PowerMTA's categories as for the shared
corpus, tests/unit/feedback/sisimai_corpus.py); Google's rows get the reason of the Sisimai phrase they contain,
or the one in MANUAL below, read from Google's own text. Rows whose reason disagrees with the provider's text are
corrected in OVERRIDES, with a note. Duplicate texts (case, quotes and blanks ignored) are kept once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.unit.feedback.reply_tables import expected_type
from tests.unit.feedback.sisimai_corpus import expected_categories

GOOGLE_REFERENCE = "https://support.google.com/a/answer/3726730"
GOOGLE_PAGES = "google-3726730-smtp-errors-and-codes/html/"
PAGES = Path(__file__).with_name("provider-pages.yaml")
PROVIDERS = {
    "aol": "yahoo",
    "apple": "apple",
    "franceptt": "orange",
    "godaddy": "godaddy",
    "google": "gmail",
    "microsoft": "microsoft",
    "mimecast": "mimecast",
    "outlook": "microsoft",
    "yahooinc": "yahoo",
}
FALLBACK_REFERENCE = {"apple": "https://support.apple.com/en-us/HT204137"}
#: Google rows no Sisimai phrase covers: the reason read from Google's text.
MANUAL = [
    ("receiving email too quickly", "speeding"),
    ("peak smtp relay limit", "speeding"),
    ("unusual rate of", "blocked"),
    ("unusual amount of unsolicited", "blocked"),
    ("same message-id", "blocked"),
    ("have a dmarc record", "authfailure"),
    ("issued out of sequence", "syntaxerror"),
    ("helo/ehlo argument", "blocked"),
    ("has a policy that prohibits", "policyviolation"),
    ("likely unsolicited", "spamdetected"),
    ("multiple addresses in the from", "notcompliantrfc"),
    ("this email has been rate limited", "speeding"),
    ("have a ptr record", "requireptr"),
    ("header name limit", "exceedlimit"),
]
OVERRIDES = {
    "550 5.4.310 does not exist": {
        "diag": "550 5.4.310 DNS domain example.com does not exist",
        "categories": ["bad-domain"],
        "note": "Sisimai quotes only 'does not exist' (filed under norelaying); its own comment and Microsoft's "
        "NDR list give the text 'DNS domain ... does not exist': the recipient domain has no DNS, a dead address",
    },
}
REPLY = re.compile(r"^(\d{3})[ -](?:([245]\.\d{1,3}\.\d{1,3})\b)?")
STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


def git(checkout: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(checkout), *args], capture_output=True, text=True, check=True
    ).stdout


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("\u2019", "'").replace('"', "'")).strip()


def unwrap(text: str) -> str:
    """Sisimai wraps long replies in its comments, hyphenating words at the line end."""
    text = re.sub(r"(\w)- (\w)", r"\1\2", text).replace('\\"', '"').rstrip('",').strip()
    return re.sub(r"\s+", " ", text)


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag == "tr":
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(re.sub(r"\s+", " ", "".join(self.cell)).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def sisimai_rows(checkout: Path) -> list[dict[str, str]]:
    commit = git(checkout, "rev-parse", "HEAD").strip()
    rows: list[dict[str, str]] = []
    for name, provider in PROVIDERS.items():
        path = f"rhost/for-{name}.go"
        source = git(checkout, "show", f"HEAD:{path}")
        urls = re.findall(r"@see\s+(https?://\S+)", source) + re.findall(
            r"^\s*//\s+(https?://\S+)\s*$", source, re.M
        )
        reference = next((u for u in urls if "sisimai" not in u), FALLBACK_REFERENCE.get(name))
        via = f"sisimai/go-sisimai@{commit[:12]}:{path}"
        reason = None
        pending: list[str] = []
        current: str | None = None
        for line in source.splitlines():
            if match := re.match(r'^\s*"(\w+)":\s*\[\]', line):
                reason, pending, current = match.group(1), [], None
                continue
            if comment := re.match(r"^\s*//\s?(.*)$", line):
                body = comment.group(1)
                if body.startswith("- "):
                    if current is not None:
                        pending.append(current)
                    current = body[2:].strip()
                elif current is not None and body.startswith("  ") and body.strip():
                    current += " " + body.strip()
                elif current is not None:
                    pending.append(current)
                    current = None
                continue
            if current is not None:
                pending.append(current)
                current = None
            entry = re.match(r'^\s*"([^"]+)":\s*"(\w*)"', line)
            target = entry.group(2) if entry else reason
            for text in map(unwrap, pending):
                if target and REPLY.match(text):
                    rows.append({"provider": provider, "reason": target, "text": text, "form": "quoted"})
            pending = []
            for array in re.findall(r"\[\d\]string\{([^}]*)\}", line):
                parts = re.findall(r'"((?:[^"\\]|\\.)*)"', array)
                if not parts or not reason:
                    continue
                head = parts[:-1]
                if len(parts) == 4 and re.match(
                    r"[245]\.\d", head[0]
                ):  # Microsoft: status, range low, range high
                    status, reply = (head[0] + head[1] if head[0].endswith(".") else head[0]), None
                else:
                    reply = next((p for p in head if re.fullmatch(r"\d{3}", p)), None)
                    status = next((p for p in head if re.match(r"[245]\.\d", p)), None)
                if status and not reply:
                    reply = "451" if status.startswith("4") else "550"
                if reply:
                    text = unwrap(" ".join(x for x in (reply, status, parts[-1].strip()) if x))
                    rows.append({"provider": provider, "reason": reason, "text": text, "form": "phrase"})
        for row in rows:
            row.setdefault("source", reference or "")
            row.setdefault("via", via)
    return rows


def google_rows(checkout: Path, phrases: list[tuple[str, str, str, str]]) -> list[dict[str, str]]:
    commit = git(checkout, "rev-parse", "HEAD").strip()
    pages = sorted(
        p for p in git(checkout, "ls-tree", "-r", "HEAD", "--name-only").split() if p.startswith(GOOGLE_PAGES)
    )
    rows: dict[str, dict[str, str]] = {}
    for page in reversed(pages):  # newest first: keep the newest wording of each text
        table = _Table()
        table.feed(git(checkout, "show", f"HEAD:{page}"))
        date = re.search(r"(\d{4}-\d{2}-\d{2})", page).group(1)  # type: ignore[union-attr]
        for cells in table.rows:
            if (
                len(cells) < 3
                or not re.fullmatch(r"\d{3}", cells[0])
                or not re.fullmatch(r"[245]\.\d+\.\d+", cells[1])
            ):
                continue
            text = f"{cells[0]} {cells[1]} {cells[2]}"
            key = normalised(text)
            if key in rows:
                continue
            low = key
            hits = [p for p in phrases if p[2] in low and (p[1] == cells[1] or p[0] == cells[0])] or [
                p for p in phrases if p[2] in low
            ]
            reason = "userunknown" if cells[1] == "5.1.3" else (hits[0][3] if hits else None)
            reason = reason or next(r for phrase, r in MANUAL if phrase in low)
            rows[key] = {
                "provider": "gmail",
                "reason": reason,
                "text": text,
                "form": "published",
                "source": GOOGLE_REFERENCE,
                "via": f"azumakuniyuki/feb-2024-no-auth-no-entry@{commit[:12]}:{page} (archived {date})",
            }
    return list(rows.values())


def page_rows(path: Path) -> list[dict[str, str]]:
    """The hand-transcribed rows; a row read at its source names no separate `via`."""
    rows = []
    for row in yaml.safe_load(path.read_text(encoding="utf-8"))["rows"]:
        out = {key: value for key, value in row.items() if key != "diag"}
        out.update(text=row["diag"], via=row.get("via") or row["source"])
        if "status" in row:
            out["status"] = str(row["status"])
        rows.append(out)
    return rows


def google_phrases(sisimai: Path) -> list[tuple[str, str, str, str]]:
    phrases = []
    reason = None
    for line in git(sisimai, "show", "HEAD:rhost/for-google.go").splitlines():
        if match := re.match(r'^\s*"(\w+)":\s*\[\]', line):
            reason = match.group(1)
        for array in re.findall(r"\[3\]string\{([^}]*)\}", line):
            reply, status, fragment = re.findall(r'"((?:[^"\\]|\\.)*)"', array)
            phrases.append((reply, status, fragment.lower(), reason or ""))
    return phrases


def main() -> int:
    sisimai, archive = Path(sys.argv[1]), Path(sys.argv[2])
    google = google_rows(archive, google_phrases(sisimai))
    transcribed = sisimai_rows(sisimai)
    # A phrase is kept only when no full reply of the same provider (quoted, or on Google's page) contains it.
    full: dict[str, set[str]] = {"gmail": {normalised(row["text"]) for row in google}}
    for row in transcribed:
        if row["form"] == "quoted":
            full.setdefault(row["provider"], set()).add(normalised(row["text"]))
    seen: set[str] = set()
    for row in [*google, *transcribed, *page_rows(PAGES)]:
        key = normalised(row["text"])
        phrase = REPLY.sub("", key).strip()
        phrase = STATUS.sub("", phrase, count=1).strip() if phrase[:2] in ("4.", "5.", "2.") else phrase
        covered = any(phrase in k for k in full.get(row["provider"], ()))
        if key in seen or (row["form"] == "phrase" and covered and row["text"] not in OVERRIDES):
            continue
        seen.add(key)
        # A hand-transcribed row may say its status, categories, type and why (provider-pages.yaml).
        given = {field: row[field] for field in ("status", "categories", "type", "note") if field in row}
        fix = {**OVERRIDES.get(row["text"], {}), **given}
        diag = fix.get("diag", row["text"])
        categories = sorted(fix.get("categories") or expected_categories(row["reason"], diag))
        reply, status = REPLY.match(diag), STATUS.search(diag)
        code = fix.get("status") or (
            reply.group(2) if reply and reply.group(2) else (status.group(1) if status else f"{diag[0]}.0.0")
        )
        out = {
            "provider": row["provider"],
            "status": code,
            "diag": diag,
            "categories": categories,
            "type": fix.get("type") or str(expected_type(row["reason"], categories, code)),
            "reason": row["reason"],
            "form": row["form"],
            "source": row["source"],
            "via": row["via"],
        }
        if "note" in fix:
            out["note"] = fix["note"]
        print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
