"""The monitor state in a real PostgreSQL server (a throwaway cluster, tests/pg_cluster.py): kill/restart and
idempotency give the same state and alerts as SQLite on the same input, the CLI and the dashboard take a URL,
and bad URLs, unreachable servers and missing drivers are one-line errors that hide the password."""

import importlib.util
import json
import os
import random
import subprocess
import sys

import pytest
import sqlalchemy as sa

from textrisk.cli import main
from textrisk.errors import ConfigError, DataError
from textrisk.monitor.dashboard import render_page
from textrisk.monitor.schema import alerts, documents, drift, entities, outbox
from textrisk.monitor.state import MonitorState

from ..helpers import REPO
from .fake_monitor import WALL_CLOCK, alert_lines, kill_after_progress, stream, write_inputs
from .pg_cluster import Cluster, unavailable
from .webhook_server import Receiver, free_port

RUNTIME = WALL_CLOCK | {"attempts", "next_attempt", "last_error", "delivered_at"}


@pytest.fixture(scope="module")
def cluster():
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    with Cluster() as pg:
        yield pg


@pytest.fixture
def pg_url(cluster, request):
    return cluster.create_database(request.node.name.lower().replace("[", "_").replace("]", "")[:60])


def snapshot(location):
    """Every table of the state (any backend) without wall-clock and delivery-timing columns."""
    state = MonitorState(location, readonly=True)
    try:
        out = {}
        for table, order in ((documents, ["seq"]), (entities, ["entity"]), (alerts, ["seq"]),
                             (drift, ["seq_end", "feature"]), (outbox, ["alert_id", "url"])):
            rows = state.rows(sa.select(table).order_by(*(table.c[name] for name in order)))
            for row in rows:
                for key in RUNTIME & set(row):
                    del row[key]
                if "payload" in row:
                    row["payload"] = {k: v for k, v in json.loads(row["payload"]).items() if k not in WALL_CLOCK}
            out[table.name] = rows
        return out
    finally:
        state.close()


def count_documents(engine):
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM documents")).scalar()
    except sa.exc.ProgrammingError:  # the schema is not there yet
        return 0


def fake_monitor(tmp_path, state, name, delay):
    return subprocess.Popen([sys.executable, "-m", "tests.monitor.fake_monitor", str(tmp_path / "in.jsonl"), state,
                             str(tmp_path / f"{name}.jsonl"), str(tmp_path / "rules.yaml"), "7", str(delay)],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def kill_restart_on_postgres(tmp_path, pg_url, n, kill_starts):
    """An uninterrupted SQLite run, then a PostgreSQL run SIGKILLed in its first ``kill_starts`` starts: equal."""
    with Receiver() as receiver:
        write_inputs(tmp_path, n, receiver.server.server_address[1])
        assert fake_monitor(tmp_path, str(tmp_path / "ref.db"), "ref", 0).wait(timeout=300) == 0
        reference_posts = len(receiver.posts)
        engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
        rng, kills = random.Random(5), 0
        for _ in range(kill_starts):
            before = count_documents(engine)
            process = fake_monitor(tmp_path, pg_url, "run", 0.01)
            kills += kill_after_progress(process, lambda: count_documents(engine), before, rng.uniform(0, 0.1))
        assert fake_monitor(tmp_path, pg_url, "run", 0).wait(timeout=300) == 0  # then a run to the end
        engine.dispose()
        ref, run = snapshot(tmp_path / "ref.db"), snapshot(pg_url)
        assert len(run["documents"]) == n and ref["alerts"] and ref["drift"]
        assert run == ref  # documents, indices, alerts, drift and outbox: PostgreSQL == SQLite
        lines = alert_lines(tmp_path / "run.jsonl")
        assert lines == alert_lines(tmp_path / "ref.jsonl") and len({a["id"] for a in lines}) == len(lines)
        posted = [key for key, _ in receiver.posts]
        assert set(posted[reference_posts:]) == set(posted[:reference_posts]) == {a["id"] for a in lines}
        assert fake_monitor(tmp_path, pg_url, "run", 0).wait(timeout=300) == 0  # a rerun adds nothing
        assert snapshot(pg_url) == run and alert_lines(tmp_path / "run.jsonl") == lines
    return kills, len(lines)


def test_kill_restart_on_postgres_matches_an_uninterrupted_sqlite_run(tmp_path, pg_url):
    kills, _ = kill_restart_on_postgres(tmp_path, pg_url, 120, kill_starts=2)
    assert kills >= 1


@pytest.mark.slow
def test_soak_twenty_kills_on_postgres(tmp_path, pg_url):
    kills, alerts_raised = kill_restart_on_postgres(tmp_path, pg_url, 600, kill_starts=20)
    assert kills >= 15
    print(f"postgres soak: {kills} kills, {alerts_raised} alerts")


def test_cli_and_dashboard_on_postgres_match_sqlite(risk_model_dir, tmp_path, pg_url):
    stream(tmp_path / "in.jsonl", 20)
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {name: credit, type: signal, signal: credit, probability: 0.0, cooldown_hours: 0}\n"
        "  - {name: lvl, type: level, above: 0.0, cooldown_hours: 12}\nalerts: {burst_hours: 0}\n")
    for name, state in (("lite", str(tmp_path / "s.db")), ("pg", pg_url)):
        args = ["monitor", "--input", str(tmp_path / "in.jsonl"), "--state", state, "--alerts",
                str(tmp_path / f"{name}.jsonl"), "--rules", str(tmp_path / "rules.yaml"), "--model",
                str(risk_model_dir), "--once", "--batch-size", "6", "--quiet"]
        assert main(args) == 0
        assert main(args) == 0  # a rerun adds nothing
    lite, pg = alert_lines(tmp_path / "lite.jsonl"), alert_lines(tmp_path / "pg.jsonl")
    assert len(pg) > 20 and pg == lite
    assert snapshot(pg_url) == snapshot(tmp_path / "s.db")
    page = render_page(pg_url)
    assert "20 documents" in page and "Plotly.newPlot" in page
    assert page.replace(pg_url, "STATE") == render_page(tmp_path / "s.db").replace(str(tmp_path / "s.db"), "STATE")
    assert main(["dashboard", "--state", pg_url, "--export", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text() == render_page(pg_url, static=True)


def test_an_empty_database_is_not_a_state_for_the_dashboard(pg_url):
    with pytest.raises(DataError, match="holds no textrisk monitor state .run textrisk monitor first"):
        render_page(pg_url)
    MonitorState(pg_url).close()  # the monitor creates the tables
    assert "0 documents, 0 alerts" in render_page(pg_url)


def test_sqlite_url_is_the_same_file_as_the_path(tmp_path):
    state = MonitorState(f"sqlite:///{tmp_path / 's.db'}")
    with state.transaction():
        state.set_meta("model", "m")
    state.close()
    assert MonitorState(tmp_path / "s.db", readonly=True).meta("model") == "m"


@pytest.mark.parametrize(("url", "error", "message"), [
    ("postgresql://u:pw@host:notaport/db", ConfigError, "not a SQLite path or a database URL"),
    ("mysql://u:pw@localhost/db", ConfigError, "unsupported database 'mysql'"),
    ("postgresql+nodriver://u:pw@localhost/db", ConfigError, "unknown PostgreSQL driver 'nodriver'"),
    ("sqlite://", ConfigError, "a sqlite URL needs a file path"),
])
def test_bad_urls_are_one_line_errors(url, error, message):
    with pytest.raises(error, match=message) as info:
        MonitorState(url)
    assert "pw" not in str(info.value) and "\n" not in str(info.value)


@pytest.mark.skipif(importlib.util.find_spec("pg8000") is not None, reason="pg8000 is installed here")
def test_missing_driver_names_the_extra():
    with pytest.raises(ConfigError, match=r"driver is not installed .*textrisk\[postgres\]") as info:
        MonitorState("postgresql+pg8000://u:secret@localhost/db")
    assert "secret" not in str(info.value) and "u:***@localhost" in str(info.value)


@pytest.mark.skipif(importlib.util.find_spec("psycopg") is None, reason="psycopg is not installed")
def test_unreachable_server_exits_2_with_one_line(tmp_path, capsys):
    url = f"postgresql+psycopg://u:secret@127.0.0.1:{free_port()}/db"
    with pytest.raises(DataError, match=r"cannot connect to monitor state postgresql\+psycopg://u:\*\*\*@127"):
        MonitorState(url)
    assert main(["dashboard", "--state", url, "--export", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "cannot connect" in err and "secret" not in err and len(err.strip().splitlines()) == 1
