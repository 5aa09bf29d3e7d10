"""The directive reference (``reference.yaml``) against the User's Guide it cites, and the rendered
configuration against the reference.

- every example line the reference copied from the guide passes the linter's value check (so the
  linter accepts what PowerMTA's own documentation writes);
- every entry cites a section whose title names it;
- every directive and block in the rendered guide configuration (with and without the inbound
  processors) is in the reference, in a context it allows, with a source.
"""

from __future__ import annotations

import re

import pytest

from email_engine.integrations.powermta.config_tree import parse_tree
from email_engine.integrations.powermta.linter import lint_files
from email_engine.integrations.powermta.rates import format_rate_at_most, rate_per_hour
from email_engine.integrations.powermta.reference import PATTERN_BLOCKS, reference
from email_engine.integrations.powermta.renderer import CONFIG_FILE, RenderedConfig, render_config
from email_engine.integrations.powermta.tables import default_tables
from email_engine.integrations.powermta.values import FORMS, check_value
from tests.unit.powermta.guide import SAMPLE_RULES, guide_inventory, guide_settings

REF = reference()
EXAMPLES = [
    (name, use.form, use.example)
    for name, uses in sorted(REF.directives.items())
    for use in uses
    if use.example
]


def test_the_reference_is_large_and_every_form_is_implemented() -> None:
    assert len(REF.directives) >= 300  # the guide's directive index (§14) and chapter 10/12 additions
    used = {use.form for uses in REF.directives.values() for use in uses if isinstance(use.form, str)}
    assert used <= set(FORMS)
    assert len(EXAMPLES) >= 250


@pytest.mark.parametrize(("name", "form", "example"), EXAMPLES, ids=[f"{n}:{e[:30]}" for n, _, e in EXAMPLES])
def test_every_guide_example_passes_its_value_form(
    name: str, form: str | tuple[str, ...], example: str
) -> None:
    directive, _, value = example.partition(" ")
    assert directive == name
    assert check_value(form, value) is None


def test_every_entry_cites_a_section_that_names_it() -> None:
    for name, uses in REF.directives.items():
        for use in uses:
            title = REF.sections[use.source]
            if re.fullmatch(r"3\.3\.\d+\.\d+(\.\d+)?", use.source) and use.source != "3.3.7.8":
                assert name in title, (name, use.source, title)
    for block in REF.blocks.values():
        assert block.source in REF.sections


def _rendered(**settings: object) -> RenderedConfig:
    return render_config(guide_inventory(), guide_settings(**settings), default_tables(), SAMPLE_RULES)


@pytest.mark.parametrize(
    "settings",
    [{}, {"inbound_listener": "0.0.0.0:25", "fbl_addresses": ("fbl@fbl.example.com",)}],
    ids=["guide", "with-inbound-processors"],
)
def test_every_rendered_line_is_in_the_reference_with_a_source(settings: dict[str, object]) -> None:
    rendered = _rendered(**settings)
    tree = parse_tree(rendered.files, entry=CONFIG_FILE, pattern_blocks=PATTERN_BLOCKS)
    seen_directives, seen_blocks = set(), set()
    for block in tree.root.walk():
        if block.parent is not None:
            spec = REF.blocks[block.tag]
            assert block.parent.tag in spec.contexts
            assert REF.cite(spec.source)
            seen_blocks.add(block.tag)
        for item in block.directives:
            use = REF.use(item.name, block.tag)
            assert use is not None, (item.name, block.tag)
            assert use.source and REF.sections[use.source]
            assert not use.deprecated, item.name
            seen_directives.add(item.name)
    assert {"mx-rollup-list", "spool", "domain", "virtual-mta", "smtp-pattern-list"} <= seen_blocks
    assert "mx" in seen_directives and "backoff-max-msg-rate" in seen_directives
    assert (
        lint_files(
            rendered.files, entry=CONFIG_FILE, expected_ips=rendered.expected_ips, vmtas=rendered.vmtas
        ).issues
        == []
    )


@pytest.mark.parametrize(
    ("form", "value"),
    [
        ("rate", "50 per hour"),
        ("rate", "0/h"),  # N must be non-zero (§3.3.10.33)
        ("rate", "5/w"),
        ("rate", "-1/h"),
        ("interval", "10 minutes"),
        ("interval", "m10"),
        ("boolean", "maybe"),
        ("boolean", "1"),
        ("domain-macro", "gmail-domains gmail.com"),
        ("listener", "[::]:25"),
        ("listener", "0.0.0.0"),
        ("http-access", "10/8 superuser"),
        ("smtp-source-host", "mta1.example.com"),
        ("smtp-source-host", "192.0.2.1"),
        ("domain-key", "s1,example.com"),
        ("record-types", "d,zz"),
        ("record-fields", "rb *,vmta"),
        ("record-fields", "tq *,header_x-id"),  # tq records have no header fields (§11.2.5)
        ("header-mapping", "tq header_x-foo rcpt"),
        ("header-mapping", "d x-foo rcpt"),
        ("mx-rollup", "*.google.com gmail"),
        ("mx-rollup", "*.google.com gmail.rollup by-ip"),
        ("pattern-reply", "/x/ mode=backoff,mode=normal"),
        ("pattern-reply", "/x/ reenable-after=1h"),
        ("pattern-reply", "/x/"),
        ("pattern-reply", "/x/ slow-down"),
        ("smtp-hosts", "lookup-mx example.com"),
        ("port", "70000"),
        ("email", "postmaster"),
    ],
)
def test_values_outside_their_form_are_refused(form: str, value: str) -> None:
    assert check_value(form, value) is not None


@pytest.mark.parametrize(
    ("rate", "per_hour"),
    [("50/h", 50), ("1/m", 60), ("83/10m", 498), ("1/2h", 0.5), ("24/day", 1), ("1/sec", 3600), ("0", 0)],
)
def test_rates_are_exact(rate: str, per_hour: float) -> None:
    assert rate_per_hour(rate) == per_hour
    assert rate_per_hour("unlimited") is None


@pytest.mark.parametrize("per_hour", ["0.01", "0.5", "0.99", "1", "7.5", "100", "1/30000"])
def test_a_rate_is_written_at_most_as_fast_as_asked(per_hour: str) -> None:
    from fractions import Fraction

    wanted = Fraction(per_hour)
    written = format_rate_at_most(wanted)
    assert check_value("rate", written) is None
    value = rate_per_hour(written)
    assert value is not None and 0 < value <= wanted
