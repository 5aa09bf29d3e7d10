"""The Postmaster Tools API v2 over HTTPS with a service account's OAuth 2 access token.

The token comes from google-auth's service-account credentials: a JWT signed with the key file's
private key is exchanged at the token endpoint (RFC 7523 JWT bearer grant, as Google's "Using OAuth
2.0 for Server to Server Applications" describes) for a bearer token, refreshed before it expires.
API errors use Google's JSON error body (``{"error": {"code", "message", "status"}}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import google.auth.exceptions
import google.auth.transport.requests
import httpx
import requests
from google.oauth2 import service_account

from email_engine.errors import ConfigurationError, DependencyUnavailable
from email_engine.integrations.postmaster.stats import METRICS, query_body

__all__ = ["SCOPE", "PostmasterApiError", "PostmasterClient", "TokenSource"]

SCOPE = "https://www.googleapis.com/auth/postmaster.traffic.readonly"
MAX_PAGES = 50


class PostmasterApiError(DependencyUnavailable):
    """The API answered with an error for one call (``status`` as Google names it, e.g. PERMISSION_DENIED)."""

    def __init__(self, detail: str, *, http_status: int, status: str) -> None:
        super().__init__(detail)
        self.http_status = http_status
        self.status = status


class _Request(google.auth.transport.requests.Request):
    """google-auth's requests transport with our timeout instead of its 120 s default."""

    def __init__(self, session: requests.Session, timeout: float) -> None:
        super().__init__(session)
        self._timeout = timeout

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = self._timeout
        return super().__call__(*args, **kwargs)  # type: ignore[no-untyped-call]  # google-auth is untyped here


class TokenSource:
    """Bearer tokens for the service account in ``key_file`` (the path is never put in a message)."""

    def __init__(self, key_file: Path, *, token_url: str | None, timeout: float) -> None:
        try:
            credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                str(key_file), scopes=[SCOPE]
            )
        except FileNotFoundError:
            raise ConfigurationError("POSTMASTER_CREDENTIALS_FILE does not exist.") from None
        except PermissionError:
            raise ConfigurationError("POSTMASTER_CREDENTIALS_FILE cannot be read by this user.") from None
        except (ValueError, KeyError, json.JSONDecodeError, OSError):
            raise ConfigurationError(
                "POSTMASTER_CREDENTIALS_FILE is not a service-account key (the JSON file Google Cloud gives "
                "for a service account, with client_email, private_key and token_uri)."
            ) from None
        if token_url:
            credentials = credentials.with_token_uri(token_url)
        self._credentials = credentials
        self._session = requests.Session()
        self._request = _Request(self._session, timeout)

    def token(self, *, refresh: bool = False) -> str:
        if refresh or not self._credentials.valid:
            try:
                self._credentials.refresh(self._request)
            except google.auth.exceptions.RefreshError as exc:
                reason = exc.args[0] if exc.args else "refused"
                raise DependencyUnavailable(
                    f"The token endpoint refused the service account ({str(reason)[:200]}); check that the key is "
                    "current and the service account has access to Postmaster Tools."
                ) from None
            except google.auth.exceptions.TransportError:
                raise DependencyUnavailable("The OAuth token endpoint did not answer.") from None
        token = self._credentials.token
        if not token:
            raise DependencyUnavailable("The token endpoint answered without an access token.")
        return str(token)

    def close(self) -> None:
        self._session.close()


class PostmasterClient:
    def __init__(self, api_url: str, tokens: TokenSource, *, timeout: float) -> None:
        self._base = api_url.rstrip("/")
        self._tokens = tokens
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._http.close()
        self._tokens.close()

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        for attempt in (0, 1):
            headers = {"Authorization": f"Bearer {self._tokens.token(refresh=attempt == 1)}"}
            try:
                response = self._http.request(
                    method, f"{self._base}/{path}", json=body, params=params, headers=headers
                )
            except httpx.HTTPError as exc:
                raise DependencyUnavailable(
                    f"Postmaster Tools did not answer ({type(exc).__name__})."
                ) from None
            if response.status_code == 401 and attempt == 0:
                continue  # the token expired early or was revoked: one fresh token, one retry
            break
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200:
            error = payload.get("error") if isinstance(payload, dict) else None
            message = error.get("message", "") if isinstance(error, dict) else ""
            status = error.get("status", "") if isinstance(error, dict) else ""
            raise PostmasterApiError(
                f"Postmaster Tools answered HTTP {response.status_code} {status}: {str(message)[:200]}".rstrip(
                    ": "
                ),
                http_status=response.status_code,
                status=str(status),
            )
        if not isinstance(payload, dict):
            raise DependencyUnavailable("Postmaster Tools answered with something other than a JSON object.")
        return payload

    def domains(self) -> list[dict[str, Any]]:
        """Every domain registered to the service account (``domains.list``, paged)."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            params = {"pageSize": "200", **({"pageToken": token} if token else {})}
            page = self._call("GET", "v2/domains", params=params)
            items = page.get("domains", [])
            found += [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
            token = page.get("nextPageToken") or None
            if not token:
                break
        return found

    def domain_stats(
        self, domain: str, start: date, end: date, metrics: dict[str, tuple[str, str]] | None = None
    ) -> Iterator[object]:
        """Every ``domainStats`` entry for the days (``domains.domainStats.query``, DAILY, paged)."""
        token: str | None = None
        path = f"v2/domains/{quote(domain, safe='')}/domainStats:query"
        for _ in range(MAX_PAGES):
            page = self._call(
                "POST", path, body=query_body(start, end, metrics=metrics or METRICS, page_token=token)
            )
            entries = page.get("domainStats", [])
            if isinstance(entries, list):
                yield from entries
            token = page.get("nextPageToken") or None
            if not token:
                break

    def compliance(self, domain: str) -> dict[str, Any]:
        return self._call("GET", f"v2/domains/{quote(domain, safe='')}/complianceStatus")
