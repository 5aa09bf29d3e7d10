import pytest

from email_engine.config import Settings, check_secrets, generate_secret, parse_nameservers
from email_engine.errors import ConfigurationError


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_nameservers_accept_ports_and_ipv6() -> None:
    assert parse_nameservers(["127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1"]) == [
        ("127.0.0.1", 53),
        ("127.0.0.1", 5353),
        ("::1", 53),
        ("::1", 53),
    ]


@pytest.mark.parametrize("entry", ["dns.example.com", "127.0.0.1:0", "127.0.0.1:70000", "1.2.3"])
def test_bad_nameservers_are_refused(entry: str) -> None:
    with pytest.raises(ConfigurationError, match="DNS_NAMESERVERS"):
        parse_nameservers([entry])


def test_postgres_url_gets_a_driver() -> None:
    assert settings(DATABASE_URL="postgresql://u@h/db").database_url == "postgresql+psycopg://u@h/db"


def test_production_refuses_missing_or_weak_secrets() -> None:
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY is not set"):
        check_secrets(settings(ENVIRONMENT="production", API_KEY=generate_secret()))
    with pytest.raises(ConfigurationError, match="API_KEY is not set"):
        check_secrets(settings(ENVIRONMENT="production", JWT_SECRET_KEY=generate_secret()))
    with pytest.raises(ConfigurationError, match="placeholder"):
        check_secrets(
            settings(
                ENVIRONMENT="production", API_KEY="change-me-" + "x" * 40, JWT_SECRET_KEY=generate_secret()
            )
        )
    with pytest.raises(ConfigurationError, match="shorter"):
        check_secrets(
            settings(ENVIRONMENT="production", API_KEY="Ab3$dE5^", JWT_SECRET_KEY=generate_secret())
        )


def test_development_warns_about_weak_api_key_but_starts() -> None:
    problems = check_secrets(settings(ENVIRONMENT="development", JWT_SECRET_KEY=generate_secret()))
    assert problems == ["API_KEY is not set"]
    assert check_secrets(settings(API_KEY=generate_secret(), JWT_SECRET_KEY=generate_secret())) == []
