import logging
from pathlib import Path

import pytest
from flask import Flask

from prom.config import DEVELOPMENT_SECRET, Config, configure

INSTANCE = Path("/srv/prom/instance")


def test_defaults_put_sqlite_in_the_instance_folder() -> None:
    config = Config.from_environ({}, instance_path=INSTANCE)

    assert config.DATABASE_URL == "sqlite:////srv/prom/instance/prom.db"
    assert config.MAX_CONTENT_LENGTH == 1024 * 1024
    assert config.RATELIMIT_STORAGE_URI == "memory://"
    assert config.INSTRUMENTS_PATH is None
    assert config.LOG_LEVEL == "INFO"
    assert config.JWT_SECRET_KEY == DEVELOPMENT_SECRET


def test_environment_overrides_defaults() -> None:
    environ = {
        "PROM_DATABASE_URL": "postgresql+psycopg://prom@db/prom",
        "PROM_SECRET_KEY": "s" * 40,
        "PROM_JWT_SECRET_KEY": "j" * 40,
        "PROM_MAX_CONTENT_LENGTH": "2048",
        "PROM_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379",
        "PROM_INSTRUMENTS_PATH": "/srv/licensed-instruments",
        "PROM_LOG_LEVEL": "debug",
    }

    config = Config.from_environ(environ, instance_path=INSTANCE)

    assert config.DATABASE_URL == "postgresql+psycopg://prom@db/prom"
    assert config.SECRET_KEY == "s" * 40
    assert config.JWT_SECRET_KEY == "j" * 40
    assert config.MAX_CONTENT_LENGTH == 2048
    assert config.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379"
    assert str(config.INSTRUMENTS_PATH) == "/srv/licensed-instruments"
    assert config.LOG_LEVEL == "DEBUG"


def test_empty_variables_keep_the_defaults() -> None:
    config = Config.from_environ(
        {"PROM_DATABASE_URL": "", "PROM_LOG_LEVEL": ""}, instance_path=INSTANCE
    )

    assert config.DATABASE_URL.startswith("sqlite:///")
    assert config.LOG_LEVEL == "INFO"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROM_MAX_CONTENT_LENGTH", "1MB"),
        ("PROM_MAX_CONTENT_LENGTH", "0"),
        ("PROM_LOG_LEVEL", "LOUD"),
    ],
)
def test_unusable_values_fail_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Config.from_environ({name: value}, instance_path=INSTANCE)


def test_configure_reads_the_environment_then_applies_overrides(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROM_MAX_CONTENT_LENGTH", "4096")
    monkeypatch.setenv("PROM_DATABASE_URL", "sqlite:///from-environment.db")
    app = Flask("prom", instance_path=str(tmp_path))

    configure(app, {"TESTING": True, "DATABASE_URL": "sqlite:///override.db"})

    assert app.config["MAX_CONTENT_LENGTH"] == 4096
    assert app.config["DATABASE_URL"] == "sqlite:///override.db"


def test_development_secrets_are_warned_about_outside_testing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PROM_JWT_SECRET_KEY", raising=False)
    monkeypatch.setenv("PROM_SECRET_KEY", "s" * 40)
    app = Flask("prom", instance_path=str(tmp_path))

    with caplog.at_level(logging.WARNING, logger="prom"):
        configure(app)

    assert [r.getMessage() for r in caplog.records if "PROM_JWT_SECRET_KEY" in r.getMessage()]
    assert not [r for r in caplog.records if "PROM_SECRET_KEY" in r.getMessage()]


def test_development_secrets_are_not_warned_about_in_tests(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("PROM_JWT_SECRET_KEY", raising=False)
    app = Flask("prom", instance_path=str(tmp_path))

    with caplog.at_level(logging.WARNING, logger="prom"):
        configure(app, {"TESTING": True})

    assert not caplog.records
