"""What a parser worker sends back: the same outcomes, packed for the scanning process."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from storage.examine import examine_files, examine_packed, unpack
from tests.factories import Related, write_article


def test_packed_outcomes_are_the_outcomes(folder: Path, seed_bytes: bytes) -> None:
    paths = [
        write_article(folder, "seed.md", seed_bytes),
        write_article(
            folder,
            "linked.md",
            title="Chips get faster",
            url="https://example.com/chips",
            topics=["AI", "Semiconductors"],
            related=[Related("Other coverage", "https://example.org/chips", quality=70)],
        ),
        write_article(folder, "bad.md", "---\ntitle: [unclosed\n---\n"),
        write_article(folder, "empty.md", b""),
    ]
    jobs = []
    for path in paths:
        info = os.stat(path)
        jobs.append((str(path), info.st_size, info.st_mtime_ns, None))
    # The seed again, as the index already knows it: same content, nothing parsed.
    seed_sha = hashlib.sha256(seed_bytes).hexdigest()
    jobs.append((jobs[0][0], jobs[0][1], jobs[0][2], seed_sha))
    # A file that changed since it was listed.
    jobs.append((jobs[1][0], jobs[1][1] + 1, jobs[1][2], None))
    direct = examine_files(jobs)
    assert [o.rows is not None for o in direct] == [True, True, False, False, False, False]
    assert direct[4].same_content and direct[5].moved and direct[2].error
    assert unpack(examine_packed(jobs)) == direct
