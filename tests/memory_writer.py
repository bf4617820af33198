"""A separate process that writes pages into a memory database, one transaction per page, and says
after each one how many it has written. The fault tests run several at once, or kill one."""

import sys
from datetime import UTC, datetime
from pathlib import Path

from memory import Memory
from tools import Page


def main(path: str, count: int, tag: str, sentences: int) -> None:
    memory = Memory(Path(path), target_tokens=40)
    for i in range(count):
        text = " ".join(f"Page {tag}-{i} sentence {j} mentions {tag} topic {j}." for j in range(sentences))
        url = f"https://example.org/{tag}/{i}"
        memory.knowledge.add(Page(url=url, final_url=url, title=f"{tag} {i}", text=text, fetched_at=datetime.now(UTC), status=200))
        print(f"wrote {i + 1}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
