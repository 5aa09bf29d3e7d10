"""MailWizz's REST API (httpx): find a subscriber by email, unsubscribe it from one list or all;
read a campaign's status and pause it.

Used to sync hard bounces and complaints into MailWizz (off by default,
``MAILWIZZ_SYNC_SUPPRESSIONS``) and, when the failover job stops an IP because the list or the
content is the cause, to pause the campaigns that were sending through it (:mod:`campaigns`).
Delivery servers are not reachable through this API; see
:mod:`email_engine.integrations.mailwizz.database`.

Authentication (``MAILWIZZ_API_AUTH``), as MailWizz documents it:

- ``api-key`` (MailWizz 2.x and 3.x): the key in an ``X-Api-Key`` header (``MAILWIZZ_API_KEY``).
- ``signature`` (MailWizz 1.x): ``X-MW-PUBLIC-KEY``, ``X-MW-TIMESTAMP``, ``X-MW-REMOTE-ADDR`` and
  ``X-MW-SIGNATURE`` = hex HMAC-SHA1, keyed with the private key, of
  ``"<METHOD> <url>[?<sorted query>]<? or &><sorted, percent-encoded header and body params>&"``
  (the scheme of MailWizz's official SDKs; ``MAILWIZZ_API_PUBLIC_KEY`` / ``MAILWIZZ_API_PRIVATE_KEY``).

Request bodies are form-encoded; answers are JSON ``{"status": "success"|"error", ...}``.

Errors::

    InvalidInput           a list uid or address that cannot be sent as given, or another 400
    ConfigurationError     settings missing
    └── CredentialError    MailWizz refused who we are: its API answers HTTP 400 (not 401) with
                           "Invalid API key", "Your IP address is not allowed to access this
                           server" and the like (apps/api/components/web/filters/RequestAccessFilter.php)
    DependencyUnavailable  MailWizz unreachable, timed out, answered 5xx or not JSON
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlencode

import httpx
import structlog

from email_engine.errors import ConfigurationError, DependencyUnavailable, InvalidInput
from email_engine.integrations.mailwizz.settings import MailwizzSettings

__all__ = [
    "CREDENTIAL_ERRORS",
    "ApiKeyAuth",
    "CredentialError",
    "MailwizzApi",
    "SignatureAuth",
    "Subscriber",
    "check_campaign_uid",
    "check_email",
    "check_list_uid",
    "mask_email",
    "signature_base",
]

log = structlog.get_logger(__name__)

_LIST_UID = re.compile(r"[A-Za-z0-9]{1,40}")
_SUBSCRIBER_UID = re.compile(r"[A-Za-z0-9]{1,40}")
#: MailWizz routes campaign endpoints only for ``<campaign_uid:([a-z0-9]+)>`` (apps/api/config/main.php);
#: the uid is ``char(13)`` in ``{prefix}campaign``.
_CAMPAIGN_UID = re.compile(r"[a-z0-9]{1,13}")
_EMAIL = re.compile(r"[^\s@\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,253}")
#: What MailWizz's RequestAccessFilter answers, with HTTP 400, when it refuses the caller (2.x/3.x
#: and the 1.x signature scheme): the key, the signature, the caller's IP, the account.
CREDENTIAL_ERRORS = (
    "Invalid API request params",
    "Invalid API key",
    "Invalid API request signature",
    "Your request expired",
    "Your IP address is not allowed to access this server",
    "Your account must be active in order to use the API",
    "Your account is not allowed to use the API",
    "You do not have enough permissions to access this endpoint",
)


class CredentialError(ConfigurationError):
    """MailWizz refused the engine's API credentials (or its address); retrying cannot help."""

    code = "mailwizz_credentials_refused"


def mask_email(email: str) -> str:
    """``j***@example.com``: enough to follow a log line, not a full recipient address."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def check_email(email: str) -> str:
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("That is not an email address MailWizz can look up.")
    return email


def check_list_uid(list_uid: str) -> str:
    if not _LIST_UID.fullmatch(list_uid):
        raise InvalidInput(
            f"{list_uid!r} is not a MailWizz list uid (letters and digits, like ab123cd456ef7)."
        )
    return list_uid


def check_campaign_uid(campaign_uid: str) -> str:
    if not _CAMPAIGN_UID.fullmatch(campaign_uid):
        raise InvalidInput(
            f"{campaign_uid!r} is not a MailWizz campaign uid (13 lower-case letters and digits)."
        )
    return campaign_uid


class Auth(Protocol):
    def headers(
        self, method: str, url: str, query: Mapping[str, str], body: Mapping[str, str]
    ) -> dict[str, str]: ...


@dataclass(frozen=True)
class ApiKeyAuth:
    """MailWizz 2.x/3.x."""

    key: str

    def headers(
        self, method: str, url: str, query: Mapping[str, str], body: Mapping[str, str]
    ) -> dict[str, str]:
        return {"X-Api-Key": self.key}


def signature_base(method: str, url: str, query: Mapping[str, str], signed_params: Mapping[str, str]) -> str:
    """The string MailWizz 1.x signs (see the module docstring)."""
    request_url = url.rstrip("/")
    separator = "?"
    if query:
        request_url += "?" + urlencode(sorted(query.items()))
        separator = "&"
    encoded = "".join(
        f"{quote(str(key))}={quote(str(signed_params[key]))}&" for key in sorted(signed_params, key=str.lower)
    )
    return f"{method.upper()} {request_url}{separator}{encoded}"


@dataclass(frozen=True)
class SignatureAuth:
    """MailWizz 1.x: public key plus an HMAC-SHA1 signature with the private key."""

    public_key: str
    private_key: str
    clock: Callable[[], float] = time.time

    def headers(
        self, method: str, url: str, query: Mapping[str, str], body: Mapping[str, str]
    ) -> dict[str, str]:
        headers = {
            "X-MW-PUBLIC-KEY": self.public_key,
            "X-MW-REMOTE-ADDR": "",
            "X-MW-TIMESTAMP": str(int(self.clock())),
        }
        base = signature_base(method, url, query, {**headers, **body})
        digest = hmac.new(self.private_key.encode(), base.encode(), hashlib.sha1).hexdigest()
        return {**headers, "X-MW-SIGNATURE": digest}


@dataclass(frozen=True)
class Subscriber:
    subscriber_uid: str
    status: str


class MailwizzApi:
    def __init__(
        self,
        *,
        base_url: str,
        auth: Auth,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError("MAILWIZZ_API_URL must start with http:// or https://.")
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    @classmethod
    def from_settings(cls, settings: MailwizzSettings) -> MailwizzApi:
        if not settings.api_url:
            raise ConfigurationError("MAILWIZZ_API_URL is not set.")
        auth: Auth
        if settings.api_auth == "api-key":
            if settings.api_key is None or not settings.api_key.get_secret_value():
                raise ConfigurationError("MAILWIZZ_API_AUTH=api-key needs MAILWIZZ_API_KEY.")
            auth = ApiKeyAuth(settings.api_key.get_secret_value())
        else:
            private = settings.api_private_key
            if not settings.api_public_key or private is None or not private.get_secret_value():
                raise ConfigurationError(
                    "MAILWIZZ_API_AUTH=signature needs MAILWIZZ_API_PUBLIC_KEY and MAILWIZZ_API_PRIVATE_KEY."
                )
            auth = SignatureAuth(settings.api_public_key, private.get_secret_value())
        return cls(base_url=settings.api_url, auth=auth, timeout=settings.api_timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> MailwizzApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(
        self,
        method: Literal["GET", "PUT"],
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        url = f"{self.base_url}/{path}"
        query = dict(query or {})
        body = dict(body or {})
        headers = self.auth.headers(method, url, query, body)
        try:
            response = self._client.request(
                method, url, params=sorted(query.items()) or None, data=body or None, headers=headers
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailable(
                f"MailWizz's API at {self.base_url} did not answer ({type(exc).__name__}); retry later."
            ) from None
        if response.status_code in (401, 403):
            raise CredentialError(
                f"MailWizz refused the API credentials (HTTP {response.status_code}); check MAILWIZZ_API_AUTH "
                "and the keys."
            )
        if response.status_code >= 500:
            raise DependencyUnavailable(
                f"MailWizz's API failed with HTTP {response.status_code}; retry later."
            )
        try:
            payload = response.json()
        except ValueError:
            raise DependencyUnavailable(
                f"MailWizz's API answered HTTP {response.status_code} with something that is not JSON."
            ) from None
        if not isinstance(payload, dict):
            raise DependencyUnavailable("MailWizz's API answered with JSON that is not an object.")
        if response.status_code == 400:
            _raise_for_400(payload)
        return response.status_code, payload

    def check_credentials(self) -> int:
        """One cheap authenticated call (``GET lists``, as the official SDK's ``getLists``); the number
        of lists the key sees. Raises :class:`CredentialError` when MailWizz refuses the key or address."""
        status, payload = self._call("GET", "lists", query={"page": "1", "per_page": "1"})
        if status != 200 or payload.get("status") != "success":
            raise DependencyUnavailable(f"MailWizz's API answered HTTP {status} to GET lists.")
        data = payload.get("data")
        count = data.get("count", 0) if isinstance(data, dict) else 0
        return int(count) if str(count).isdigit() else 0

    def find_subscriber(self, list_uid: str, email: str) -> Subscriber | None:
        """The subscriber with this address in the list, or None."""
        path = f"lists/{check_list_uid(list_uid)}/subscribers/search-by-email"
        status, payload = self._call("GET", path, query={"EMAIL": check_email(email)})
        if status == 404 or payload.get("status") != "success":
            return None
        data = payload.get("data")
        if not isinstance(data, dict) or not _SUBSCRIBER_UID.fullmatch(str(data.get("subscriber_uid", ""))):
            return None
        return Subscriber(subscriber_uid=str(data["subscriber_uid"]), status=str(data.get("status", "")))

    def unsubscribe(self, list_uid: str, email: str) -> Literal["unsubscribed", "already", "not-found"]:
        """Unsubscribe the address from one list (find it, then PUT …/unsubscribe)."""
        subscriber = self.find_subscriber(list_uid, email)
        if subscriber is None:
            return "not-found"
        if subscriber.status in ("unsubscribed", "blacklisted"):
            return "already"
        path = f"lists/{list_uid}/subscribers/{subscriber.subscriber_uid}/unsubscribe"
        status, payload = self._call("PUT", path)
        if payload.get("status") != "success":
            raise DependencyUnavailable(f"MailWizz did not unsubscribe the address (HTTP {status}).")
        log.info("mailwizz.unsubscribed", list_uid=list_uid, email=mask_email(email))
        return "unsubscribed"

    def unsubscribe_everywhere(self, email: str) -> bool:
        """Unsubscribe the address from every list of the customer (used for complaints)."""
        status, payload = self._call(
            "PUT",
            "lists/subscribers/unsubscribe-by-email-from-all-lists",
            body={"EMAIL": check_email(email)},
        )
        if status == 404:
            return False
        if payload.get("status") != "success":
            raise DependencyUnavailable(
                f"MailWizz did not unsubscribe the address everywhere (HTTP {status})."
            )
        log.info("mailwizz.unsubscribed_everywhere", email=mask_email(email))
        return True

    def campaign_status(self, campaign_uid: str) -> str | None:
        """``GET campaigns/{uid}`` (CampaignsController::actionView): the campaign's ``status``
        (``data.record.status``), or None when MailWizz answers 404 "The campaign does not exist."
        (also what it answers for another customer's campaign: it loads by uid *and* the key's
        customer_id, and never a ``pending-delete`` one)."""
        status, payload = self._call("GET", f"campaigns/{check_campaign_uid(campaign_uid)}")
        if status == 404:
            return None
        data = payload.get("data")
        record = data.get("record") if isinstance(data, dict) else None
        if payload.get("status") != "success" or not isinstance(record, dict) or "status" not in record:
            raise DependencyUnavailable(f"MailWizz answered HTTP {status} without a campaign record.")
        return str(record["status"])

    def pause_unpause(self, campaign_uid: str) -> str | None:
        """``PUT campaigns/{uid}/pause-unpause`` (CampaignsController::actionPause_unpause). It
        *toggles* (``Campaign::pauseUnpause()``: a paused campaign is unpaused, any other is paused
        if ``getCanBePaused()``), so call it only after :meth:`campaign_status` said the campaign can
        be paused. The status MailWizz answers with (``campaign.status``), or None on 404."""
        status, payload = self._call("PUT", f"campaigns/{check_campaign_uid(campaign_uid)}/pause-unpause")
        if status == 404:
            return None
        campaign = payload.get("campaign")
        if payload.get("status") != "success" or not isinstance(campaign, dict):
            raise DependencyUnavailable(f"MailWizz did not pause the campaign (HTTP {status}).")
        return str(campaign.get("status", ""))


def _raise_for_400(payload: dict[str, Any]) -> None:
    """MailWizz answers 400 both for refused credentials and for requests it cannot serve."""
    error = str(payload.get("error", ""))[:300]
    if any(phrase.lower() in error.lower() for phrase in CREDENTIAL_ERRORS):
        raise CredentialError(
            f"MailWizz refused the engine's API credentials: {error!r} (HTTP 400). Check MAILWIZZ_API_KEY "
            "(or the 1.x key pair and the clock), and that the key's IP whitelist and MailWizz's API IP "
            "access settings allow this server's address."
        )
    raise InvalidInput(f"MailWizz refused the request (HTTP 400): {error or 'no reason given'}")
