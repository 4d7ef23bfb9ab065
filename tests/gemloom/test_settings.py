from pathlib import Path

import pytest

from gemloom.errors import SettingsError
from gemloom.settings import Settings, load_settings, normalise_host


def test_defaults(gemloom_home: Path) -> None:
    settings = load_settings()
    assert settings.chat_model == "gemma4:12b"
    assert settings.embed_model == "embeddinggemma"
    assert settings.ollama_host == "http://127.0.0.1:11434"
    assert settings.data_dir == gemloom_home


def test_ollama_host_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:9999")
    assert load_settings().ollama_host == "http://0.0.0.0:9999"
    monkeypatch.setenv("GEMLOOM_OLLAMA_HOST", "https://box")
    assert load_settings().ollama_host == "https://box:11434"


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("", "http://127.0.0.1:11434"),
        (":1234", "http://127.0.0.1:1234"),
        ("http://h:5/api/", "http://h:5/api"),
    ],
)
def test_normalise_host(raw: str, url: str) -> None:
    assert normalise_host(raw) == url


def test_toml_file_then_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text('chat_model = "gemma4:27b"\nrequest_timeout = 12\n')
    assert load_settings().chat_model == "gemma4:27b"
    assert load_settings().request_timeout == 12
    monkeypatch.setenv("GEMLOOM_CHAT_MODEL", "other:1b")
    assert load_settings().chat_model == "other:1b"


def test_data_dir_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMLOOM_HOME", "~/x")
    assert load_settings().data_dir == Path("~/x").expanduser()
    monkeypatch.setenv("GEMLOOM_DATA_DIR", str(tmp_path / "y"))
    assert load_settings().data_dir == tmp_path / "y"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GEMLOOM_REQUEST_TIMEOUT", "soon"),
        ("GEMLOOM_REQUEST_TIMEOUT", "-1"),
        ("GEMLOOM_KEEP_ALIVE", "forever"),
        ("GEMLOOM_KEEP_ALIVE", "5 minutes"),
        ("GEMLOOM_KEEP_ALIVE", "1d"),
        ("GEMLOOM_THINK", "maybe"),
    ],
)
def test_invalid_values_name_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert name.removeprefix("GEMLOOM_").lower() in message
    assert value in message


def test_broken_config_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("chat_model = [unclosed\n")
    with pytest.raises(SettingsError, match="config file"):
        load_settings()


@pytest.mark.parametrize(
    ("raw", "value"),
    [("-1", -1), ("300", 300), ("1.5", 1.5), ("30m", "30m"), ("1h30m", "1h30m"), ("0", 0)],
)
def test_keep_alive_numbers_become_numbers(monkeypatch: pytest.MonkeyPatch, raw, value) -> None:
    monkeypatch.setenv("GEMLOOM_KEEP_ALIVE", raw)
    assert load_settings().keep_alive == value
    assert type(load_settings().keep_alive) is type(value)


def test_keep_alive_number_in_the_toml_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("keep_alive = -1\n")
    assert load_settings().keep_alive == -1


def test_arguments_then_env_then_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text('chat_model = "file:1b"\nembed_model = "file-embed"\n')
    monkeypatch.setenv("GEMLOOM_CHAT_MODEL", "env:1b")
    settings = load_settings(chat_model="arg:1b")
    assert (settings.chat_model, settings.embed_model) == ("arg:1b", "file-embed")
    assert Settings().chat_model == "env:1b"  # the model itself reads both sources


def test_variable_names_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("gemloom_Chat_Model", "lower:1b")
    assert load_settings().chat_model == "lower:1b"


def test_dict_settings_take_json_and_merge_with_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text(
        '[chroma_headers]\nX-From-File = "1"\n[watch."/a"]\ntemplate = "standup"\n'
    )
    monkeypatch.setenv("GEMLOOM_CHROMA_HEADERS", '{"X-From-Env": "2"}')
    monkeypatch.setenv("GEMLOOM_WATCH", '{"/b": {"template": "daily"}}')
    settings = load_settings()
    assert settings.chroma_headers == {"X-From-File": "1", "X-From-Env": "2"}
    assert {path: w.template for path, w in settings.watch.items()} == {
        "/a": "standup",
        "/b": "daily",
    }


@pytest.mark.parametrize(("name", "shown"), [("watch", "'/a'"), ("chroma_headers", "(hidden)")])
def test_a_dict_setting_that_is_not_json_is_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, shown: str
) -> None:
    monkeypatch.setenv(f"GEMLOOM_{name.upper()}", "/a")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"Invalid setting '{name}' = {shown}: expected a JSON")
