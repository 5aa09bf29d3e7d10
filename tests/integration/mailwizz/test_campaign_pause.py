"""Pausing a MailWizz campaign through its toggle endpoint, against the local MailWizz-shaped API:
read first, toggle only a pausable campaign, never unpause, recover from a race with a hand pause."""

from __future__ import annotations

from dataclasses import dataclass, field

from email_engine.integrations.mailwizz.api import ApiKeyAuth, MailwizzApi
from email_engine.integrations.mailwizz.campaigns import pause_campaign, pause_campaigns
from tests.support.mailwizz_http import FakeMailwizz, running_mailwizz


def _client(fake: FakeMailwizz) -> MailwizzApi:
    return MailwizzApi(base_url=fake.base_url, auth=ApiKeyAuth(fake.api_key))


def test_only_pausable_campaigns_are_toggled_and_never_back() -> None:
    campaigns = {
        "cc00000000001": "sending",
        "cc00000000002": "pending-sending",
        "cc00000000003": "paused",
        "cc00000000004": "sent",
        "cc00000000005": "draft",
    }
    with running_mailwizz(FakeMailwizz(campaigns=dict(campaigns))) as fake, _client(fake) as api:
        results = pause_campaigns(api, [*campaigns, "cc00000000009"])
        assert [(r.campaign_uid, r.outcome, r.status) for r in results] == [
            ("cc00000000001", "paused", "paused"),
            ("cc00000000002", "paused", "paused"),
            ("cc00000000003", "not-pausable", "paused"),
            ("cc00000000004", "not-pausable", "sent"),
            ("cc00000000005", "not-pausable", "draft"),
            ("cc00000000009", "not-found", None),
        ]
        assert fake.campaigns == {**campaigns, "cc00000000001": "paused", "cc00000000002": "paused"}
        puts = [path for method, path in fake.calls if method == "PUT"]
        assert puts == ["/campaigns/cc00000000001/pause-unpause", "/campaigns/cc00000000002/pause-unpause"]
        # A second pass reads them paused and toggles nothing.
        assert {r.outcome for r in pause_campaigns(api, list(campaigns))} == {"not-pausable"}
        assert [path for method, path in fake.calls if method == "PUT"] == puts


@dataclass
class _RacingStore:
    """Someone pauses the campaign by hand between the engine's read and its toggle."""

    status: str = "sending"
    reads: list[str] = field(default_factory=list)

    def campaign_status(self, campaign_uid: str) -> str | None:
        self.reads.append(self.status)
        if len(self.reads) == 1:
            self.status = "paused"  # the hand pause lands right after the engine's GET
            return "sending"
        return self.status

    def set_campaign_status(self, campaign_uid: str, status: str) -> None:
        self.status = status


def test_a_toggle_that_unpaused_a_hand_paused_campaign_is_paused_again() -> None:
    store = _RacingStore()
    with running_mailwizz(FakeMailwizz(campaign_store=store)) as fake, _client(fake) as api:
        result = pause_campaign(api, "cc00000000001")
    # The first toggle met a paused campaign and unpaused it; the engine read again and paused it.
    assert (result.outcome, result.status) == ("paused", "paused")
    assert store.status == "paused"
    assert [method for method, _path in fake.calls] == ["GET", "PUT", "GET", "PUT"]


def test_unreachable_or_failing_api_is_a_retryable_failure() -> None:
    with running_mailwizz(FakeMailwizz(campaigns={"cc00000000001": "sending"}, fail_status=503)) as fake:
        with _client(fake) as api:
            result = pause_campaign(api, "cc00000000001")
        assert (result.outcome, result.retryable) == ("failed", True) and "503" in (result.error or "")
        assert fake.campaigns["cc00000000001"] == "sending"
    with MailwizzApi(base_url="http://127.0.0.1:1", auth=ApiKeyAuth("k"), timeout=1.0) as api:
        down = pause_campaign(api, "cc00000000001")
    assert down.outcome == "failed" and down.retryable and "did not answer" in (down.error or "")
    with running_mailwizz(FakeMailwizz(campaigns={"cc00000000001": "sending"})) as fake:
        with MailwizzApi(base_url=fake.base_url, auth=ApiKeyAuth("wrong-key")) as api:
            refused = pause_campaign(api, "cc00000000001")
        assert (
            refused.outcome == "failed"
            and not refused.retryable
            and "Invalid API key" in (refused.error or "")
        )
    with _client(FakeMailwizz(base_url="http://127.0.0.1:1")) as api:
        bad = pause_campaign(api, "../lists")  # not a campaign uid: refused before any request
    assert bad.outcome == "failed" and not bad.retryable
