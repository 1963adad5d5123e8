"""The schema, as ``sqlite_utils`` migrations. Add new steps at the end; never edit old ones."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("newsdigest")


@MIGRATIONS()
def m001_articles(db: Database) -> None:
    db.table("articles").create(
        {
            "id": int,
            "url": str,  # normalised webUrl: one row per story
            "web_url": str,
            "original_url": str,
            "title": str,
            "excerpt": str,
            "body": str,
            "published_at": str,
            "ingested_at": str,
            "updated_at": str,
            "quality": int,
            "heat": int,
            "published": int,
            "provider_name": str,
            "provider_domain": str,
            "category": str,
            "kind": str,
            "secured": str,
            "images": str,  # JSON
            "extra": str,  # JSON: unknown frontmatter fields, kept but never used
            "source_path": str,
        },
        pk="id",
        not_null={"url", "web_url", "title", "published_at", "ingested_at"},
    )
    db.table("articles").create_index(["url"], unique=True)
    db.table("articles").create_index(["ingested_at"])
    db.table("articles").create_index(["published_at"])
    db.table("topics").create({"id": int, "name": str}, pk="id", not_null={"name"})
    db.execute("CREATE UNIQUE INDEX idx_topics_name ON topics(name COLLATE NOCASE)")
    db.table("article_topics").create(
        {"article_id": int, "topic_id": int},
        pk=("article_id", "topic_id"),
        foreign_keys=[("article_id", "articles", "id"), ("topic_id", "topics", "id")],
    )
    db.table("article_topics").create_index(["topic_id", "article_id"])
    db.table("related_links").create(
        {
            "article_id": int,
            "position": int,
            "url": str,
            "web_url": str,
            "title": str,
            "excerpt": str,
            "published_at": str,
            "provider_name": str,
            "provider_domain": str,
            "quality": int,
        },
        pk=("article_id", "position"),
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("related_links").create_index(["url"])
    db.table("articles").enable_fts(
        ["title", "excerpt", "body"], create_triggers=True, tokenize="porter"
    )


@MIGRATIONS()
def m002_files(db: Database) -> None:
    db.table("files").create(
        {
            "path": str,
            "size": int,
            "mtime_ns": int,
            "sha256": str,
            "article_url": str,
            "status": str,  # "ok" | "rejected"
            "scanned_at": str,
        },
        pk="path",
    )
    db.table("rejected_files").create({"path": str, "reason": str, "rejected_at": str}, pk="path")
    db.table("rejected_files").create_index(["rejected_at"])
    db.table("state").create({"key": str, "value": str}, pk="key")


@MIGRATIONS()
def m003_readers(db: Database) -> None:
    db.table("readers").create(
        {
            "chat_id": int,
            "user_id": int,
            "username": str,
            "first_name": str,
            "status": str,  # "active" | "stopped" | "blocked"
            "digest_time": str,  # HH:MM in the reader's zone
            "timezone": str,
            "next_digest_at": str,  # UTC instant of the next scheduled digest
            "last_digest_at": str,
            "digest_since": str,  # window start: articles ingested after it are "new"
            "created_at": str,
            "updated_at": str,
        },
        pk="chat_id",
        not_null={"status", "digest_time", "timezone"},
    )
    db.table("readers").create_index(["status", "next_digest_at"])
    db.table("reader_topics").create(
        {"chat_id": int, "topic_id": int},
        pk=("chat_id", "topic_id"),
        foreign_keys=[("chat_id", "readers", "chat_id"), ("topic_id", "topics", "id")],
    )
    db.table("reader_topics").create_index(["topic_id"])


@MIGRATIONS()
def m004_delivery(db: Database) -> None:
    db.table("pushes").create(
        {
            "id": int,
            "created_by": int,
            "article_id": int,
            "text": str,
            "audience": int,
            "status": str,  # "preview" | "sending" | "cancelled"
            "preview_chat_id": int,
            "preview_message_id": int,
            "created_at": str,
        },
        pk="id",
    )
    db.table("outbox").create(
        {
            "id": int,
            "chat_id": int,
            "priority": int,  # 0 answers, 1 breaking, 2 digests: lower goes first
            "kind": str,
            "text": str,
            "reply_markup": str,  # JSON
            "push_id": int,
            "status": str,  # "pending" | "sent" | "failed" | "dropped"
            "attempts": int,
            "not_before": str,
            "last_error": str,
            "created_at": str,
            "sent_at": str,
            "message_id": int,
        },
        pk="id",
        not_null={"chat_id", "priority", "kind", "text", "status"},
        defaults={"attempts": 0},
    )
    db.execute("CREATE INDEX idx_outbox_pending ON outbox(priority, id) WHERE status = 'pending'")
    db.table("outbox").create_index(["push_id", "status"])
    db.table("outbox").create_index(["chat_id", "status"])
    db.table("deliveries").create(
        {
            "chat_id": int,
            "article_id": int,
            "outbox_id": int,
            "via": str,  # "digest" | "breaking"
            "queued_at": str,
            "sent_at": str,
        },
        pk=("chat_id", "article_id"),
    )
    db.table("deliveries").create_index(["article_id"])
    db.table("deliveries").create_index(["outbox_id"])


@MIGRATIONS()
def m010_groups_channels_subscribers(db: Database) -> None:
    """Groups, supergroups (forum topics) and channels subscribe like private chats do."""
    readers = db.table("readers")
    # "private" | "group" | "supergroup" | "channel": Telegram's chat type. Every row so far
    # is a private chat (handlers answered nothing else).
    readers.add_column("chat_kind", str, not_null_default="private")
    readers.add_column("title", str)  # a group's or channel's title, as last seen
    readers.add_column("thread_id", int)  # forum topic the digest goes to (None: General)
    readers.add_column("paused_reason", str)  # why a blocked group or channel was paused
    db.table("channel_managers").create(
        {"chat_id": int, "user_id": int, "added_at": str},  # who added a channel through the bot
        pk=("chat_id", "user_id"),
    )
    db.table("channel_managers").create_index(["user_id"])
    db.table("outbox").add_column("thread_id", int)  # message_thread_id of the send


@MIGRATIONS()
def m011_reader_controls_settings(db: Database) -> None:
    """Issue 11: cadence, pause, quiet hours and digest shape per subscription; keywords,
    muted sources and pending text prompts in tables of their own."""
    readers = db.table("readers")
    readers.add_column("digest_times", str)  # "07:30,19:00"; NULL: digest_time alone
    readers.add_column("digest_days", str)  # digest.schedule.Days; NULL: daily
    readers.add_column("paused_until", str)  # UTC instant; no digests or pushes before it
    readers.add_column("quiet_start", str)  # HH:MM local; NULL: no quiet hours
    readers.add_column("quiet_end", str)
    readers.add_column("quiet_mode", str)  # "silent" | "hold"
    readers.add_column("digest_size", int)  # 5, 10 or 20; NULL: 10
    readers.add_column("link_previews", str)  # "off" | "first" | "all"; NULL: off
    readers.add_column("digest_order", str)  # "ranked" | "newest"; NULL: ranked
    db.table("reader_keywords").create(
        {
            "id": int,
            "chat_id": int,
            "kind": str,  # "include" | "exclude"
            "term": str,  # as the reader wrote it
            "term_key": str,  # normalised words (digest.keywords.Term.key)
            "created_at": str,
        },
        pk="id",
        not_null={"chat_id", "kind", "term", "term_key"},
    )
    db.table("reader_keywords").create_index(["chat_id", "kind", "term_key"], unique=True)
    db.table("reader_muted").create(
        {"id": int, "chat_id": int, "provider": str, "provider_key": str, "created_at": str},
        pk="id",
        not_null={"chat_id", "provider", "provider_key"},
    )
    db.table("reader_muted").create_index(["chat_id", "provider_key"], unique=True)
    db.table("prompts").create(
        {
            "user_id": int,  # one pending prompt per user: the latest wins
            "chat_id": int,  # the subscription the answer changes
            "kind": str,
            "message_id": int,  # the ForceReply prompt message
            "expires_at": str,
            "created_at": str,
        },
        pk="user_id",
        not_null={"chat_id", "kind", "expires_at"},
    )


@MIGRATIONS()
def m012_reader_controls_outbox(db: Database) -> None:
    """Issue 11: per-row send options (quiet hours, link previews)."""
    outbox = db.table("outbox")
    outbox.add_column("disable_notification", int)  # 1: arrives without sound
    # A held push waits for this instant without holding the chat's other messages
    # (unlike not_before, which is a retry's wait and keeps a chat's order).
    outbox.add_column("hold_until", str)
    outbox.add_column("link_preview_url", str)  # NULL: previews off


@MIGRATIONS()
def m014_perf_article_revision(db: Database) -> None:
    # One number that changes whenever any article is written or deleted, by whatever
    # process: readers that keep articles in memory (bot.delivery.pool_cache) compare it
    # instead of re-reading the store. Topics and related links only change with their
    # article's upsert, which fires the UPDATE trigger.
    db.execute(
        "CREATE TABLE article_revision (id INTEGER PRIMARY KEY CHECK (id = 1), "
        "value INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO article_revision (id, value) VALUES (1, 0)")
    for event in ("INSERT", "UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER articles_revision_{event.lower()} AFTER {event} ON articles "
            "BEGIN UPDATE article_revision SET value = value + 1 WHERE id = 1; END"
        )


@MIGRATIONS()
def m015_perf_related_links_url_article(db: Database) -> None:
    # /related looks up the articles linking a URL, lowest ids first, a few at a time:
    # with the article id in the index that is a range read that stops early, not a
    # fetch and sort of every article linking a popular URL. It replaces the url index.
    db.execute("CREATE INDEX idx_related_links_url_article ON related_links(url, article_id)")
    db.execute("DROP INDEX IF EXISTS idx_related_links_url")


@MIGRATIONS()
def m016_perf_rejected_files_index(db: Database) -> None:
    # A rescan asks which indexed files were rejected: few, found through this small
    # partial index instead of a scan of the whole files table.
    db.execute("CREATE INDEX idx_files_rejected ON files(path) WHERE status = 'rejected'")


@MIGRATIONS()
def m019_follow_a_stories(db: Database) -> None:
    """Issue 12: following a story. A story (named by its lead article's id) is shared by
    its followers: its known members (``seq``: the order they became known in), their
    title words (the lookup index of the matching job), and one row per follower with
    what it last heard."""
    db.execute(
        "CREATE TABLE follow_stories (article_id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, "
        "last_news_at TEXT NOT NULL, max_seq INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("CREATE INDEX idx_follow_stories_news ON follow_stories(last_news_at)")
    db.execute(
        "CREATE TABLE follow_members (seq INTEGER PRIMARY KEY, story_id INTEGER NOT NULL, "
        "article_id INTEGER NOT NULL, added_at TEXT NOT NULL)"
    )
    db.execute("CREATE UNIQUE INDEX idx_follow_members ON follow_members(story_id, article_id)")
    db.execute("CREATE INDEX idx_follow_members_article ON follow_members(article_id)")
    # One row per distinct title word of each member article (not per story): the
    # near-identical-title lookup reads only the postings of a new title's rarest words.
    db.execute(
        "CREATE TABLE follow_words (word TEXT NOT NULL, article_id INTEGER NOT NULL, "
        "PRIMARY KEY (word, article_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_follow_words_article ON follow_words(article_id)")
    db.execute(
        "CREATE TABLE follows (chat_id INTEGER NOT NULL, story_id INTEGER NOT NULL, "
        "followed_at TEXT NOT NULL, "
        "last_update_at TEXT, "  # the last update queued to this follower (NULL: none yet)
        "seen_seq INTEGER NOT NULL, "  # members up to this seq were known or told of
        "PRIMARY KEY (chat_id, story_id))"
    )
    db.execute("CREATE INDEX idx_follows_story ON follows(story_id)")
    # The job matches articles stored after this id: those stored before the feature
    # existed are nobody's news.
    db.execute(
        "INSERT OR REPLACE INTO state (key, value) "
        "SELECT 'follow_seen_article_id', coalesce(max(id), 0) FROM articles"
    )


@MIGRATIONS()
def m020_cards_a_body_words(db: Database) -> None:
    """Issue 12: an article's body word count, for the reading time on its digest entry.

    Filled at ingest. Rows stored before are not backfilled: an UPDATE of every article
    would rewrite its full-text entry (the FTS triggers fire on any column), and digests
    only carry articles of the last NEWSDIGEST_MAX_AGE, which are soon all new ones.
    """
    db.table("articles").add_column("body_words", int)


@MIGRATIONS()
def m020_cards_b_outbox_digest_part(db: Database) -> None:
    """Issue 12: what a digest message shows (digest.parts.DigestPart as text), so a
    story card's Back button renders it again; found by the message Telegram gave it."""
    db.table("outbox").add_column("digest_part", str)
    db.execute(
        "CREATE INDEX idx_outbox_chat_message ON outbox(chat_id, message_id) "
        "WHERE message_id IS NOT NULL"
    )


@MIGRATIONS()
def m020_cards_c_votes(db: Database) -> None:
    """Issue 12: 👍/👎 on story cards, one per subscription and story (the lead article).

    The story's topics and provider are kept with the vote, so the weights read one table
    and outlive the article's pruning; ``user_id`` is who tapped (in a group: an admin).
    """
    db.table("story_votes").create(
        {
            "chat_id": int,
            "article_id": int,
            "user_id": int,
            "value": int,  # +1 or -1
            "provider_key": str,  # digest.assemble.provider_key of the story's provider
            "topic_ids": str,  # "3,7"
            "voted_at": str,
        },
        pk=("chat_id", "article_id"),
        not_null={"value", "voted_at"},
    )
    db.table("story_votes").create_index(["chat_id", "voted_at"])


@MIGRATIONS()
def m021_language_readers(db: Database) -> None:
    """Issue 12: the language the bot speaks in each chat (NULL: not chosen, English)."""
    db.table("readers").add_column("language", str)
