"""render_settings: required variables named at once, placeholder passwords refused."""

from __future__ import annotations

import pytest

from email_engine.errors import ConfigurationError
from email_engine.integrations.powermta.service import render_settings
from email_engine.integrations.powermta.settings import PowerMtaSettings


def _settings(**values: str) -> PowerMtaSettings:
    return PowerMtaSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_missing_variables_are_named_together() -> None:
    with pytest.raises(ConfigurationError) as caught:
        render_settings(_settings())
    for name in ("PMTA_POSTMASTER", "PMTA_SMTP_PASSWORD", "MAILWIZZ_IPS"):
        assert name in caught.value.detail


@pytest.mark.parametrize("password", ["short", "CHANGE_ME_PASSWORD_123", "your-smtp-secret-here-1", "x" * 15])
def test_weak_or_placeholder_passwords_are_refused(password: str) -> None:
    with pytest.raises(ConfigurationError):
        render_settings(
            _settings(
                PMTA_POSTMASTER="postmaster@example.com",
                PMTA_SMTP_PASSWORD=password,
                MAILWIZZ_IPS="198.51.100.7",
            )
        )


def test_good_settings_map_through() -> None:
    result = render_settings(
        _settings(
            PMTA_POSTMASTER="postmaster@example.com",
            PMTA_SMTP_PASSWORD="Vb4-kQ9_zT2mWx7pLr5s",
            MAILWIZZ_IPS="198.51.100.7, 198.51.100.8",
            PMTA_LISTENER_PORT="2526",
        )
    )
    assert result.mailwizz_ips == ("198.51.100.7", "198.51.100.8")
    assert result.listener_port == 2526 and result.smtp_user == "mailwizz"
