"""Validate a CSV file of any size: stream it in chunks, append verdict columns, resume after a crash.

Output goes to ``<output>.part`` files that are renamed into place only when the whole input is
done, so a failed run never leaves a file that looks finished. After every chunk the outputs are
flushed and a checkpoint (rows done, output sizes) is replaced atomically beside them; a resumed
run truncates the outputs to the checkpoint and skips the rows already done.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from email_engine.csv_export import SafeCsvWriter
from email_engine.errors import InvalidInput
from email_engine.validation.service import SuppressionCheck, Validator
from email_engine.validation.verdict import AddressVerdict, Verdict

__all__ = ["CsvPlan", "RunSummary", "inspect_csv", "output_paths", "validate_csv"]

SAMPLE_BYTES = 64 * 1024
SAMPLE_ROWS = 200
CHECKPOINT_VERSION = 1
_EMAIL_HEADER = re.compile(r"^(e[-_ ]?mail|mail|courriel|correo)([-_ ]?(address|addr|adresse))?s?$", re.I)
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class CsvPlan:
    """How to read a file: its dialect, header and which column holds the address."""

    path: Path
    #: How errors name the file: the name the user gave (never the server's absolute path).
    label: str
    delimiter: str
    quotechar: str
    header: list[str]
    email_index: int
    size: int
    mtime_ns: int

    @property
    def email_column(self) -> str:
        return self.header[self.email_index]


@dataclass
class RunSummary:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    risky: int = 0
    unknown: int = 0
    blank_rows: int = 0
    resumed_from_row: int = 0
    email_column: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    def count(self, verdict: Verdict) -> None:
        setattr(self, verdict.value, getattr(self, verdict.value) + 1)


def _read_sample(path: Path, label: str) -> str:
    try:
        with path.open("rb") as handle:
            raw = handle.read(SAMPLE_BYTES)
    except IsADirectoryError as exc:
        raise InvalidInput(f"{label} is a directory, not a CSV file.") from exc
    except OSError as exc:
        raise InvalidInput(f"Cannot read {label}: {exc.strerror or exc}.") from exc
    if not raw.strip():
        raise InvalidInput(f"{label} is empty; it needs a header line and at least one row.")
    if b"\x00" in raw:
        raise InvalidInput(f"{label} looks like a binary file, not CSV text (it contains NUL bytes).")
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        return decoder.decode(raw, final=len(raw) < SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{label} is not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8 CSV."
        ) from exc


def _sniff(sample: str) -> tuple[str, str]:
    try:
        dialect = csv.Sniffer().sniff(sample[:16384], delimiters=",;\t|")
        return dialect.delimiter, dialect.quotechar or '"'
    except csv.Error:
        return ",", '"'


def _looks_like_email(value: str) -> bool:
    at = value.find("@")
    return 0 < at < len(value) - 1 and " " not in value.strip()


def inspect_csv(path: Path, *, column: str | None = None, label: str | None = None) -> CsvPlan:
    """Check that ``path`` is readable UTF-8 CSV and find the address column (or use ``column``).

    Errors name the file ``label`` (default: its file name), so an upload never shows a server path.
    """
    label = label or path.name
    sample = _read_sample(path, label)
    delimiter, quotechar = _sniff(sample)
    lines = sample.splitlines(keepends=True)
    if len(lines) > 1 and len(sample.encode()) >= SAMPLE_BYTES:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    try:
        rows = list(csv.reader(io.StringIO("".join(lines)), delimiter=delimiter, quotechar=quotechar))
    except csv.Error as exc:
        raise InvalidInput(f"{label} is not valid CSV: {exc}.") from exc
    rows = [row for row in rows if row]
    if not rows:
        raise InvalidInput(f"{label} has no header line.")
    header = [name.strip() for name in rows[0]]
    stat = path.stat()

    def plan(index: int) -> CsvPlan:
        return CsvPlan(path, label, delimiter, quotechar, header, index, stat.st_size, stat.st_mtime_ns)

    if column is not None:
        lowered = [name.lower() for name in header]
        if column.lower() in lowered:
            return plan(lowered.index(column.lower()))
        if column.isdigit() and 1 <= int(column) <= len(header):
            return plan(int(column) - 1)
        raise InvalidInput(
            f"{label} has no column {column!r}; its columns are: {', '.join(header)} "
            "(a 1-based column number works too)."
        )
    if any(_looks_like_email(name) for name in header):
        raise InvalidInput(
            f"The first line of {label} holds an address, not column names; add a header line (e.g. 'email')."
        )
    for index, name in enumerate(header):
        if _EMAIL_HEADER.match(name):
            return plan(index)
    data = rows[1 : SAMPLE_ROWS + 1]
    if data:
        scores = [
            sum(1 for row in data if index < len(row) and _looks_like_email(row[index]))
            for index in range(len(header))
        ]
        best = max(range(len(header)), key=scores.__getitem__)
        if scores[best] * 2 >= len(data):
            return plan(best)
    raise InvalidInput(
        f"No email column found in {label}; its columns are: {', '.join(header) or '(none)'}. "
        "Name the column with --column."
    )


def output_paths(output: Path, *, split: bool) -> dict[str, Path]:
    """The files a run writes: ``main`` and, with ``split``, one per verdict beside it."""
    paths = {"main": output}
    if split:
        suffix = output.suffix or ".csv"
        for verdict in Verdict:
            paths[verdict.value] = output.with_name(f"{output.stem}.{verdict.value}{suffix}")
    return paths


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _checkpoint_path(output: Path) -> Path:
    return output.with_name(output.name + ".checkpoint.json")


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _extra_columns(header: list[str]) -> list[str]:
    names = ["verdict", "reasons", "suggestion"]
    taken = {name.lower() for name in header}
    return [f"validation_{name}" if name in taken else name for name in names]


def _load_checkpoint(output: Path, plan: CsvPlan, split: bool) -> dict[str, Any] | None:
    path = _checkpoint_path(output)
    if not path.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"The checkpoint {path.name} is damaged; run again without --resume.") from exc
    expected = {
        "version": CHECKPOINT_VERSION,
        "input": str(plan.path.resolve()),
        "size": plan.size,
        "mtime_ns": plan.mtime_ns,
        "column": plan.email_index,
        "split": split,
    }
    if any(data.get(key) != value for key, value in expected.items()):
        raise InvalidInput(
            f"{plan.label} or the options changed since the interrupted run; run again without --resume."
        )
    return data


def _rows(handle: IO[str], plan: CsvPlan) -> Iterator[list[str]]:
    reader = csv.reader(handle, delimiter=plan.delimiter, quotechar=plan.quotechar)
    try:
        yield from reader
    except csv.Error as exc:
        raise InvalidInput(f"{plan.label} is not valid CSV near line {reader.line_num}: {exc}.") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{plan.label} is not UTF-8 text near line {reader.line_num + 1}; save it as UTF-8 CSV."
        ) from exc


def validate_csv(
    plan: CsvPlan,
    output: Path,
    *,
    validator: Validator,
    suppression: SuppressionCheck | None = None,
    split: bool = False,
    resume: bool = False,
    chunk_rows: int = 5_000,
    on_progress: ProgressCallback | None = None,
) -> RunSummary:
    """Validate every row of ``plan.path`` into ``output`` (and split files). See the module docstring."""
    paths = output_paths(output, split=split)
    checkpoint_path = _checkpoint_path(output)
    state = _load_checkpoint(output, plan, split) if resume else None
    summary = RunSummary(email_column=plan.email_column, outputs={k: str(v) for k, v in paths.items()})
    skip = 0
    if state is not None:
        skip = int(state["rows_done"])
        for key, value in state["summary"].items():
            if key in ("rows", "valid", "invalid", "risky", "unknown", "blank_rows"):
                setattr(summary, key, int(value))
        summary.resumed_from_row = skip
        for key, path in paths.items():
            recorded = int(state["sizes"][key])
            if not _part(path).exists() or _part(path).stat().st_size < recorded:
                raise InvalidInput(
                    f"The partial output {_part(path).name} is missing or shorter than its checkpoint; "
                    "run again without --resume."
                )
            with _part(path).open("ab") as partial:
                partial.truncate(recorded)
    extra = _extra_columns(plan.header)
    files: dict[str, IO[str]] = {}
    try:
        for key, path in paths.items():
            files[key] = _part(path).open("a" if state is not None else "w", encoding="utf-8", newline="")
        writers = {
            key: SafeCsvWriter(handle, delimiter=plan.delimiter, quotechar=plan.quotechar)
            for key, handle in files.items()
        }
        with plan.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", errors="strict")
            rows = _rows(text, plan)
            header = next(rows, None)
            if header is None:
                raise InvalidInput(f"{plan.label} has no header line.")
            if state is None:
                for writer in writers.values():
                    writer.writerow([*header, *extra])
            done = 0
            for _ in range(skip):
                if next(rows, None) is None:
                    break
                done += 1
            chunk: list[list[str]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= chunk_rows:
                    done += _process(
                        chunk,
                        plan,
                        validator=validator,
                        suppression=suppression,
                        writers=writers,
                        summary=summary,
                    )
                    chunk = []
                    _save_checkpoint(
                        checkpoint_path,
                        plan,
                        split=split,
                        done=done,
                        summary=summary,
                        files=files,
                        paths=paths,
                    )
                    if on_progress is not None:
                        on_progress(done, raw.tell())
            if chunk:
                done += _process(
                    chunk,
                    plan,
                    validator=validator,
                    suppression=suppression,
                    writers=writers,
                    summary=summary,
                )
            if on_progress is not None:
                on_progress(done, plan.size)
        for handle in files.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        for path in paths.values():
            os.replace(_part(path), path)
        checkpoint_path.unlink(missing_ok=True)
        return summary
    except BaseException as exc:
        for handle in files.values():
            if not handle.closed:
                handle.close()
        # Bad input cannot be resumed, and a run without a checkpoint has nothing to resume from:
        # leave nothing behind that looks like output. Otherwise keep the parts for --resume.
        if isinstance(exc, InvalidInput) or not checkpoint_path.exists():
            for path in paths.values():
                _part(path).unlink(missing_ok=True)
            checkpoint_path.unlink(missing_ok=True)
        raise


def _save_checkpoint(
    path: Path,
    plan: CsvPlan,
    *,
    split: bool,
    done: int,
    summary: RunSummary,
    files: dict[str, IO[str]],
    paths: dict[str, Path],
) -> None:
    sizes = {}
    for key, handle in files.items():
        handle.flush()
        os.fsync(handle.fileno())
        sizes[key] = _part(paths[key]).stat().st_size
    _write_json_atomically(
        path,
        {
            "version": CHECKPOINT_VERSION,
            "input": str(plan.path.resolve()),
            "size": plan.size,
            "mtime_ns": plan.mtime_ns,
            "column": plan.email_index,
            "split": split,
            "rows_done": done,
            "sizes": sizes,
            "summary": asdict(summary),
        },
    )


def _process(
    chunk: list[list[str]],
    plan: CsvPlan,
    *,
    validator: Validator,
    suppression: SuppressionCheck | None,
    writers: dict[str, SafeCsvWriter],
    summary: RunSummary,
) -> int:
    index = plan.email_index
    blank = [not "".join(row).strip() for row in chunk]
    addresses = [
        (row[index] if index < len(row) else "") for row, empty in zip(chunk, blank, strict=True) if not empty
    ]
    verdicts = iter(validator.validate_sync(addresses, suppression=suppression))
    main = writers["main"]
    split_writers = {verdict: writers.get(verdict.value) for verdict in Verdict}
    counts = dict.fromkeys(Verdict, 0)
    for row, empty in zip(chunk, blank, strict=True):
        if empty:
            summary.blank_rows += 1
            continue
        verdict: AddressVerdict = next(verdicts)
        label = verdict.verdict  # a StrEnum: written as its value
        out = [*row, label, ";".join(verdict.reasons), verdict.suggestion or ""]
        main.writerow(out)
        split_writer = split_writers[label]
        if split_writer is not None:
            split_writer.writerow(out)
        counts[label] += 1
    for label, count in counts.items():
        setattr(summary, label.value, getattr(summary, label.value) + count)
    summary.rows += sum(counts.values())
    return len(chunk)
