"""Scanning the articles folder into the store: hostile files, changes, re-scans, workers."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlite_utils import Database

from digest.errors import ArticleError
from digest.parse import MAX_FILE_BYTES, parse_article_bytes
from storage.articles import _db_time
from storage.db import open_db, to_db_time
from storage.examine import examine_files
from storage.ingest import ScanError, ScanReport, scan_folder
from storage.parse_pool import PARALLEL_THRESHOLD
from tests.factories import HOUR, Related, Yaml, article_bytes, write_article
from tests.test_parse import HOSTILE


def scan(db: Database, folder: Path, **kwargs: object) -> ScanReport:
    kwargs.setdefault("workers", 0)
    return scan_folder(db, folder, **kwargs)  # type: ignore[arg-type]


def count(db: Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def rejected(report: ScanReport) -> dict[str, str]:
    return {Path(r.path).name: r.reason for r in report.all_rejected}


def topics_of(db: Database, url: str) -> set[str]:
    return {
        name
        for (name,) in db.execute(
            "SELECT t.name FROM topics t JOIN article_topics a ON a.topic_id = t.id "
            "JOIN articles ar ON ar.id = a.article_id WHERE ar.url = ?",
            (url,),
        )
    }


# --- the real file, into every table ------------------------------------------------


def test_seed_is_stored_in_every_table(db: Database, folder: Path, seed_bytes: bytes) -> None:
    write_article(folder, "seed.md", seed_bytes)
    report = scan(db, folder)
    assert (report.new, report.updated, report.unchanged, report.rejected) == (1, 0, 0, [])

    row = db.execute(
        "SELECT id, url, web_url, original_url, title, published_at, quality, heat, published, "
        "provider_name, provider_domain, category, kind, secured, images, source_path "
        "FROM articles"
    ).fetchone()
    article_id, url, web_url, original_url, title, published_at, *rest = row
    assert url.startswith("https://euronews.com/my-europe/2023/06/14/meps-endorse")
    assert web_url == original_url and web_url.startswith("https://www.euronews.com/")
    assert title.startswith("Breaking news. MEPs endorse blanket ban")
    assert published_at == "2023-06-14T11:29:00.000000Z"
    quality, heat, published, provider, domain, category, kind, secured, images, source = rest
    assert (quality, heat, published, provider, domain) == (20, None, 0, "Euronews", "euronews.com")
    assert (category, kind) == ("news", "article")
    assert secured.startswith("FbtjbGRSuUc4")
    assert '"width": 1000' in images
    assert source == str((folder / "seed.md").resolve())

    assert {name for (name,) in db.execute("SELECT name FROM topics")} == {"AI", "Computer Vision"}
    assert count(db, "article_topics") == 2
    links = db.execute(
        "SELECT position, url, title, provider_name, quality, published_at FROM related_links "
        "WHERE article_id = ? ORDER BY position",
        (article_id,),
    ).fetchall()
    assert [(p, t, n, q) for p, _, t, n, q, _ in links] == [
        (0, "NY Schools Awaiting Decision on Facial Recognition", "Government Technology", 74),
        (1, "Facial recognition bots are scraping private data", "The Times", 39),
    ]
    assert links[0][1] == (
        "https://govtech.com/education/k-12/ny-schools-awaiting-decision-on-facial-recognition"
    )
    assert links[1][5] == "2023-06-10T23:01:00.000000Z"

    # Full-text search finds it by a title word, stemmed ("endorsed" → "endors").
    hits = db.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", ("endorsed",)
    ).fetchall()
    assert hits == [(article_id,)]
    assert (
        db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", ("volcano",)
        ).fetchall()
        == []
    )

    assert db.execute("SELECT status, article_url FROM files").fetchall() == [("ok", url)]
    assert count(db, "rejected_files") == 0


# --- hostile files ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [pytest.param(data, reason, id=name) for name, data, _, reason in HOSTILE],
)
def test_hostile_file_is_rejected_and_the_rest_stored(
    db: Database, folder: Path, data: bytes, reason: str
) -> None:
    write_article(folder, "a-good.md", url="https://example.com/a")
    write_article(folder, "m-hostile.md", data)
    write_article(folder, "z-good.md", url="https://example.com/z")
    report = scan(db, folder)
    assert report.new == 2
    assert count(db, "articles") == 2
    assert list(rejected(report)) == ["m-hostile.md"]
    assert reason in rejected(report)["m-hostile.md"]
    assert db.execute("SELECT reason FROM rejected_files").fetchall() == [
        (rejected(report)["m-hostile.md"],)
    ]


def test_all_hostile_files_in_one_folder(db: Database, folder: Path, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    for index, (_, data, _, _) in enumerate(HOSTILE):
        write_article(folder, f"hostile-{index:02d}.md", data)
    write_article(
        folder,
        "tag.md",
        f"---\nx: !!python/object/apply:os.system ['touch {marker}']\n---\n".encode(),
    )
    write_article(folder, "good.md")
    report = scan(db, folder)
    assert report.new == 1
    assert len(report.rejected) == len(HOSTILE) + 1
    assert all(r.reason for r in report.rejected)
    assert count(db, "rejected_files") == len(HOSTILE) + 1
    assert not marker.exists()


def test_alias_bomb_does_not_slow_the_scan(db: Database, folder: Path) -> None:
    bomb = next(data for name, data, _, _ in HOSTILE if name == "billion laughs")
    for index in range(20):
        write_article(folder, f"bomb-{index}.md", bomb)
    started = time.process_time()
    report = scan(db, folder)
    assert len(report.rejected) == 20
    assert time.process_time() - started < 0.5


def test_oversize_file_is_rejected_unread(db: Database, folder: Path) -> None:
    write_article(folder, "big.md", b"---\n" + b"x" * MAX_FILE_BYTES + b"\n---\n")
    assert "file too large" in rejected(scan(db, folder))["big.md"]


def test_symlink_is_rejected_not_followed(db: Database, folder: Path, tmp_path: Path) -> None:
    outside = write_article(tmp_path, "outside.md", url="https://example.com/outside")
    (folder / "link.md").symlink_to(outside)
    write_article(folder, "good.md")
    report = scan(db, folder)
    assert rejected(report) == {"link.md": "not a regular file (symbolic link)"}
    assert count(db, "articles") == 1
    # Recorded, so the next scan reports it as still rejected rather than new.
    again = scan(db, folder)
    assert again.rejected == []
    assert rejected(again) == {"link.md": "not a regular file (symbolic link)"}


def run_with_timeout(action: Callable[[], None], seconds: float) -> None:
    """Fail instead of hanging the test run when ``action`` blocks."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            action()
        except BaseException as exc:  # handed to the test thread below
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it blocked"
    if errors:
        raise errors[0]


def test_fifo_is_rejected_without_hanging(db_path: Path, folder: Path) -> None:
    os.mkfifo(folder / "x.md")
    write_article(folder, "good.md")
    reports: list[ScanReport] = []

    def ingest() -> None:
        database = open_db(db_path)  # SQLite connections stay on their thread
        try:
            reports.append(scan(database, folder))
        finally:
            database.close()

    run_with_timeout(ingest, 10)
    assert rejected(reports[0]) == {"x.md": "not a regular file (special file)"}
    assert reports[0].new == 1


def test_file_swapped_for_a_fifo_or_link_after_listing_is_not_opened(folder: Path) -> None:
    # The race the listing cannot see: examine_files gets a path that has since changed.
    fifo = folder / "fifo.md"
    os.mkfifo(fifo)
    link = folder / "link.md"
    link.symlink_to(write_article(folder, "target.md"))
    outcomes: list[object] = []
    jobs = [(str(fifo), 10, 1, None), (str(link), 10, 1, None)]
    run_with_timeout(lambda: outcomes.extend(examine_files(jobs)), 10)
    assert [(o.moved, o.rows) for o in outcomes] == [(True, None), (True, None)]  # type: ignore[attr-defined]


def test_hidden_temp_and_other_files_are_ignored(db: Database, folder: Path) -> None:
    write_article(folder, ".partial.md", b"half a file")
    write_article(folder, "draft.md~", b"editor backup")
    write_article(folder, "notes.json", b"{}")
    write_article(folder, "sub/deeper/story.markdown")
    report = scan(db, folder)
    assert (report.new, report.rejected, count(db, "files")) == (1, [], 1)


def test_missing_folder_is_a_scan_error(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ScanError, match="does not exist"):
        scan(db, tmp_path / "nowhere")
    write_article(tmp_path, "plain.md", b"x")
    with pytest.raises(ScanError, match="not a directory"):
        scan(db, tmp_path / "plain.md")


def test_huge_related_quality_does_not_reach_sqlite(db: Database, folder: Path) -> None:
    # 1.0e+30 is a valid YAML float; as an integer it is past what SQLite stores.
    write_article(
        folder, "story.md", related=[Related("R", "https://r.example/", quality=Yaml("1.0e+30"))]
    )
    report = scan(db, folder)
    assert (report.new, report.rejected) == (1, [])
    assert db.execute("SELECT title, quality FROM related_links").fetchall() == [("R", None)]


def test_values_the_database_refuses_reject_only_that_file(
    db: Database, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Should the parser ever let through a value SQLite will not store, the batch is
    # stored file by file and only the culprit is rejected.
    import storage.examine

    real = storage.examine.article_rows

    def poisoned(article: object, path: str) -> object:
        rows = real(article, path)  # type: ignore[arg-type]
        if path.endswith("poison.md"):
            return rows._replace(related=[(0, "u", "u", "t", "", None, None, None, 10**30)])
        return rows

    monkeypatch.setattr(storage.examine, "article_rows", poisoned)
    write_article(folder, "a.md", url="https://example.com/a")
    write_article(folder, "poison.md", url="https://example.com/p")
    write_article(folder, "z.md", url="https://example.com/z")
    report = scan(db, folder)
    assert report.new == 2
    assert rejected(report) == {
        "poison.md": "cannot be stored: OverflowError: Python int too large to convert to "
        "SQLite INTEGER"
    }
    assert {url for (url,) in db.execute("SELECT url FROM articles")} == {
        "https://example.com/a",
        "https://example.com/z",
    }
    assert count(db, "rejected_files") == 1
    assert scan(db, folder).still_rejected[0].path.endswith("poison.md")


# --- re-scans and changes -----------------------------------------------------------


def all_rows(db: Database) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for table in (
            "articles", "topics", "article_topics", "related_links", "files", "rejected_files"
        )
    }  # fmt: skip


def test_rescan_is_idempotent(db: Database, folder: Path) -> None:
    for index in range(5):
        write_article(
            folder,
            f"story-{index}.md",
            url=f"https://example.com/{index}",
            topics=("AI", "Privacy"),
            related=[("Other coverage", f"https://other.example/{index}")],
        )
    write_article(folder, "broken.md", b"no frontmatter")
    first = scan(db, folder)
    assert (first.new, first.updated, first.unchanged, len(first.rejected)) == (5, 0, 0, 1)
    before = all_rows(db)

    second = scan(db, folder)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 6)
    assert second.rejected == []
    assert rejected(second) == {"broken.md": rejected(first)["broken.md"]}
    assert all_rows(db) == before
    assert count(db, "article_topics") == 10
    assert count(db, "related_links") == 5


def test_edited_file_updates_its_article(db: Database, folder: Path) -> None:
    times = iter(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=m) for m in range(100))
    path = write_article(
        folder,
        "story.md",
        url="https://example.com/story",
        title="First title",
        topics=["AI", "Privacy"],
        related=[("One", "https://one.example/"), ("Two", "https://two.example/")],
    )
    scan(db, folder, now=lambda: next(times))
    (ingested, updated) = db.execute("SELECT ingested_at, updated_at FROM articles").fetchone()

    write_article(
        folder,
        "story.md",
        url="https://example.com/story",
        title="Second title",
        topics=["Climate"],
        related=[("Three", "https://three.example/")],
        age=HOUR / 2,
    )
    report = scan(db, folder, now=lambda: next(times))
    assert (report.new, report.updated, report.unchanged) == (0, 1, 0)
    row = db.execute("SELECT title, ingested_at, updated_at FROM articles").fetchall()
    assert len(row) == 1
    assert row[0][0] == "Second title"
    assert row[0][1] == ingested  # first seen stays first seen
    assert row[0][2] > updated
    assert topics_of(db, "https://example.com/story") == {"Climate"}
    assert db.execute("SELECT position, title FROM related_links").fetchall() == [(0, "Three")]
    # The old title is gone from the search index, the new one is found.
    assert count(db, "articles_fts") == 1
    assert db.execute(
        "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'first'"
    ).fetchone() == (0,)
    assert db.execute(
        "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'second'"
    ).fetchone() == (1,)
    assert path.exists()


def test_touched_identical_file_stays_unchanged(db: Database, folder: Path) -> None:
    path = write_article(folder, "story.md", url="https://example.com/story")
    scan(db, folder)
    before = db.execute("SELECT * FROM articles").fetchall()
    later = time.time() - 60
    os.utime(path, (later, later))
    report = scan(db, folder)
    assert (report.new, report.updated, report.unchanged) == (0, 0, 1)
    assert db.execute("SELECT * FROM articles").fetchall() == before
    mtime_ns, url = db.execute("SELECT mtime_ns, article_url FROM files").fetchone()
    assert mtime_ns == path.stat().st_mtime_ns  # the index follows, so it is one stat next time
    assert url == "https://example.com/story"
    assert (scan(db, folder).unchanged, scan(db, folder).new) == (1, 0)


def test_same_story_under_url_variants_is_one_row(db: Database, folder: Path) -> None:
    for name, url in [("a", "https://www.example.com/story/"),
                      ("b", "https://example.com/story?utm_source=feed"),
                      ("c", "http://example.com/story#top")]:  # fmt: skip
        write_article(folder, f"{name}.md", url=url, title=f"From {name}", topics=("AI", "Privacy"))
    report = scan(db, folder)
    assert (report.new, report.updated) == (1, 2)
    assert db.execute("SELECT url, title FROM articles").fetchall() == [
        ("https://example.com/story", "From c")  # the last file (by path) wins
    ]
    assert count(db, "article_topics") == 2
    assert {url for (url,) in db.execute("SELECT article_url FROM files")} == {
        "https://example.com/story"
    }
    assert (scan(db, folder).new, count(db, "articles")) == (0, 1)


def test_deleted_file_is_forgotten_but_its_article_stays(db: Database, folder: Path) -> None:
    write_article(folder, "keep.md", url="https://example.com/keep")
    gone = write_article(folder, "gone.md", url="https://example.com/gone")
    write_article(folder, "bad.md", b"nothing")
    scan(db, folder)
    gone.unlink()
    (folder / "bad.md").unlink()
    report = scan(db, folder)
    assert report.removed == 2
    assert {Path(p).name for (p,) in db.execute("SELECT path FROM files")} == {"keep.md"}
    assert count(db, "rejected_files") == 0
    assert count(db, "articles") == 2


def test_file_being_written_waits_for_the_next_scan(db: Database, folder: Path) -> None:
    write_article(folder, "settled.md", url="https://example.com/settled")
    fresh = write_article(folder, "fresh.md", url="https://example.com/fresh", age=0)
    report = scan(db, folder)
    assert report.deferred == [str(fresh.resolve())]
    assert (report.new, count(db, "files")) == (1, 1)
    assert scan(db, folder).deferred == [str(fresh.resolve())]  # still too young
    settled = time.time() - 10
    os.utime(fresh, (settled, settled))
    report = scan(db, folder)
    assert (report.new, report.deferred) == (1, [])
    assert count(db, "articles") == 2


def test_one_shot_scan_waits_for_a_recent_file(db: Database, folder: Path) -> None:
    write_article(folder, "fresh.md", age=0)
    report = scan(db, folder, min_age=0.2, wait_for_recent=True)
    assert (report.new, report.deferred) == (1, [])


def test_fixed_file_leaves_the_rejected_list(db: Database, folder: Path) -> None:
    write_article(folder, "story.md", b"---\ntitle: [unclosed\n---\n")
    first = scan(db, folder)
    assert "invalid YAML" in rejected(first)["story.md"]
    assert count(db, "rejected_files") == 1
    write_article(folder, "story.md", age=HOUR / 2)
    report = scan(db, folder)
    assert (report.new, report.all_rejected) == (1, [])
    assert count(db, "rejected_files") == 0
    assert db.execute("SELECT status FROM files").fetchall() == [("ok",)]


def test_article_that_turns_bad_keeps_its_row(db: Database, folder: Path) -> None:
    write_article(folder, "story.md")
    scan(db, folder)
    write_article(folder, "story.md", b"---\ntitle: x\n---\n", age=HOUR / 2)
    report = scan(db, folder)
    assert "missing required field 'webUrl'" in rejected(report)["story.md"]
    assert count(db, "articles") == 1
    assert db.execute("SELECT status FROM files").fetchall() == [("rejected",)]


# --- workers ------------------------------------------------------------------------


def test_workers_give_the_same_store_as_one_process(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks: more of them than are handed to the workers at once, so this process
    # parses some itself, and repeated stories fall in chunks parsed by different ones.
    monkeypatch.setattr("storage.ingest.CHUNK_FILES", 10)
    monkeypatch.setattr("storage.ingest.BATCH_ROWS", 50)  # fewer chunks queued ahead
    total = PARALLEL_THRESHOLD + 60
    for index in range(total):
        # Every 7th file repeats an earlier story: which file wins must not depend on
        # the number of workers. Every 50th is broken.
        story = index - 3 if index % 7 == 0 and index > 3 else index
        data = article_bytes(
            url=f"https://example.com/{story}",
            title=f"Story {index}",
            topics=[f"Topic {index % 13}", "Shared"],
            related=[(f"Related {index}", f"https://other.example/{index % 40}")],
        )
        write_article(
            folder, f"{index // 100}/story-{index:04d}.md", b"oops" if index % 50 == 0 else data
        )
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    dumps = []
    for workers in (0, 1, 2):
        database = open_db(tmp_path / f"store-{workers}.db")
        try:
            report = scan(database, folder, workers=workers, now=lambda: moment)
            assert (report.new + report.updated, len(report.rejected)) == (total - 10, 10)
            dumps.append(all_rows(database))
        finally:
            database.close()
    assert dumps[0] == dumps[1] == dumps[2]
    assert len(dumps[0]["articles"]) < total - 10  # the repeats really collapsed


# --- storage details ----------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2023, 6, 14, 11, 29, tzinfo=UTC),
        datetime(2023, 6, 14, 13, 29, 0, 5, tzinfo=timezone(timedelta(hours=2))),
        datetime(1000, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
)
def test_fast_db_time_matches_to_db_time(moment: datetime) -> None:
    assert _db_time(moment) == to_db_time(moment)


@pytest.mark.parametrize("data", [pytest.param(data, id=name) for name, data, _, _ in HOSTILE])
def test_rejection_reason_is_one_line(data: bytes) -> None:
    # The CLI prints one rejected file per line.
    with pytest.raises(ArticleError) as caught:
        parse_article_bytes(data)
    assert str(caught.value) and "\n" not in str(caught.value)
