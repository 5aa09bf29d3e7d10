"""Local stand-ins for Google's OAuth 2 token endpoint and the Postmaster Tools API v2.

They answer as Google documents:

- Token endpoint (https://developers.google.com/identity/protocols/oauth2/service-account, "Preparing
  to make an authorized API call"; RFC 7523 §2.1): ``POST`` form ``grant_type=urn:ietf:params:oauth:
  grant-type:jwt-bearer&assertion=<JWT>``, the JWT signed RS256 by the service account's key with
  ``iss`` = client_email, ``scope``, ``aud`` = https://oauth2.googleapis.com/token, ``iat``/``exp`` at most an hour apart.
  Success: ``{"access_token", "expires_in", "token_type": "Bearer"}``; refusal: HTTP 400
  ``{"error": "invalid_grant", "error_description": …}`` (RFC 6749 §5.2). The server really verifies
  the signature with the key pair's public half.
- API (https://developers.google.com/workspace/gmail/postmaster/reference/rest/v2/): ``GET v2/domains``
  (``{"domains": [{"name": "domains/…", "verificationState", "permission"}], "nextPageToken"}``),
  ``POST v2/domains/{d}/domainStats:query`` answering, for each requested metric definition, the
  configured value of its (standardMetric, filter) per date as ``{"name", "metric": <the requested
  name>, "date": {year, month, day}, "value": {"doubleValue"|…}}``, paged with ``nextPageToken``,
  and ``GET v2/domains/{d}/complianceStatus``. Errors use Google's JSON error body
  (https://cloud.google.com/apis/design/errors): ``{"error": {"code", "message", "status"}}``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.http_peers import HttpPeer, RecordedRequest

__all__ = ["PostmasterApi", "ServiceAccount", "TokenEndpoint", "google_error"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/postmaster.traffic.readonly"
# "aud … When making an access token request this value is always https://oauth2.googleapis.com/token"
# (the service-account guide), whatever URL the request is sent to.
AUDIENCE = "https://oauth2.googleapis.com/token"


def google_error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


@dataclass
class ServiceAccount:
    """A service-account key file as Google Cloud issues them (fresh RSA key)."""

    path: Path
    client_email: str = "postmaster-reader@example-project.iam.gserviceaccount.com"
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def write(self, token_uri: str) -> Path:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        document = {
            "type": "service_account",
            "project_id": "example-project",
            "private_key_id": secrets.token_hex(20),
            "private_key": pem,
            "client_email": self.client_email,
            "client_id": "123456789012345678901",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        }
        self.path.write_text(json.dumps(document))
        self.path.chmod(0o600)
        return self.path


class TokenEndpoint(HttpPeer):
    def __init__(self, account: ServiceAccount) -> None:
        super().__init__()
        self.account = account
        self.issued: set[str] = set()
        self.refuse: str | None = None  # an error_description to answer invalid_grant with
        self.handler = self._answer

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def _answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        form = parse_qs(request.body.decode())
        if request.method != "POST" or form.get("grant_type") != [JWT_BEARER] or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: "}, {}
        if self.refuse:
            return 400, {"error": "invalid_grant", "error_description": self.refuse}, {}
        try:
            claims = jwt.decode(
                form["assertion"][0],
                self.account.key.public_key(),
                algorithms=["RS256"],
                audience=AUDIENCE,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"}, {}
        if claims["iss"] != self.account.client_email or claims["exp"] - claims["iat"] > 3600:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT claims."}, {}
        if SCOPE not in str(claims["scope"]).split():
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope."}, {}
        token = "ya29." + secrets.token_urlsafe(32)
        self.issued.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}, {}


class PostmasterApi(HttpPeer):
    """``stats[domain][day][(standardMetric, filter)]`` = a StatisticValue dict; ``raw_entries[domain]``:
    entries served as they are (malformed ones); ``errors[domain]``: (HTTP status, Google error body)."""

    page_size = 4

    def __init__(self, tokens: TokenEndpoint) -> None:
        super().__init__()
        self.tokens = tokens
        self.registered: dict[str, str] = {}  # domain → verificationState
        self.stats: dict[str, dict[date, dict[tuple[str, str], dict[str, Any]]]] = {}
        self.raw_entries: dict[str, list[Any]] = {}
        self.compliance: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, tuple[int, dict[str, Any]]] = {}
        self.down_with: tuple[int, dict[str, Any]] | None = None
        self.handler = self._answer

    def _answer(self, request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.tokens.issued:
            return (
                401,
                google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
                {},
            )
        if self.down_with is not None:
            return self.down_with[0], self.down_with[1], {}
        path = unquote(request.path)
        if request.method == "GET" and path == "/v2/domains":
            return (
                200,
                {
                    "domains": [
                        {
                            "name": f"domains/{name}",
                            "createTime": "2025-01-02T03:04:05Z",
                            "permission": "OWNER",
                            "verificationState": state,
                        }
                        for name, state in sorted(self.registered.items())
                    ]
                },
                {},
            )
        rest = path.removeprefix("/v2/domains/")
        routes = {"/complianceStatus": "compliance", "/domainStats:query": "query"}
        suffix = next((end for end in routes if rest != path and rest.endswith(end)), None)
        if suffix is None:
            return 404, google_error(404, "NOT_FOUND", "Requested entity was not found."), {}
        domain, action = rest.removesuffix(suffix), routes[suffix]
        if domain not in self.registered:
            return 403, google_error(403, "PERMISSION_DENIED", "The caller does not have permission."), {}
        if domain in self.errors:
            return self.errors[domain][0], self.errors[domain][1], {}
        if action == "compliance" and request.method == "GET":
            if domain not in self.compliance:
                return 404, google_error(404, "NOT_FOUND", "Requested entity was not found."), {}
            return 200, self.compliance[domain], {}
        if action == "query" and request.method == "POST":
            return 200, self._query(domain, request.json()), {}
        return 405, google_error(405, "METHOD_NOT_ALLOWED", "Method not allowed."), {}

    def _query(self, domain: str, body: dict[str, Any]) -> dict[str, Any]:
        ranges = body["timeQuery"]["dateRanges"]["dateRanges"]
        start = date(**ranges[0]["start"])
        end = date(**ranges[0]["end"])
        entries: list[Any] = []
        for day, values in sorted(self.stats.get(domain, {}).items()):
            if not start <= day <= end:
                continue
            for definition in body["metricDefinitions"]:
                key = (definition["baseMetric"]["standardMetric"], definition.get("filter", ""))
                if key in values:
                    entries.append(
                        {
                            "name": f"domains/{domain}/domainStats/{secrets.token_hex(6)}",
                            "metric": definition["name"],
                            "date": {"year": day.year, "month": day.month, "day": day.day},
                            "value": values[key],
                        }
                    )
        entries += (
            self.raw_entries.get(domain, [])
            if not body["metricDefinitions"][0]["name"].startswith("fbl")
            else []
        )
        offset = int(body.get("pageToken") or 0)
        page = entries[offset : offset + self.page_size]
        answer: dict[str, Any] = {"domainStats": page} if page else {}
        if offset + self.page_size < len(entries):
            answer["nextPageToken"] = str(offset + self.page_size)
        return answer
