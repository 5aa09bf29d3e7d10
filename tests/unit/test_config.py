import pytest
from pydantic import ValidationError

from email_engine.config import (
    SECRET_FIX,
    WEAK_SECRET,
    Settings,
    as_production,
    check_secrets,
    generate_secret,
    parse_nameservers,
)
from email_engine.errors import ConfigurationError


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def refused(**values: object) -> list[dict[str, object]]:
    """The ``weak_secret`` errors of building production settings from ``values``."""
    with pytest.raises(ValidationError) as info:
        settings(ENVIRONMENT="production", **values)
    return [dict(error.get("ctx", {})) for error in info.value.errors() if error["type"] == WEAK_SECRET]


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


def test_production_refuses_to_build_with_missing_or_weak_secrets() -> None:
    assert refused(API_KEY=generate_secret()) == [
        {"setting": "JWT_SECRET_KEY", "problem": "JWT_SECRET_KEY is not set", "fix": SECRET_FIX}
    ]
    assert [found["problem"] for found in refused(JWT_SECRET_KEY=generate_secret())] == ["API_KEY is not set"]
    [placeholder] = refused(API_KEY="change-me-" + "x" * 40, JWT_SECRET_KEY=generate_secret())
    assert placeholder["setting"] == "API_KEY" and "placeholder" in str(placeholder["problem"])
    [short] = refused(API_KEY="Ab3$dE5^", JWT_SECRET_KEY=generate_secret())
    assert short["problem"] == "API_KEY is shorter than 32 characters"
    assert len(refused()) == 2


def test_the_refusal_names_the_setting_and_the_fix_never_the_value() -> None:
    with pytest.raises(ValidationError) as info:
        settings(ENVIRONMENT="production", API_KEY="change-me-" + "x" * 40, JWT_SECRET_KEY=generate_secret())
    text = str(info.value)
    assert "API_KEY looks like a placeholder" in text and "email-engine secrets rotate" in text
    assert "change-me" not in text


def test_strong_secrets_build_in_production() -> None:
    built = settings(ENVIRONMENT="production", API_KEY=generate_secret(), JWT_SECRET_KEY=generate_secret(128))
    assert built.environment == "production" and check_secrets(built) == []
    assert as_production(built).environment == "production"


def test_development_builds_with_weak_secrets_and_warns() -> None:
    weak = settings(ENVIRONMENT="development", API_KEY="short", JWT_SECRET_KEY=generate_secret())
    assert check_secrets(weak) == ["API_KEY is shorter than 32 characters"]
    problems = check_secrets(settings(ENVIRONMENT="development", JWT_SECRET_KEY=generate_secret()))
    assert problems == ["API_KEY is not set"]
    assert check_secrets(settings(API_KEY=generate_secret(), JWT_SECRET_KEY=generate_secret())) == []
    with pytest.raises(ValidationError) as info:
        as_production(weak)
    assert [error["loc"] for error in info.value.errors()] == [("API_KEY",)]


def test_jwt_secret_is_required_in_every_mode() -> None:
    with pytest.raises(ConfigurationError, match="JWT_SECRET_KEY is not set"):
        check_secrets(settings(ENVIRONMENT="development", API_KEY=generate_secret()))


def test_generated_secrets_are_always_accepted() -> None:
    for _ in range(200):
        assert check_secrets(settings(API_KEY=generate_secret(), JWT_SECRET_KEY=generate_secret(128))) == []
