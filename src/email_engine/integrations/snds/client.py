"""Fetch the SNDS feeds over HTTPS. The key is part of the URL, so no URL ever reaches a log or an error."""

from __future__ import annotations

from datetime import date

import httpx

from email_engine.errors import DependencyUnavailable

__all__ = ["fetch_data", "fetch_ip_status"]


def _get(base_url: str, page: str, params: dict[str, str], timeout: float) -> str:
    url = f"{base_url.rstrip('/')}/{page}"
    try:
        response = httpx.get(url, params=params, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:  # the message would carry the URL and its key: name the kind only
        raise DependencyUnavailable(f"SNDS {page} did not answer ({type(exc).__name__}).") from None
    if response.status_code != 200:
        raise DependencyUnavailable(f"SNDS {page} answered HTTP {response.status_code}.")
    text = response.text
    if text.lstrip()[:1] == "<":
        raise DependencyUnavailable(
            f"SNDS {page} answered with a web page instead of CSV: check SNDS_KEY and that automated "
            "access is enabled for it."
        )
    return text


def fetch_data(base_url: str, key: str, *, day: date | None, timeout: float) -> str:
    """The IP data feed for ``day`` (``date=MMDDYY``), or the latest day when ``day`` is None."""
    params = {"key": key}
    if day is not None:
        params["date"] = day.strftime("%m%d%y")
    return _get(base_url, "data.aspx", params, timeout)


def fetch_ip_status(base_url: str, key: str, *, timeout: float) -> str:
    return _get(base_url, "ipStatus.aspx", {"key": key}, timeout)
