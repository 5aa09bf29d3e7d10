"""Linter check of the accounting files (pure): ``rb``/``rs`` and ``f`` records need the processor
that produces them (§12.6, §12.7); fields for record types a file does not write."""

from __future__ import annotations

from email_engine.integrations.powermta.lint_findings import LintRun
from email_engine.integrations.powermta.record_fields import record_type
from email_engine.integrations.powermta.values import split_list

__all__ = ["check_accounting"]


def check_accounting(lint: LintRun) -> None:
    has_bounce = any(True for _ in lint.tree.blocks("bounce-processor"))
    has_fbl = any(True for _ in lint.tree.blocks("feedback-loop-processor"))
    for block in lint.tree.blocks("acct-file"):
        records = [item for item in block.directives if item.name == "records"]
        section = lint.ref.cite_directive("records")
        if len(records) > 1:
            lint.at(records[1], "bad-value", "records may only be defined once per <acct-file>", section)
        kinds = {record_type(kind) for kind in split_list(records[0].value)} if records else {"d", "b"}
        if kinds & {"rb", "rs"} and not has_bounce:
            lint.at(
                records[0],
                "no-bounce-processor",
                "rb/rs records are written only for mail a <bounce-processor> recognised; there is none",
                lint.ref.cite("12.6"),
            )
        if "f" in kinds and not has_fbl:
            lint.at(
                records[0],
                "no-fbl-processor",
                "f records are written only for reports a <feedback-loop-processor> recognised; there is none",
                lint.ref.cite("12.7"),
            )
        for item in block.directives:
            if item.name in ("record-fields", "map-header-to-field") and item.value:
                kind = record_type(item.value.split()[0])
                if kind is not None and kind not in kinds:
                    lint.at(
                        item,
                        "fields-unused",
                        f"{item.name} for {kind!r} records, which this <acct-file> does not write",
                        lint.ref.cite_directive(item.name),
                        severity="warning",
                    )
