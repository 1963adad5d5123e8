"""A database path that cannot hold the database: one line naming the cause, exit 2, for
every command that opens it; missing folders are never created."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.main import EXIT_USAGE, main
from storage.lock import AlreadyRunning, InstanceLock

COMMANDS = [
    ["run"], ["ingest"], ["preview"], ["breaking", "--text", "hi"], ["stats"], ["readers"],
    ["health"],
]  # fmt: skip


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("NEWSDIGEST_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:ABC-def")  # never used: the path fails first
    # Nothing listens here: a run that got past the database check would fail differently.
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("NEWSDIGEST_START_TIMEOUT", "0.01")
    (tmp_path / "articles").mkdir()
    monkeypatch.setenv("NEWSDIGEST_ARTICLES", str(tmp_path / "articles"))
    return tmp_path


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"newsdigest {argv[0]}: NEWSDIGEST_DB: "), err
    return err


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_missing_folders_are_named_and_never_created(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    monkeypatch.setenv("NEWSDIGEST_DB", str(env / "typo" / "deeper" / "news.db"))
    err = _fails(argv, capsys)
    assert f"the folder {env / 'typo'} does not exist" in err
    assert not (env / "typo").exists()


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("folder", "is a folder, not a database file"),
        ("device", "is not a regular file"),
        ("not-sqlite", "is not a SQLite database"),
    ],
)
def test_unusable_paths_are_one_line(
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    kind: str,
    message: str,
) -> None:
    path = {"folder": env, "device": Path("/dev/null"), "not-sqlite": env / "notes.db"}[kind]
    if kind == "not-sqlite":
        path.write_text("these are my notes, not a database\n" * 100)
    monkeypatch.setenv("NEWSDIGEST_DB", str(path))
    assert message in _fails(argv, capsys)
    if kind == "not-sqlite":
        assert path.read_text().startswith("these are my notes")  # untouched


@pytest.fixture
def read_only_db(env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A database file this user cannot write (root ignores modes: the immutable flag then)."""
    path = env / "ro.db"
    monkeypatch.setenv("NEWSDIGEST_DB", str(path))
    assert main(["stats"]) == 0  # a real database first
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    else:
        path.chmod(0o444)
    try:
        yield path
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_a_read_only_database_is_one_line(
    read_only_db: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    capsys.readouterr()
    assert "is read-only for this user" in _fails(argv, capsys)


def test_the_instance_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    with InstanceLock(db):
        with pytest.raises(AlreadyRunning) as caught:
            InstanceLock(db).acquire()
        assert f"(pid {os.getpid()}) is already using {db}" in str(caught.value)
    with InstanceLock(db):  # released: taken again at once
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    db = tmp_path / "news.db"
    holder = subprocess.Popen(
        ["python3", "-c", "import fcntl,os,sys,time\n"
         f"fd=os.open({str(db) + '.lock'!r}, os.O_RDWR|os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(AlreadyRunning):
            InstanceLock(db).acquire()
    finally:
        holder.kill()  # SIGKILL: the kernel drops the lock
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    with InstanceLock(db):
        pass
