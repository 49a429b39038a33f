"""A throwaway PostgreSQL server for the monitor tests: ``initdb`` into a temporary folder, ``pg_ctl start`` on
127.0.0.1 with a free port (its unix socket in the same folder), ``pg_ctl stop`` and the folder removed at the
end. The binaries are Debian's (``apt-get install postgresql``: /usr/lib/postgresql/VERSION/bin) or on PATH.
PostgreSQL refuses to run as root, so under root the server runs as the ``postgres`` user the package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from .webhook_server import free_port

USER = "textrisk"  # the cluster's superuser (trust authentication, 127.0.0.1 only)


def find_bin() -> Path | None:
    """The folder holding initdb/pg_ctl (the newest Debian version first), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def unavailable() -> str | None:
    """Why no cluster can be started here, or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    if find_bin() is None:
        return "PostgreSQL server binaries not found (apt-get install postgresql: /usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


class Cluster:
    """``with Cluster() as pg: pg.create_database("x")`` -> a ``postgresql+psycopg://`` URL."""

    def __init__(self) -> None:
        self.bin = find_bin()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="textrisk-pg-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.dir, account.pw_uid, account.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, timeout=120)

    def __enter__(self) -> Cluster:
        data = str(self.dir / "data")
        try:
            self._run(str(self.bin / "initdb"), "-D", data, "-U", USER, "--auth=trust", "-E", "UTF8",
                      "--no-locale", "--no-sync")
            self._run(str(self.bin / "pg_ctl"), "-D", data, "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                      "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off", "start")
        except subprocess.CalledProcessError as exc:
            log = self.dir / "server.log"
            detail = (exc.stderr or b"").decode() + (log.read_text() if log.exists() else "")
            self.__exit__(None, None, None)
            raise RuntimeError(f"could not start PostgreSQL: {detail[-2000:]}") from None
        return self

    def __exit__(self, *exc) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database; its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
