"""Rotation-aware tailing: after copytruncate, rename-and-recreate, truncation and restarts in between, every
line is read once, in the order it was written."""

import gzip
import json
import os
import shutil

import pytest

from textrisk.monitor.records import DeadLetter
from textrisk.monitor.source import open_source


def rec(i):
    return json.dumps({"id": f"r{i}", "timestamp": 1e9 + i, "entity": "E", "text": f"record number {i}"}) + "\n"


class Tailer:
    """A monitor's reading side: a Source whose positions are 'committed' after each poll; ``restart`` starts a
    new Source from the committed rows (a kill and restart)."""

    def __init__(self, path):
        self.path, self.rows, self.ids = path, {}, []
        self.source = open_source(str(path))

    def poll(self, final=False):
        for item, position in self.source.poll(final):
            assert not isinstance(item, DeadLetter), item.error
            self.ids.append(item.id)
            self.rows[position.source] = position.to_row()
        return self

    def restart(self):
        self.source = open_source(str(self.path), list(self.rows.values()))
        return self


def write(path, *numbers, mode="a"):
    with open(path, mode) as handle:
        handle.write("".join(rec(i) for i in numbers))


def _shift(path, keep=3):
    for n in range(keep, 0, -1):
        if os.path.exists(f"{path}.{n}"):
            os.replace(f"{path}.{n}", f"{path}.{n + 1}")


def copytruncate(path):
    """logrotate's copytruncate: older copies move up, the file is copied to .1, then truncated in place."""
    _shift(path)
    shutil.copyfile(path, f"{path}.1")
    os.truncate(path, 0)


def rename_rotate(path):
    """logrotate's default: older files move up, the file is renamed to .1 and created again, empty."""
    _shift(path)
    os.replace(path, f"{path}.1")
    open(path, "w").close()


def ids(*numbers):
    return [f"r{i}" for i in numbers]


@pytest.mark.parametrize("restart", [False, True], ids=["running", "restarted"])
@pytest.mark.parametrize("rotate", [copytruncate, rename_rotate])
def test_rotation_loses_nothing(tmp_path, rotate, restart):
    path = tmp_path / "news.jsonl"
    write(path, 0, 1)
    tail = Tailer(path).poll()
    write(path, 2, 3)  # written before the rotation, not read yet
    rotate(path)
    write(path, 4, 5)
    (tail.restart() if restart else tail).poll()
    assert tail.ids == ids(0, 1, 2, 3, 4, 5)
    write(path, 6)
    assert tail.restart().poll().ids == ids(*range(7))  # and nothing twice after a restart


def test_several_rotations_while_down_are_read_oldest_first(tmp_path):
    path = tmp_path / "news.jsonl"
    write(path, 0)
    tail = Tailer(path).poll()
    write(path, 1)
    rename_rotate(path)
    write(path, 2, 3)
    rename_rotate(path)  # .2 holds 0-1, .1 holds 2-3
    write(path, 4)
    copytruncate(path)  # .3 holds 0-1, .2 holds 2-3, .1 holds 4
    write(path, 5)
    assert tail.restart().poll().ids == ids(0, 1, 2, 3, 4, 5)


def test_truncated_without_a_copy_starts_a_new_generation(tmp_path):
    path = tmp_path / "news.jsonl"
    write(path, 0, 1, 2)
    tail = Tailer(path).poll()
    write(path, 3, mode="w")  # shorter than what was read: a new file
    assert tail.poll().ids == ids(0, 1, 2, 3)
    write(path, *range(10, 20), mode="w")  # longer than what was read, other first line: a new file too
    assert tail.restart().poll().ids == ids(0, 1, 2, 3, *range(10, 20))


def test_a_rewritten_file_with_the_same_first_line_is_not_taken_for_the_old_one(tmp_path):
    path = tmp_path / "news.jsonl"
    write(path, 0, 1, 2)
    tail = Tailer(path).poll()
    write(path, 0, 7, 8, 9, mode="w")  # same first line, longer, other content at the old offset
    assert tail.restart().poll().ids == ids(0, 1, 2, 0, 7, 8, 9)  # re-read from its start (ids dedupe later)


def test_history_and_compressed_siblings_are_not_read(tmp_path):
    path = tmp_path / "news.jsonl"
    write(f"{path}.1", 90, 91)  # rotated before monitoring began
    with gzip.open(f"{path}.2.gz", "wt") as handle:
        handle.write(rec(92))
    write(path, 0)
    tail = Tailer(path).poll()
    assert tail.ids == ids(0)
    write(path, 1)
    rename_rotate(path)  # news.jsonl.1 (history) becomes .2, ours becomes .1
    write(path, 2)
    assert tail.restart().poll().ids == ids(0, 1, 2)


def test_a_partial_line_waits_and_once_takes_it(tmp_path):
    path = tmp_path / "news.jsonl"
    write(path, 0)
    with open(path, "a") as handle:
        handle.write(rec(1)[:15])
    tail = Tailer(path).poll()
    assert tail.ids == ids(0)
    with open(path, "a") as handle:
        handle.write(rec(1)[15:])
    assert tail.restart().poll().ids == ids(0, 1)


def test_a_state_of_textrisk_0_2_0_is_adopted(tmp_path):
    path = tmp_path / "news.jsonl"
    write(path, 0, 1, 2)
    source = open_source(str(path), [{"source": str(path.resolve()), "offset": len(rec(0) + rec(1))}])
    positions = [(item.id, position) for item, position in source.poll()]
    assert [i for i, _ in positions] == ["r2"] and positions[0][1].line == 3  # its line number counted once


def test_folder_of_files_with_rotation(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder / "a.jsonl", 0)
    tail = Tailer(folder).poll()
    write(folder / "a.jsonl", 1)
    rename_rotate(folder / "a.jsonl")  # a.jsonl.1 is not *.jsonl: read as a's old generation, not a new file
    write(folder / "a.jsonl", 2)
    write(folder / "b.jsonl", 3)
    assert tail.restart().poll().ids == ids(0, 1, 2, 3)
