"""Settings: TOML + environment, errors naming the key, secrets hidden, example config complete."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from watcher.errors import ConfigError
from watcher.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pw.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file() -> None:
    s = load_settings(None, environ={})
    assert s.shop.timezone == "Asia/Shanghai" and s.shop.language == "zh-CN"
    assert s.database.url == "sqlite:///parcelwatch.db"
    assert s.tracking.provider == "kuaidi100"
    assert s.notices.quiet_hours == "21:00-08:00" and s.notices.channels == ["chat", "sms"]
    assert s.report.at == "21:30"


def test_file_then_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[shop]\nname = "小鲸鱼旗舰店"\n[tracking]\nconcurrency = 4\nroutes = { shunfeng = "17track" }\n')
    env = {
        "PARCELWATCH_TRACKING__CONCURRENCY": "16",
        "PARCELWATCH_PROVIDERS__KUAIDI100__BASE_URL": "http://127.0.0.1:9/",
        "PARCELWATCH_NOTICES__CHANNELS": '["sms"]',
        "PARCELWATCH_CONFIG": "ignored-here",
    }
    s = load_settings(path, environ=env)
    assert s.shop.name == "小鲸鱼旗舰店"
    assert s.tracking.concurrency == 16  # environment wins
    assert s.provider_for("shunfeng") == "17track" and s.provider_for("zhongtong") == "kuaidi100"
    assert s.providers["kuaidi100"]["base_url"] == "http://127.0.0.1:9/"
    assert s.notices.channels == ["sms"]
    assert s.shop.signature == "小鲸鱼旗舰店"


def test_config_path_from_environment_and_default_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[shop]\nname = "A"\n')
    assert load_settings(None, environ={"PARCELWATCH_CONFIG": str(path)}).shop.name == "A"
    (tmp_path / "parcelwatch.toml").write_text('[shop]\nname = "B"\n', encoding="utf-8")
    assert load_settings(None, environ={}).shop.name == "B"  # cwd is tmp_path (conftest)


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[tracking]\nprovidr = 'x'\n", {}, "tracking.providr: unknown key"),
        ("[shop]\ntimezone = 'Mars/Base'\n", {}, "shop.timezone"),
        ("[tracking]\nconcurrency = 0\n", {}, "tracking.concurrency"),
        ("[notices]\nquiet_hours = '9pm-8am'\n", {}, "notices.quiet_hours"),
        ("[report]\nat = '25:00'\n", {}, "report.at"),
        ("[nonsense]\nx = 1\n", {}, "nonsense: unknown key"),
        ("", {"PARCELWATCH_TRACKING__CONCURRENCY": "many"}, "tracking.concurrency"),
        ("", {"PARCELWATCH_TRACKNG__PROVIDER": "x"}, "trackng: unknown key"),
        ("[shop\n", {}, "invalid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, text: str, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), environ=env)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    path = write(tmp_path, '[twilio]\nauth_token = "tw-secret"\n[providers.kuaidi100]\nkey = "k100-secret"\ncustomer = "C1"\n')
    s = load_settings(path, environ={})
    for text in (repr(s), str(s), repr(s.twilio)):
        assert "tw-secret" not in text and "k100-secret" not in text
    assert s.twilio.auth_token.get_secret_value() == "tw-secret"


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys |= _keys(ann, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def _flatten(data: dict, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict) and prefix.count(".") < 1 and key not in ("routes",):
            keys |= _flatten(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_example_config_documents_every_key_and_loads() -> None:
    path = REPO / "config" / "parcelwatch.example.toml"
    settings = load_settings(path, environ={})
    documented = _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
    expected = _keys(Settings) - {"providers"}
    assert expected <= documented, f"undocumented keys: {sorted(expected - documented)}"
    defaults = Settings()
    for section in ("shop", "database", "tracking", "notices", "report"):
        assert getattr(settings, section) == getattr(defaults, section), f"[{section}] defaults differ"


def test_demo_config_loads() -> None:
    s = load_settings(REPO / "config" / "demo.toml", environ={})
    assert s.tracking.provider == "simulated"


def test_example_provider_tables_are_valid_for_their_adapters() -> None:
    from carriers.registry import discover

    settings = load_settings(REPO / "config" / "parcelwatch.example.toml", environ={})
    registry = discover()
    assert settings.providers, "the example documents the built-in providers"
    for name in settings.providers:
        adapter = registry.get(name)(settings.provider_settings(name))
        assert adapter.name == name


def test_bad_provider_keys_name_the_provider_table() -> None:
    from carriers.registry import discover

    with pytest.raises(ConfigError, match=r"^providers\.kuaidi100\.custmer: unknown key$"):
        discover().get("kuaidi100")({"custmer": "x"})
