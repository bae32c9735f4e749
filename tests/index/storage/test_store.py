"""The store: WAL, opening writes nothing, a changed SCHEMA still applied, clear errors for bad files."""
from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

import index.storage.sqlite.store as store_module
from guildbot.cli import main as cli
from index.storage.sqlite.store import Store, StoreError, schema_fingerprint

from conftest import write_config


def test_wal_mode_and_schema_fingerprint(tmp_path):
    store = Store(tmp_path)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == schema_fingerprint(store_module.SCHEMA)
    assert store.get_meta("schema_version") == str(store_module.SCHEMA_VERSION)
    store.close()


def test_opening_an_existing_store_writes_nothing_even_while_another_process_writes(tmp_path, monkeypatch):
    Store(tmp_path).close()
    writer = sqlite3.connect(str(tmp_path / "guild.db"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a crawl in the middle of a commit
    writer.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 0.2)  # an open that writes would fail, not wait
    reader = Store(tmp_path)
    assert reader.count("documents") == 0 and reader.get_meta("x") is None  # the uncommitted row is not seen
    writer.execute("COMMIT")
    assert reader.get_meta("x") == "y"
    reader.close()
    writer.close()


def test_a_changed_schema_is_applied_to_an_existing_database(tmp_path, monkeypatch):
    Store(tmp_path).close()
    extended = store_module.SCHEMA + "CREATE TABLE IF NOT EXISTS helper_feature (id INTEGER PRIMARY KEY, v TEXT);\n"
    monkeypatch.setattr(store_module, "SCHEMA", extended)
    store = Store(tmp_path)
    store.conn.execute("INSERT INTO helper_feature (v) VALUES ('ok')")
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == schema_fingerprint(extended)
    assert schema_fingerprint(extended) != schema_fingerprint(store_module.SCHEMA.replace("helper_feature", "x"))
    store.close()


def test_a_corrupt_database_is_a_clear_error_naming_the_file_and_the_fix(tmp_path):
    (tmp_path / "guild.db").write_bytes(b"this is no sqlite file, just text " * 300)
    with pytest.raises(StoreError) as e:
        Store(tmp_path)
    assert str(tmp_path / "guild.db") in str(e.value) and "corrupt" in str(e.value) and "guildbot crawl" in str(e.value)


def test_a_truncated_database_is_a_clear_error_at_the_first_read(tmp_path, capsys):
    config = write_config(tmp_path, [], teams=["T"])
    store = Store(tmp_path / "data")
    with store.transaction():
        for i in range(2000):
            store.save_source(f"s{i}", kind="git", team="T", last_error="x" * 200)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = tmp_path / "data" / "guild.db"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    assert cli.main(["--config", str(config), "sources"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(path) in err and "corrupt" in err and "fix:" in err


def test_a_data_dir_through_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError) as e:
        Store(tmp_path / "afile" / "data")
    assert "afile" in str(e.value) and "data_dir" in str(e.value) and "fix:" in str(e.value)


def _make_read_only(folder):
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root without chattr: no way to make a folder read-only here")
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_data_dir_is_a_clear_error(tmp_path):
    data = tmp_path / "data"
    Store(data).close()
    for suffix in ("-wal", "-shm"):
        (data / f"guild.db{suffix}").unlink(missing_ok=True)
    undo = _make_read_only(data)
    try:
        with pytest.raises(StoreError) as e:
            Store(data)
    finally:
        undo()
    assert str(data) in str(e.value) and "writable" in str(e.value)


@pytest.mark.parametrize("argv", [["search", "drift"], ["who", "drift"], ["sources"], ["crawl", "--quiet"],
                                  ["people"], ["projects"], ["overlaps"]])
def test_every_command_on_a_corrupt_database_exits_2_without_a_traceback(tmp_path, capsys, argv):
    config = write_config(tmp_path, [], teams=["T"])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "guild.db").write_bytes(b"garbage " * 1000)
    assert cli.main(["--config", str(config), *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "guild.db" in err and "fix:" in err


def test_reads_from_another_thread_never_break_a_writers_transaction(tmp_path):
    """The Slack and web handlers share one connection: a read must not open a transaction."""
    import threading

    store = Store(tmp_path)
    errors: list[Exception] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                store.query("SELECT key, value FROM meta")
            except Exception as e:  # noqa: BLE001 - collected for the assertion
                errors.append(e)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(300):
            with store.transaction():
                store.set_meta("probe", str(i))
    finally:
        stop.set()
        reader.join()
    assert errors == [] and store.get_meta("probe") == "299"
