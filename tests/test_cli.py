"""The ``newsdigest`` command line: exit codes, messages, help text."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, build_parser, main
from tests.factories import write_article


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, folder: Path) -> dict[str, str]:
    """A clean configuration: no developer .env, no inherited variables, a temp store."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("NEWSDIGEST_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    values = {
        "NEWSDIGEST_DB": str(tmp_path / "store" / "newsdigest.db"),
        "NEWSDIGEST_ARTICLES": str(folder),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "articles").mkdir(exist_ok=True)
    (tmp_path / "store").mkdir(
        exist_ok=True
    )  # the database's folder: newsdigest never creates folders
    return values


def articles(env: dict[str, str]) -> Path:
    return Path(env["NEWSDIGEST_ARTICLES"])


def test_ingest_all_good_exits_0(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    write_article(articles(env), "a.md", url="https://example.com/a")
    write_article(articles(env), "b.md", url="https://example.com/b")
    assert main(["ingest"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "2 new, 0 updated, 0 unchanged, 0 rejected" in out
    assert "rejected:" not in out
    assert Path(env["NEWSDIGEST_DB"]).is_file()

    assert main(["ingest", "--workers", "0"]) == EXIT_OK
    assert "0 new, 0 updated, 2 unchanged, 0 rejected" in capsys.readouterr().out


def test_ingest_with_rejected_files_exits_1_naming_each(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = articles(env)
    write_article(folder, "good.md")
    bad_yaml = write_article(folder, "bad-yaml.md", b"---\ntitle: [unclosed\n---\n")
    no_url = write_article(
        folder, "no-url.md", b"---\ntitle: x\npublishedDateTime: 2023-06-14\n---\n"
    )
    assert main(["ingest", str(folder)]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "1 new, 0 updated, 0 unchanged, 2 rejected" in out
    lines = [line for line in out.splitlines() if line.startswith("rejected: ")]
    assert len(lines) == 2
    assert lines[0].startswith(f"rejected: {bad_yaml.resolve()}: invalid YAML at line 3")
    assert lines[1] == f"rejected: {no_url.resolve()}: missing required field 'webUrl'"

    # Still rejected on the next run, so still reported, still exit 1.
    assert main(["ingest", str(folder)]) == EXIT_FAILED
    assert "2 rejected" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "config", "message"),
    [
        (["ingest", "{tmp}/nowhere"], {}, "is not a directory"),
        (["ingest", "--workers", "-1"], {}, "--workers must be 0 or more"),
        (["ingest"], {"NEWSDIGEST_RATE": "abc"}, "configuration error: NEWSDIGEST_RATE"),
        (["ingest"], {"NEWSDIGEST_TIMEZONE": "Mars/Base"}, "NEWSDIGEST_TIMEZONE"),
        (["ingest"], {"NEWSDIGEST_ARTICLES": "{tmp}/missing"}, "is not a directory"),
    ],
)
def test_usage_and_configuration_errors_exit_2(
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    config: dict[str, str],
    message: str,
) -> None:
    write_article(articles(env), "file.md")
    for name, value in config.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    assert main([arg.format(tmp=tmp_path) for arg in argv]) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_configuration_error_from_dotenv_exits_2(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("NEWSDIGEST_DIGEST_TIME=25:00\n")
    assert main(["ingest"]) == EXIT_USAGE
    assert "NEWSDIGEST_DIGEST_TIME" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [[], ["ingest", "--bogus"], ["ingest", "--workers", "two"], ["fly"], ["ingest", "a", "b"]],
)
def test_bad_command_line_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == EXIT_USAGE
    assert "usage: newsdigest" in capsys.readouterr().err


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    parser = subcommands()[name]
    assert parser.description, f"{name} has no description"
    for action in parser._actions:
        if action.option_strings:  # every --option says what it does
            assert action.help, f"{name}: {action.option_strings} has no help"
    with pytest.raises(SystemExit) as caught:
        main([name, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: newsdigest {name}")
    assert parser.description.split()[0] in out


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    listed = {
        choice.dest: choice.help
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action._choices_actions
    }
    assert set(listed) == set(subcommands()) >= {"run", "ingest", "preview", "breaking"}
    for name, summary in listed.items():
        assert summary, f"{name} has no one-line help"
        assert name in out and summary.split(":")[0] in " ".join(out.split())


def test_installed_command_exit_code_and_output(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_article(folder, "good.md")
    bad = write_article(folder, "bad.md", b"\x00\x01binary")
    # The console script installed next to this interpreter (pip install -e .).
    command = Path(sys.executable).with_name("newsdigest")
    if not command.exists():
        found = shutil.which("newsdigest")
        assert found, "the package is not installed (pip install -e .)"
        command = Path(found)
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("NEWSDIGEST_", "TELEGRAM_"))
    }
    environ["NEWSDIGEST_DB"] = str(tmp_path / "cli.db")
    result = subprocess.run(
        [str(command), "ingest", str(folder), "--workers", "0"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EXIT_FAILED, result.stderr
    assert "1 new, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    assert f"rejected: {bad.resolve()}: binary file (contains NUL bytes)" in result.stdout

    missing = subprocess.run(
        [str(command), "ingest", str(tmp_path / "nowhere")],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == EXIT_USAGE
    assert "is not a directory" in missing.stderr
