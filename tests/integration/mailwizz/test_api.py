"""The REST client against a real local HTTP server implementing MailWizz's documented endpoints."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from email_engine.errors import ConfigurationError, DependencyUnavailable, InvalidInput
from email_engine.integrations.mailwizz.api import (
    ApiKeyAuth,
    CredentialError,
    MailwizzApi,
    SignatureAuth,
    mask_email,
    signature_base,
)
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from tests.support.factories import free_port
from tests.support.mailwizz_http import FakeMailwizz, running_mailwizz

LIST = "ab123cd456ef7"
OTHER = "zz999yy888xx7"
EMAIL = "bounced.user@example.com"


@pytest.fixture(params=["api-key", "signature"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeMailwizz]:
    with running_mailwizz(FakeMailwizz(auth=request.param)) as server:
        server.add(LIST, EMAIL, "sub0000000001")
        server.add(OTHER, EMAIL, "sub0000000002")
        yield server


def _client(fake: FakeMailwizz, **changes: str) -> MailwizzApi:
    if fake.auth == "api-key":
        auth: ApiKeyAuth | SignatureAuth = ApiKeyAuth(changes.get("key", fake.api_key))
    else:
        auth = SignatureAuth(fake.public_key, changes.get("key", fake.private_key))
    return MailwizzApi(base_url=fake.base_url, auth=auth, timeout=3.0)


def test_find_subscriber(fake: FakeMailwizz) -> None:
    with _client(fake) as api:
        found = api.find_subscriber(LIST, EMAIL)
        assert found is not None and found.subscriber_uid == "sub0000000001" and found.status == "confirmed"
        assert api.find_subscriber(LIST, "nobody@example.com") is None


def test_unsubscribe_is_idempotent(fake: FakeMailwizz) -> None:
    with _client(fake) as api:
        assert api.unsubscribe(LIST, EMAIL) == "unsubscribed"
        assert fake.status_of(LIST, EMAIL) == "unsubscribed"
        assert fake.status_of(OTHER, EMAIL) == "confirmed"
        assert api.unsubscribe(LIST, EMAIL) == "already"
        assert api.unsubscribe(LIST, "nobody@example.com") == "not-found"
    puts = [call for call in fake.calls if call[0] == "PUT"]
    assert len(puts) == 1


def test_unsubscribe_everywhere(fake: FakeMailwizz) -> None:
    with _client(fake) as api:
        assert api.unsubscribe_everywhere(EMAIL) is True
        assert api.unsubscribe_everywhere("nobody@example.org") is False
    assert fake.status_of(LIST, EMAIL) == fake.status_of(OTHER, EMAIL) == "unsubscribed"


def test_wrong_credentials_are_a_configuration_error_and_change_nothing(fake: FakeMailwizz) -> None:
    with (
        _client(fake, key="wrong-key-wrong-key") as api,
        pytest.raises(ConfigurationError, match="credentials"),
    ):
        api.unsubscribe(LIST, EMAIL)
    assert fake.status_of(LIST, EMAIL) == "confirmed"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key": "wrong-key-wrong-key"}, "Invalid API (key|request signature)"),  # 2.x key, 1.x signature
        ({"allowed_ips": ("203.0.113.9",)}, "Your IP address is not allowed to access this server"),
    ],
)
def test_mailwizz_400_refusals_are_credential_errors_not_not_found(
    fake: FakeMailwizz, change: dict[str, object], message: str
) -> None:
    """MailWizz answers a wrong key or a refused address with HTTP 400 (RequestAccessFilter.php);
    reading that as "subscriber not found" made list syncing silently do nothing."""
    if "allowed_ips" in change:
        fake.allowed_ips = change["allowed_ips"]  # type: ignore[assignment]
        client = _client(fake)
    else:
        client = _client(fake, key=str(change["key"]))
    with client as api:
        for call in (
            lambda: api.find_subscriber(LIST, EMAIL),
            lambda: api.unsubscribe(LIST, EMAIL),
            lambda: api.unsubscribe_everywhere(EMAIL),
            api.check_credentials,
        ):
            with pytest.raises(CredentialError, match=message):
                call()
    assert fake.status_of(LIST, EMAIL) == "confirmed"
    assert all(status == 400 for status in fake.statuses)


def test_check_credentials_counts_the_lists_the_key_sees(fake: FakeMailwizz) -> None:
    with _client(fake) as api:
        assert api.check_credentials() == 2


def test_stale_signature_is_refused() -> None:
    with running_mailwizz(FakeMailwizz(auth="signature")) as fake:
        fake.add(LIST, EMAIL, "sub0000000001")
        stale = SignatureAuth(fake.public_key, fake.private_key, clock=lambda: 1_000_000_000.0)
        with (
            MailwizzApi(base_url=fake.base_url, auth=stale) as api,
            pytest.raises(CredentialError, match="expired"),
        ):
            api.find_subscriber(LIST, EMAIL)


def test_server_errors_and_garbage_are_dependency_unavailable(fake: FakeMailwizz) -> None:
    fake.fail_status = 503
    with _client(fake) as api, pytest.raises(DependencyUnavailable, match="503"):
        api.unsubscribe(LIST, EMAIL)
    fake.fail_status = None
    fake.not_json = True
    with _client(fake) as api, pytest.raises(DependencyUnavailable, match="not JSON"):
        api.unsubscribe(LIST, EMAIL)
    assert fake.status_of(LIST, EMAIL) == "confirmed"


def test_unreachable_api_is_dependency_unavailable() -> None:
    api = MailwizzApi(base_url=f"http://127.0.0.1:{free_port()}/api", auth=ApiKeyAuth("k"), timeout=1.0)
    with pytest.raises(DependencyUnavailable, match="did not answer"):
        api.find_subscriber(LIST, EMAIL)


@pytest.mark.parametrize(
    "list_uid", ["", "ab12/../../customers", "ab 12", "ab12?x=1", "x" * 41, "ab12'; DROP TABLE mw_list; --"]
)
def test_hostile_list_uids_are_refused_before_any_request(fake: FakeMailwizz, list_uid: str) -> None:
    with _client(fake) as api, pytest.raises(InvalidInput):
        api.unsubscribe(list_uid, EMAIL)
    assert fake.calls == []


@pytest.mark.parametrize(
    "email",
    ["", "no-at-sign", "a b@example.com", "a@example.com\r\nX-Injected: 1", "a@b@example.com", "x" * 300],
)
def test_hostile_addresses_are_refused_before_any_request(fake: FakeMailwizz, email: str) -> None:
    with _client(fake) as api, pytest.raises(InvalidInput):
        api.unsubscribe_everywhere(email)
    assert fake.calls == []


def test_signature_base_matches_the_documented_format() -> None:
    base = signature_base(
        "get",
        "https://mw.example.com/api/lists/ab123cd456ef7/subscribers/search-by-email/",
        {"EMAIL": "a+b@example.com"},
        {"X-MW-TIMESTAMP": "1700000000", "X-MW-PUBLIC-KEY": "pub", "X-MW-REMOTE-ADDR": ""},
    )
    assert base == (
        "GET https://mw.example.com/api/lists/ab123cd456ef7/subscribers/search-by-email"
        "?EMAIL=a%2Bb%40example.com&X-MW-PUBLIC-KEY=pub&X-MW-REMOTE-ADDR=&X-MW-TIMESTAMP=1700000000&"
    )
    auth = SignatureAuth("pub", "priv", clock=lambda: 1_700_000_000.5)
    headers = auth.headers("PUT", "https://mw.example.com/api/x", {}, {"EMAIL": "a@example.com"})
    expected = hmac.new(
        b"priv",
        b"PUT https://mw.example.com/api/x?EMAIL=a%40example.com&X-MW-PUBLIC-KEY=pub&X-MW-REMOTE-ADDR=&"
        b"X-MW-TIMESTAMP=1700000000&",
        hashlib.sha1,
    ).hexdigest()
    assert headers["X-MW-SIGNATURE"] == expected


def test_from_settings() -> None:
    url = "https://mw.example.com/api"
    with pytest.raises(ConfigurationError, match="MAILWIZZ_API_KEY"):
        MailwizzApi.from_settings(MailwizzSettings(_env_file=None, MAILWIZZ_API_URL=url))  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="PRIVATE_KEY"):
        MailwizzApi.from_settings(
            MailwizzSettings(_env_file=None, MAILWIZZ_API_URL=url, MAILWIZZ_API_AUTH="signature"),  # type: ignore[call-arg]
        )
    api = MailwizzApi.from_settings(
        MailwizzSettings(_env_file=None, MAILWIZZ_API_URL=url, MAILWIZZ_API_KEY="abc"),  # type: ignore[call-arg]
    )
    assert isinstance(api.auth, ApiKeyAuth)
    api.close()
    with pytest.raises(ConfigurationError, match="MAILWIZZ_API_URL"):
        MailwizzApi.from_settings(MailwizzSettings(_env_file=None))  # type: ignore[call-arg]


def test_mask_email_hides_the_local_part() -> None:
    assert mask_email("jane.doe@example.com") == "j***@example.com"
