"""The console in a real headless Chromium against the real server (see conftest.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.console.render import PAGES
from email_engine.context import AppContext
from email_engine.feedback.bounce import classify_bounce
from email_engine.feedback.ingest import ForwardPolicy, ingest_batch
from email_engine.feedback.models import StatBucket
from email_engine.feedback.records import IngestRecord
from email_engine.feedback.webhook import batch_items
from email_engine.reputation.dnsbl import ZoneResult
from email_engine.reputation.service import record_dnsbl_results
from tests.e2e.conftest import Watched


def test_login_and_overview(open_browser: Callable[[Role], Watched]) -> None:
    watched = open_browser(Role.ADMIN)
    page = watched.page
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.get_by_text("Preflight:").is_visible()
    watched.screenshot("overview")
    watched.assert_clean()


def test_create_an_ip_and_start_a_warmup_plan_and_see_its_curve(
    open_browser: Callable[[Role], Watched],
) -> None:
    watched = open_browser(Role.OPERATOR)
    page = watched.page
    page.get_by_role("link", name="IPs").click()
    assert page.get_by_text("No IPs yet — add one below.").is_visible()
    watched.screenshot("ips-empty")
    page.get_by_label("Address").fill("192.0.2.10")
    page.get_by_label("Hostname (PTR)").fill("mta1.example.com")
    page.get_by_label("VMTA name").fill("vmta-mta1")
    page.get_by_role("button", name="Add IP").click()
    page.wait_for_url("**/ui/ips/*")
    assert page.get_by_role("heading", name="IP 192.0.2.10").is_visible()
    page.get_by_label("Preset").select_option("cold")
    page.get_by_role("button", name="Create warmup plan").click()
    page.wait_for_load_state()
    assert page.get_by_text("created and started.").is_visible()
    chart = page.locator("svg.chart")
    assert chart.is_visible()
    assert chart.locator("polyline.line-planned").count() == 1
    assert chart.locator("polyline.line-limit").count() == 1
    watched.screenshot("ip")
    page.get_by_role("link", name="IPs", exact=True).click()
    assert page.get_by_role("cell", name="1 / 49").is_visible()
    watched.screenshot("ips")
    page.get_by_role("link", name="Warmup").click()
    assert page.get_by_role("cell", name="running").is_visible()
    watched.screenshot("warmup")
    page.get_by_role("link", name="1", exact=True).first.click()
    page.wait_for_url("**/ui/warmup/*")
    assert page.locator("svg.chart polyline.line-planned").count() == 1
    watched.screenshot("warmup-plan")
    watched.assert_clean()


def test_viewer_sees_no_write_control_and_a_forged_post_is_refused(
    open_browser: Callable[[Role], Watched],
) -> None:
    watched = open_browser(Role.VIEWER)
    page = watched.page
    for path in ("/ui/", "/ui/ips", "/ui/warmup"):
        watched.goto(path)
        # The only form that posts is "Log out".
        posting = page.locator("form[method=post]")
        assert posting.count() == 1 and posting.get_attribute("action") == "/ui/logout", path
        assert page.get_by_role("button", name="Add IP").count() == 0
    # A forged post from the same browser (its session cookie goes along) without the form's token.
    answer = page.request.post(
        watched.base + "/ui/ips",
        form={"address": "192.0.2.66", "hostname": "x.example.com", "vmta_name": "x", "purpose": "cold"},
    )
    assert answer.status == 403
    assert "CSRF token is missing or wrong" in answer.text()
    watched.goto("/ui/ips")
    assert page.get_by_text("No IPs yet; an operator adds them").is_visible()
    watched.assert_clean()


def test_upload_10000_rows_watch_progress_and_download(
    open_browser: Callable[[Role], Watched], tmp_path: Path
) -> None:
    domains = ["good.mail.test", "nullmx.mail.test", "missing.mail.test", "v6.mail.test"]
    source = tmp_path / "leads.csv"
    lines = ["id,name,email"] + [f"{i},Lead {i},user{i}@{domains[i % 4]}" for i in range(10_000)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    watched = open_browser(Role.OPERATOR)
    page = watched.page
    page.get_by_role("link", name="Validation").click()
    assert page.get_by_text("No validation jobs yet — upload a CSV above.").is_visible()
    page.locator("input#file").set_input_files(str(source))
    seen: list[float] = []
    page.on(
        "response",
        lambda response: response.url.endswith("/status") and seen.append(float(response.json()["progress"])),
    )
    page.get_by_role("button", name="Upload and validate").click()
    page.wait_for_url("**/ui/validation/*")
    assert page.get_by_text("leads.csv accepted; validating.").is_visible()
    # The page polls the job and reloads when it is done; the bar then stands at 100.
    page.get_by_role("link", name="Every row with its verdict").wait_for(timeout=180_000)
    assert page.locator("progress").get_attribute("value") == "100"
    # The page asked for the progress while the job ran and saw it grow; done, it shows 100 %.
    assert seen and seen == sorted(seen)
    assert page.get_by_text("100 % · 10,000 rows").is_visible()
    watched.screenshot("validation-job")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Every row with its verdict").click()
    download = download_info.value
    assert download.suggested_filename == "leads-validated.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert rows[0][:4] == ["id", "name", "email", "verdict"]
    assert len(rows) == 10_001
    assert {row[3] for row in rows[1:]} <= {"valid", "invalid", "risky", "unknown"}
    page.get_by_role("link", name="All jobs").click()
    page.wait_for_url("**/ui/validation")
    assert page.get_by_role("link", name="leads.csv").is_visible()
    watched.screenshot("validation")
    watched.assert_clean()


def test_every_page_renders_without_console_errors(
    open_browser: Callable[[Role], Watched], ctx: AppContext
) -> None:
    now = utcnow()
    with ctx.session_factory() as session:
        record_dnsbl_results(
            session,
            target="192.0.2.30",
            results=[
                ZoneResult(
                    zone="zen.spamhaus.org",
                    status="listed",
                    codes=("127.0.0.4",),
                    meaning="XBL: exploited host (botnet, infected or open proxy)",
                ),
                ZoneResult(zone="bl.spamcop.net", status="clean"),
            ],
            now=now,
        )
        # A week of statistics, so the charts have something to draw.
        hour = datetime(now.year, now.month, now.day, now.hour, tzinfo=UTC)
        for day in range(7):
            at = hour - timedelta(days=day)
            for key, sent in (
                ("gmail", 900 + 40 * day),
                ("microsoft", 500 - 30 * day),
                ("yahoo", 200 + 9 * day),
            ):
                session.add(
                    StatBucket(
                        hour=at,
                        dimension="provider",
                        key=key,
                        sent=sent,
                        delivered=sent - 20,
                        bounced=20 + day,
                        hard=5,
                        soft=10,
                        block=5 + day,
                        complaints=day % 2,
                        deferred=30,
                    )
                )
            for key, count in (("bad-mailbox", 12 + day), ("spam-related", 6 + 2 * day), ("quota-issues", 3)):
                session.add(
                    StatBucket(
                        hour=at,
                        dimension="category",
                        key=key,
                        sent=0,
                        delivered=0,
                        bounced=count,
                        hard=0,
                        soft=0,
                        block=0,
                        complaints=0,
                        deferred=0,
                    )
                )
            session.add(
                StatBucket(
                    hour=at,
                    dimension="all",
                    key="*",
                    sent=1600,
                    delivered=1540,
                    bounced=60,
                    hard=15,
                    soft=30,
                    block=15 + day,
                    complaints=1,
                    deferred=90,
                )
            )
        # Accounting lines through the real parser and ingest: top diagnostics with their rule, and a
        # dead letter.
        logged = (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S+0000")
        lines = [
            f'b,{logged},{name}@example.com,5.1.1,"smtp;550 5.1.1 user unknown",bad-mailbox,192.0.2.30,v1'
            for name in ("ann", "bob", "cid")
        ] + [
            f'b,{logged},dee@example.org,4.7.0,"smtp;421 4.7.0 Try again later, rate limited",,192.0.2.30,v1'
        ]
        body = "type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat,dlvSourceIp,vmta\r\n" + "\r\n".join(lines)
        items = list(batch_items((body + "\r\nnot,an,accounting line\r\n").encode(), stream="webhook"))
        ingest_batch(
            session,
            [item for item in items if isinstance(item, IngestRecord)],
            [item for item in items if not isinstance(item, IngestRecord)],
            source="webhook",
            now=now,
            forward=ForwardPolicy(),
        )
        session.commit()
    watched = open_browser(Role.ADMIN)
    page = watched.page
    for path, name in PAGES:
        watched.goto(path)
        if name == "Overview":
            assert page.get_by_role("row", name="gmail").is_visible()
            watched.screenshot("overview")
        assert page.get_by_role("heading", name=name, exact=True).is_visible(), path
        assert page.locator("nav [aria-current=page]").inner_text() == name
        if name in ("Operations", "Reputation", "PowerMTA"):
            watched.screenshot(name.lower())
    watched.goto("/ui/feedback")
    page.get_by_label("Address or domain").fill("complainer@example.org")
    page.get_by_label("Note (optional)").fill("asked by phone")
    page.get_by_role("button", name="Suppress").click()
    page.wait_for_load_state()
    assert page.get_by_text("complainer@example.org is suppressed (manual).").is_visible()
    rule = classify_bounce("5.1.1", "550 5.1.1 user unknown", bounce_cat="bad-mailbox").rule
    assert page.get_by_role("row", name=rule).first.is_visible()
    assert page.get_by_text("1 line that was not an accounting record", exact=False).is_visible()
    watched.screenshot("feedback")
    # Keyboard: the skip link is the first stop and leads to the content.
    watched.goto("/ui/ips")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    # Narrow screen (a phone): the page still fits its width.
    page.set_viewport_size({"width": 390, "height": 844})
    watched.goto("/ui/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    watched.screenshot("overview-phone")
    watched.assert_clean()
