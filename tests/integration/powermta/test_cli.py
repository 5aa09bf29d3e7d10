"""email-engine pmta / dkim / dns against the test database and temporary PowerMTA directories."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import typer
from typer.testing import CliRunner

from email_engine.config import Settings, get_settings
from email_engine.errors import InvalidInput, NotFound
from email_engine.integrations.powermta.cli import register
from email_engine.ips import service as ips
from tests.integration.powermta.conftest import NOW, PASSWORD, GuideInventory, pmta_env

BROKEN = Path(__file__).resolve().parents[2] / "data" / "powermta" / "broken" / "config"
Invoke = Callable[..., Any]
EXE = str(Path(sys.executable).parent / "email-engine")


@pytest.fixture
def pmta_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "etc-pmta"
    directory.mkdir()
    return directory


@pytest.fixture
def cli(settings: Settings, ctx: Any, monkeypatch: pytest.MonkeyPatch, pmta_dir: Path) -> Iterator[Invoke]:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    for name, value in pmta_env(pmta_dir).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    # The commands configure logging onto CliRunner's stderr, which is closed afterwards.
    saved = structlog.get_config()
    root = typer.Typer()
    register(root)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
        get_settings.cache_clear()  # a command is a process of its own: it reads its environment
        return runner.invoke(root, list(args), env=env)

    yield invoke
    get_settings.cache_clear()
    structlog.configure(**saved)


def test_render_writes_lintable_files(cli: Invoke, guide_db: GuideInventory, pmta_dir: Path) -> None:
    result = cli("pmta", "render", "--out", str(pmta_dir), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["files"] == ["bounce-classifications", "config", "routing-domains"]
    for name in payload["files"]:
        assert stat.S_IMODE((pmta_dir / name).stat().st_mode) == 0o640
    assert PASSWORD in (pmta_dir / "config").read_text()
    # The rendered config includes its siblings from PMTA_CONFIG_DIR: lint follows them on disk,
    # and warns about the DKIM key the domain-key lines name until it exists.
    lint = cli("pmta", "lint", str(pmta_dir / "config"), "--strict", "--inventory", "--json")
    assert lint.exit_code == 1 and json.loads(lint.stdout)["issues"][0]["code"] == "missing-key"
    assert cli("dkim", "generate", "--domain", "example.com", "--selector", "s2026").exit_code == 0
    lint = cli("pmta", "lint", str(pmta_dir / "config"), "--strict", "--inventory", "--json")
    assert lint.exit_code == 0, lint.output
    report = json.loads(lint.stdout)
    assert report["ok"] is True and len(report["files"]) == 3


def test_lint_reports_the_broken_guide_config(cli: Invoke) -> None:
    result = cli("pmta", "lint", str(BROKEN))
    assert result.exit_code == 1
    assert f"{BROKEN}:19: error: placeholder 'IP1_ADDRESS'" in result.output
    assert f"{BROKEN}:27: error: source IP 192.0.2.11 is already used" in result.output
    assert f"{BROKEN}:15: error:" in result.output and "marketing-pool" in result.output


@pytest.mark.slow
def test_diff_and_deploy_with_rollback(
    cli: Invoke, guide_db: GuideInventory, pmta_dir: Path, tmp_path: Path, ctx: Any
) -> None:
    (pmta_dir / "config").write_bytes(b"# hand-made config\npassword Old-Pass-1234567890\n")
    (pmta_dir / "config").chmod(0o600)
    before = (pmta_dir / "config").read_bytes()

    diff = cli("pmta", "diff", "--json")
    assert diff.exit_code == 1
    changes = json.loads(diff.stdout)
    assert sorted(changes["changed"]) == ["bounce-classifications", "config", "routing-domains"]
    assert PASSWORD not in diff.stdout  # secrets never printed in a diff

    failing = tmp_path / "pmta-reload"
    failing.write_text(
        f"#!{sys.executable}\nimport sys\nprint('config line 7: unknown directive')\nsys.exit(1)\n"
    )
    failing.chmod(0o755)
    result = cli("pmta", "deploy", env={"PMTA_RELOAD_COMMAND": f"{failing} reload"})
    assert result.exit_code == 1
    assert "restored byte for byte" in result.output and "unknown directive" in result.output
    assert (pmta_dir / "config").read_bytes() == before
    assert stat.S_IMODE((pmta_dir / "config").stat().st_mode) == 0o600
    assert not (pmta_dir / "routing-domains").exists()

    marker = tmp_path / "reloaded"
    ok = tmp_path / "pmta-ok"
    ok.write_text(f"#!{sys.executable}\nopen({str(marker)!r}, 'a').write('reload\\n')\n")
    ok.chmod(0o755)
    deployed = cli("pmta", "deploy", "--json", env={"PMTA_RELOAD_COMMAND": str(ok)})
    assert deployed.exit_code == 0, deployed.output
    assert json.loads(deployed.stdout)["reloaded"] is True
    assert marker.read_text() == "reload\n"
    assert cli("pmta", "diff").exit_code == 0
    again = cli("pmta", "deploy", env={"PMTA_RELOAD_COMMAND": str(ok)})
    assert "up to date" in again.output and marker.read_text() == "reload\n"

    # The inventory changes: diff shows the new VMTA, deploy writes it.
    with ctx.session_factory() as session:
        ips.create_ip(
            session, address="192.0.2.20", hostname="mta20.mail.example.com", purpose="marketing",
            vmta_name="vmta-marketing-2", actor="test", now=NOW,
        )  # fmt: skip
        session.commit()
    diff = cli("pmta", "diff")
    assert diff.exit_code == 1 and "+<virtual-mta vmta-marketing-2>" in diff.stdout


def test_dkim_generate_and_dns_records(cli: Invoke, guide_db: GuideInventory, pmta_dir: Path) -> None:
    result = cli("dkim", "generate", "--domain", "example.com", "--selector", "s2026", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    key = Path(payload["key_path"])
    assert key == pmta_dir / "dkim" / "example.com.s2026.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert all(len(chunk) <= 255 for chunk in payload["strings"]) and len(payload["strings"]) >= 2
    again = cli("dkim", "generate", "--domain", "example.com", "--selector", "s2026")
    assert again.exit_code != 0 and "--force" in str(again.exception)
    ed = cli("dkim", "generate", "--domain", "example.com", "--selector", "ed1", "--algorithm", "ed25519")
    assert ed.exit_code == 0 and "k=ed25519" in ed.output

    assert cli("dns", "senders", "example.com", "--pool", "cold-outreach").exit_code == 0
    records = cli("dns", "records", "example.com", "--json")
    assert records.exit_code == 0, records.output
    body = json.loads(records.stdout)
    found = {(r["type"], r["name"]): r["value"] for r in body["records"]}
    assert found[("TXT", "s2026._domainkey.example.com.")] == payload["value"]
    # only the cold-outreach IPs (warming and standby: they send for this domain), never the others
    assert found[("TXT", "example.com.")] == "v=spf1 ip4:192.0.2.12 ip4:192.0.2.13 ip4:192.0.2.14 ~all"
    assert found[("TXT", "bounce.example.com.")] == found[("TXT", "example.com.")]
    assert found[("TXT", "_dmarc.example.com.")].startswith("v=DMARC1; p=none; rua=mailto:")
    assert ("MX", "example.com.") not in found  # sending-only: no invented MX
    assert ("MX", "bounce.example.com.") not in found  # no inbound listener: the note says it is needed
    assert any(note.startswith("bounce.example.com needs an MX record") for note in body["notes"])
    assert found[("PTR", "12.2.0.192.in-addr.arpa.")] == "mta3.mail.example.com."
    assert ("PTR", "10.2.0.192.in-addr.arpa.") not in found
    explicit = json.loads(
        cli("dns", "records", "example.com", "--mx-host", "bounces.example.net", "--json").stdout
    )
    assert {(r["type"], r["name"], r["value"]) for r in explicit["records"] if r["type"] == "MX"} == {
        ("MX", "bounce.example.com.", "10 bounces.example.net.")
    }
    zone = cli("dns", "records", "example.com", "--format", "bind")
    assert (
        zone.exit_code == 0
        and 's2026._domainkey.example.com.\t3600\tIN\tTXT\t"v=DKIM1; k=rsa; p=' in zone.output
    )
    table = cli("dns", "records", "example.com", "--format", "table")
    assert table.exit_code == 0 and "PTR" in table.output


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("dkim", "generate", "--domain", "exa mple.com", "--selector", "s1"), InvalidInput),
        (("dkim", "generate", "--domain", "example.com", "--selector", "s1;rm"), InvalidInput),
        (
            ("dkim", "generate", "--domain", "example.com", "--selector", "s1", "--algorithm", "dsa"),
            InvalidInput,
        ),
        (("dns", "records", "unknown.example"), NotFound),
        (("dns", "senders", "example.com", "--pool", "no-such-pool"), NotFound),
        (("dns", "records", "example.com", "--pool", "no-such-pool"), NotFound),
    ],
)
def test_cli_refusals(
    cli: Invoke, guide_db: GuideInventory, args: tuple[str, ...], error: type[Exception]
) -> None:
    result = cli(*args)
    assert result.exit_code != 0
    assert isinstance(result.exception, error)


@pytest.mark.slow
def test_real_process_exit_codes(settings: Settings, guide_db: GuideInventory, pmta_dir: Path) -> None:
    env = {
        **pmta_env(pmta_dir),
        "DATABASE_URL": settings.database_url,
        "PATH": "/usr/bin:/bin",
        "LOG_LEVEL": "WARNING",
    }
    lint = subprocess.run(
        [EXE, "pmta", "lint", str(BROKEN)], env=env, capture_output=True, text=True, check=False
    )
    assert lint.returncode == 1 and ":19: error: placeholder" in lint.stderr
    missing = subprocess.run(
        [EXE, "dns", "records", "nope.example"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert missing.returncode == 2 and "error:" in missing.stderr and "Traceback" not in missing.stderr


def test_throttle_tables_from_the_cli(cli: Invoke, tmp_path: Path) -> None:
    shown = cli("pmta", "throttles", "show")
    assert shown.exit_code == 0 and shown.stdout.startswith("# source: default")
    edited = tmp_path / "throttles.yaml"
    edited.write_text(shown.stdout.replace("max_msg_rate: 50/h", "max_msg_rate: 45/h", 1), encoding="utf-8")
    stored = cli("pmta", "throttles", "set", str(edited))
    assert stored.exit_code == 0, stored.output
    payload = json.loads(cli("pmta", "throttles", "show", "--json").stdout)
    assert payload["source"] == "database" and payload["tables"]["providers"][0]["max_msg_rate"] == "45/h"
    bad = tmp_path / "bad.yaml"
    for text in ("providers: [", "providers:\n  - name: Evil Name\n", "\\xff\\xfe"):
        bad.write_text(text, encoding="utf-8")
        result = cli("pmta", "throttles", "set", str(bad))
        assert result.exit_code != 0 and isinstance(result.exception, InvalidInput)
    huge = tmp_path / "huge.yaml"
    huge.write_text("#" * (600 * 1024), encoding="utf-8")
    assert isinstance(cli("pmta", "throttles", "set", str(huge)).exception, InvalidInput)
    assert isinstance(cli("pmta", "throttles", "set", str(tmp_path / "absent.yaml")).exception, InvalidInput)
    assert (
        json.loads(cli("pmta", "throttles", "show", "--json").stdout)["tables"]["providers"][0][
            "max_msg_rate"
        ]
        == "45/h"
    )
    assert cli("pmta", "throttles", "reset").exit_code == 0
    assert json.loads(cli("pmta", "throttles", "show", "--json").stdout)["source"] == "default"


def test_dns_senders_per_domain(cli: Invoke, guide_db: GuideInventory, ctx: Any) -> None:
    with ctx.session_factory() as session:
        ips.create_domain(session, name="news.example.net", dkim_selector="s1", bounce_domain=None, now=NOW)
        session.commit()
    empty = json.loads(cli("dns", "senders", "news.example.net", "--json").stdout)
    assert empty == {"domain": "news.example.net", "pools": [], "ips": []}
    result = cli(
        "dns", "senders", "news.example.net", "--pool", "marketing", "--pool", "transactional", "--json"
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["pools"] == ["marketing", "transactional"]
    assert {ip["address"] for ip in body["ips"]} == {"192.0.2.10", "192.0.2.11"}
    records = json.loads(cli("dns", "records", "news.example.net", "--json").stdout)
    spf = next(
        r["value"] for r in records["records"] if r["type"] == "TXT" and r["name"] == "news.example.net."
    )
    assert spf == "v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 ~all"
    # a one-off --pool does not change what is stored
    once = json.loads(cli("dns", "records", "news.example.net", "--pool", "marketing", "--json").stdout)
    assert once["pools"] == ["marketing"]
    assert json.loads(cli("dns", "senders", "news.example.net", "--json").stdout)["pools"] == [
        "marketing",
        "transactional",
    ]
    assert json.loads(cli("dns", "senders", "news.example.net", "--clear", "--json").stdout)["pools"] == []


@pytest.mark.slow
def test_generate_dkim_without_arguments_keys_every_domain_that_has_none(
    settings: Settings, ctx: Any, tmp_path: Path
) -> None:
    """The guide runs scripts/generate-dkim.sh with no arguments: one key per inventory domain lacking one."""
    keys = tmp_path / "keys"
    with ctx.session_factory() as session:
        ips.create_domain(session, name="with-selector.example", dkim_selector="k1", now=NOW)
        ips.create_domain(session, name="bare.example", now=NOW)
        ips.create_domain(session, name="keyed.example", dkim_selector="old", now=NOW)
        session.commit()
    keys.mkdir()
    existing = keys / "keyed.example.old.pem"
    existing.write_bytes(b"kept as it is")
    home = tmp_path / "home"
    (home / ".venv" / "bin").mkdir(parents=True)
    (home / ".venv" / "bin" / "email-engine").symlink_to(EXE)
    script = Path(__file__).resolve().parents[3] / "scripts" / "generate-dkim.sh"
    env = {
        "PATH": "/usr/bin:/bin",
        "EMAIL_ENGINE_HOME": str(home),
        "DKIM_KEY_DIR": str(keys),
        "DATABASE_URL": settings.database_url,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
    }
    run = subprocess.run(
        ["/bin/sh", str(script), "--selector", "s2099", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    rows = {row["domain"]: row for row in json.loads(run.stdout)}
    assert rows["with-selector.example"]["generated"] is True
    assert rows["with-selector.example"]["record"] == "k1._domainkey.with-selector.example"
    assert rows["bare.example"]["selector"] == "s2099"
    assert rows["keyed.example"]["generated"] is False
    assert existing.read_bytes() == b"kept as it is"
    for name, selector in (("with-selector.example", "k1"), ("bare.example", "s2099")):
        key = keys / f"{name}.{selector}.pem"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert rows[name]["value"].startswith("v=DKIM1; k=rsa; p=")
    with ctx.session_factory() as session:
        _total, domains = ips.list_domains(session)
        assert {d.name: d.dkim_selector for d in domains}["bare.example"] == "s2099"
    # A second run (the text form) generates nothing and says so for each domain.
    again = subprocess.run(["/bin/sh", str(script)], env=env, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("has a key already") == 3
