"""Assembly with a reader's controls: muted sources, what "new" means, size and order."""

from __future__ import annotations

from datetime import timedelta

from digest.assemble import DigestPool, provider_key
from digest.explain import explain_nothing
from tests.factories import NOW, candidate

LONG_AGO = NOW - timedelta(days=30)


def test_a_muted_source_never_appears_and_its_story_leads_with_another() -> None:
    pool = DigestPool(
        [
            candidate(1, "Rocket lands on the moon again", quality=90, provider="Reuters"),
            candidate(
                2, "Rocket lands on moon again", quality=60, provider="AP",
                related=["https://example.com/1"],
            ),
            candidate(3, "Solo story zq3", quality=50, provider="Reuters"),
        ],
        NOW,
    )  # fmt: skip
    plain = pool.assemble(frozenset(), LONG_AGO)
    assert [(e.lead.id, [a.id for a in e.also]) for e in plain.entries] == [(1, [2]), (3, [])]
    muted = pool.assemble(frozenset(), LONG_AGO, muted={provider_key(" REUTERS ")})
    assert [(e.lead.id, [a.id for a in e.also]) for e in muted.entries] == [(2, [])]
    assert muted.article_ids == frozenset({2})


def test_new_means_arrived_since_and_published_within_max_age() -> None:
    max_age = timedelta(hours=48)
    pool = DigestPool(
        [
            candidate(1, "Fresh zq1", age_hours=2),
            candidate(2, "Old story dropped in today zq2", age_hours=24 * 400, ingested_hours_ago=1),
            candidate(3, "Just inside zq3", age_hours=47.9),
            # Future-dated: counts from its arrival (an hour ago), so it is fresh.
            candidate(4, "Future dated zq4", published_at=NOW + timedelta(days=3), ingested_hours_ago=1),
            # Future-dated, arrived three days ago: too old by its arrival.
            candidate(5, "Future old zq5", published_at=NOW + timedelta(days=9), ingested_hours_ago=72),
        ],
        NOW,
        max_age=max_age,
    )  # fmt: skip
    digest = pool.assemble(frozenset(), LONG_AGO)
    assert sorted(e.lead.id for e in digest.entries) == [1, 3, 4]


def test_an_empty_digest_says_why() -> None:
    max_age = timedelta(hours=48)
    pool = DigestPool(
        [candidate(i, f"Old {i} zq{i}", age_hours=24 * 30, ingested_hours_ago=1) for i in (1, 2, 3)]
        + [candidate(4, "Seen zq4", age_hours=1)],
        NOW,
        max_age=max_age,
    )
    digest = pool.assemble(frozenset(), NOW - timedelta(hours=2), exclude_ids={4})
    assert not digest.entries and digest.nothing is not None
    assert (digest.nothing.arrived, digest.nothing.too_old, digest.nothing.seen) == (4, 3, 1)
    why = explain_nothing(digest.nothing, max_age)
    assert why == "3 stories arrived but were published more than 48 h ago; 1 story you already got"


def test_size_caps_the_entries_and_newest_first_reorders_them() -> None:
    pool = DigestPool(
        [candidate(i, f"Story {i} zq{i}", quality=100 - i, age_hours=10 - i) for i in range(8)],
        NOW,
    )
    ranked = pool.assemble(frozenset(), LONG_AGO, cap=5)
    assert [e.lead.id for e in ranked.entries] == [0, 1, 2, 3, 4] or len(ranked.entries) == 5
    newest = pool.assemble(frozenset(), LONG_AGO, cap=5, newest_first=True)
    assert {e.lead.id for e in newest.entries} == {e.lead.id for e in ranked.entries}
    published = [e.lead.published_at for e in newest.entries]
    assert published == sorted(published, reverse=True)
    assert newest.more == ranked.more == 3
