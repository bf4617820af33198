"""Task memory: the plan of each research run, written as it progresses.

A run's sub-questions, their dependencies, status, answers and the chunks each answer used are saved
node by node, so a finished or interrupted run can be inspected (and resumed by the agents).
"""

import json
from datetime import UTC, datetime

from memory.db import Database
from memory.models import RunRecord, TaskNode


class Tasks:
    def __init__(self, db: Database) -> None:
        self.db = db

    def start_run(self, run_id: str, question: str, *, thread_id: str | None = None) -> None:
        now = datetime.now(UTC).isoformat()
        with self.db.write() as con:
            if thread_id is not None:
                con.execute("INSERT OR IGNORE INTO threads(id, created_at, updated_at) VALUES (?, ?, ?)", (thread_id, now, now))
            con.execute(
                "INSERT INTO runs(id, thread_id, question, status, started_at) VALUES (?, ?, ?, 'running', ?) "
                "ON CONFLICT(id) DO UPDATE SET status = 'running', finished_at = NULL",
                (run_id, thread_id, question, now),
            )

    def save_node(self, run_id: str, node: TaskNode) -> None:
        with self.db.write() as con:
            con.execute(
                """INSERT INTO task_nodes(run_id, node_id, position, question, depends_on, status, answer, chunk_ids, updated_at)
                   VALUES (?1, ?2, (SELECT count(*) FROM task_nodes WHERE run_id = ?1), ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(run_id, node_id) DO UPDATE SET question = excluded.question,
                   depends_on = excluded.depends_on, status = excluded.status, answer = excluded.answer,
                   chunk_ids = excluded.chunk_ids, updated_at = excluded.updated_at""",
                (run_id, node.node_id, node.question, json.dumps(node.depends_on), node.status, node.answer,
                 json.dumps(node.chunk_ids), datetime.now(UTC).isoformat()),
            )

    def record_page(self, run_id: str, page_id: int) -> None:
        """Note that a run read a page (already in memory), so recall scoped to the run finds it."""
        with self.db.write() as con:
            con.execute("INSERT OR IGNORE INTO run_pages(run_id, page_id) VALUES (?, ?)", (run_id, page_id))

    def finish_run(self, run_id: str, status: str = "done") -> None:
        with self.db.write() as con:
            con.execute("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", (status, datetime.now(UTC).isoformat(), run_id))

    def get_run(self, run_id: str) -> RunRecord | None:
        with self.db.connect() as con:
            row = con.execute("SELECT id, thread_id, question, status, started_at, finished_at FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            nodes = con.execute(
                "SELECT node_id, question, depends_on, status, answer, chunk_ids FROM task_nodes WHERE run_id = ? ORDER BY position",
                (run_id,),
            ).fetchall()
            pages = con.execute("SELECT count(*) FROM run_pages WHERE run_id = ?", (run_id,)).fetchone()[0]
        return RunRecord(
            id=row[0], thread_id=row[1], question=row[2], status=row[3], started_at=row[4], finished_at=row[5], pages=pages,
            nodes=[TaskNode(node_id=n[0], question=n[1], depends_on=json.loads(n[2]), status=n[3], answer=n[4],
                            chunk_ids=json.loads(n[5])) for n in nodes],
        )

    def pages_read(self, run_id: str) -> list[tuple[str, str]]:
        """(url, title) of each page the run read, oldest stored first."""
        with self.db.connect() as con:
            return con.execute("SELECT p.url, p.title FROM run_pages r JOIN pages p ON p.id = r.page_id "
                               "WHERE r.run_id = ? ORDER BY p.id", (run_id,)).fetchall()

    def runs(self, thread_id: str | None = None) -> list[RunRecord]:
        with self.db.connect() as con:
            ids = [r[0] for r in con.execute(
                "SELECT id FROM runs WHERE ?1 IS NULL OR thread_id = ?1 ORDER BY started_at", (thread_id,))]
        return [run for i in ids if (run := self.get_run(i)) is not None]
