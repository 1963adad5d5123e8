"""The operator's commands: --version, stats, readers, breaking --text, ingest FILE,
preview's topics and samples, demo."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest

from bot.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from storage.db import open_db, utcnow
from storage.outbox import OutgoingMessage, enqueue
from storage.readers import get_reader
from tests.factories import article_bytes, subscribe_reader, write_article

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """A clean configuration, as in test_cli: no .env, no inherited variables, a temp store."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("NEWSDIGEST_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    values = {
        "NEWSDIGEST_DB": str(tmp_path / "store" / "newsdigest.db"),
        "NEWSDIGEST_ARTICLES": str(tmp_path / "articles"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "articles").mkdir()
    (tmp_path / "store").mkdir()
    return values


def _db(env: dict[str, str]) -> Path:
    return Path(env["NEWSDIGEST_DB"])


def _subscribe(env: dict[str, str], *chat_ids: int) -> None:
    db = open_db(_db(env))
    try:
        for chat_id in chat_ids:
            subscribe_reader(db, chat_id, at=utcnow())
    finally:
        db.close()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out == f"newsdigest {version}\n"


def test_stats_as_text_and_json(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    write_article(
        Path(env["NEWSDIGEST_ARTICLES"]),
        "a.md",
        article_bytes(url="https://example.com/a", topics=("AI", "Privacy")),
    )
    write_article(Path(env["NEWSDIGEST_ARTICLES"]), "bad.md", b"---\ntitle: [x\n---\n")
    main(["ingest"])
    _subscribe(env, 11, 12)
    capsys.readouterr()
    assert main(["stats"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "Readers: 2 active, 0 stopped, 0 blocked" in text
    assert "Articles: 1 · topics: 2" in text and "Files rejected: 1" in text
    assert main(["stats", "--json"]) == EXIT_OK
    figures = json.loads(capsys.readouterr().out)
    assert figures["readers"] == {"active": 2, "stopped": 0, "blocked": 0}
    assert figures["articles"] == 1 and figures["rejected_files"] == 1
    assert figures["outbox"]["pending"] == 0
    assert [d["chat_id"] for d in figures["next_digests"]] == [11, 12]


def test_readers_list_block_unblock(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _subscribe(env, 21, 22)
    db = open_db(_db(env))
    try:
        enqueue(db, [OutgoingMessage(chat_id=21, text="queued", kind="answer", priority=0)],
                utcnow())  # fmt: skip
    finally:
        db.close()
    assert main(["readers"]) == EXIT_OK
    listing = capsys.readouterr().out
    assert "21  active" in listing and "Reader 22: all topics" in listing
    assert listing.rstrip().endswith("2 readers")

    assert main(["readers", "block", "21"]) == EXIT_OK
    assert "Chat 21 blocked" in capsys.readouterr().out
    db = open_db(_db(env))
    try:
        reader = get_reader(db, 21)
        assert reader is not None and reader.status == "blocked"
        pending = db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
        assert pending[0] == 0  # its queue was dropped
    finally:
        db.close()
    assert main(["readers", "--status", "blocked"]) == EXIT_OK
    assert capsys.readouterr().out.rstrip().endswith("1 readers (blocked)")
    assert main(["readers", "unblock", "21"]) == EXIT_OK
    assert "unblocked" in capsys.readouterr().out
    assert main(["readers", "block", "999"]) == EXIT_FAILED
    assert "no reader with chat id 999" in capsys.readouterr().err
    assert main(["readers", "block"]) == EXIT_USAGE


def test_breaking_free_text_goes_to_every_active_reader(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _subscribe(env, 31, 32)
    assert main(["breaking", "--text", "Polls close at <8 pm>: https://example.com/live"]) == 0
    assert "queued for 2 readers (free text)" in capsys.readouterr().out
    db = open_db(_db(env))
    try:
        texts = [t for (t,) in db.execute("SELECT text FROM outbox WHERE kind = 'breaking'")]
    finally:
        db.close()
    assert len(texts) == 2
    assert "Polls close at &lt;8 pm&gt;" in texts[0]  # escaped for Telegram HTML
    assert '<a href="https://example.com/live">' in texts[0]
    with pytest.raises(SystemExit):
        main(["breaking", "file.md", "--text", "both"])  # one or the other


def test_ingest_one_file_and_every_problem_of_a_bad_one(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_article(
        tmp_path / "elsewhere", "good.md", article_bytes(url="https://example.com/file")
    )
    assert main(["ingest", str(good)]) == EXIT_OK
    assert "1 new, 0 updated, 0 unchanged, 0 rejected" in capsys.readouterr().out
    bad = write_article(tmp_path / "elsewhere", "bad.md",
                        b"---\ntitle: 42\nquality: high\ntopics: AI\npublishedDateTime: soon\n---\n")  # fmt: skip
    assert main(["ingest", str(bad)]) == EXIT_FAILED
    report = capsys.readouterr().out
    [line] = [x for x in report.splitlines() if x.startswith("rejected: ")]
    for problem in ("'title' must be a string", "missing required field 'webUrl'",
                    "'publishedDateTime' is not an ISO 8601", "'quality' must be a number",
                    "'topics' must be a list"):  # fmt: skip
        assert problem in line, line


def test_preview_lists_known_topics_and_shows_the_samples(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview"]) == EXIT_OK  # ./articles starts empty
    assert "newsdigest preview --examples" in capsys.readouterr().out
    assert main(["preview", "--examples", "--topics", "Privacy"]) == EXIT_OK
    assert "Digest preview · Privacy" in capsys.readouterr().out
    assert main(["preview", "--examples", "--topics", "Astrology"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "unknown topics: Astrology" in err and "known topics: AI, " in err
    capsys.readouterr()
    assert main(["stats", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["articles"] == 0  # the samples stayed out


def test_demo_shows_a_reader_and_the_bot(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--reader", "Grace"]) == EXIT_OK
    out = capsys.readouterr().out
    for expected in ("Grace › /start", "bot ‹ Hello, Grace!", "Grace › taps [AI]",
                     "Grace › /digest", "bot ‹ Your digest", "Grace › /settings"):  # fmt: skip
        assert expected in out, out
    assert not _db(env).exists()  # the demo's database was temporary


def test_the_installed_packages_cover_every_package_folder() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("bot", "digest", "storage")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"add to pyproject's packages: {sorted(found - listed)}"
    assert config["package-dir"] == {
        "newsdigest_examples": "examples",
        "newsdigest_botapi": "tests/botapi",
    }
    assert list((ROOT / "articles").iterdir()) == [ROOT / "articles" / ".gitkeep"]
    assert len(list((ROOT / "examples" / "articles").glob("*.md"))) >= 9
