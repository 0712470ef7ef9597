"""The drill's real processes: a private Redis and PostgreSQL cluster on free ports, and kipp in its
production shape (gunicorn, a prefork Celery worker, beat), each with a log file and the means to
break it (kill, restart, stop) the way an operator's machine breaks."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import redis

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# PostgreSQL refuses to run as root: the cluster belongs to this unprivileged account.
CLUSTER_OWNER = "kipp-drill"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    """The predicate's first truthy value within ``timeout`` seconds, else None."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value or None
        time.sleep(interval)


def children_of(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Process:
    """One long-running command with its output in ``log``; started in its own process group so
    that killing it takes its children too."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str], log: Path, cwd: Path = ROOT) -> None:
        self.name, self.argv, self.env, self.log, self.cwd = name, list(argv), env, log, cwd
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with open(self.log, "a") as out:
            out.write(f"\n===== start {time.strftime('%H:%M:%S')} {' '.join(self.argv)}\n")
            out.flush()
            self.popen = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> None:
        if not wait_for(lambda: predicate() or not self.alive(), timeout) or not self.alive():
            raise RuntimeError(f"{self.name} did not become {what} within {timeout} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no acknowledgement, like a power cut."""
        if self.alive():
            os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(10)  # type: ignore[union-attr]

    def stop(self, timeout: float = 20) -> None:
        if not self.alive():
            return
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            self.kill()


class PrivateRedis:
    """A redis-server of the drill's own, without persistence: a restart comes back empty."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process = Process("redis", [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                                         "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                         "--dir", str(folder)],
                               env=dict(os.environ), log=folder / "redis.log")

    def url(self, index: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{index}"

    def ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.process.start().wait_until(self.ping, 20, "ready")

    def stop(self) -> None:
        self.process.kill()

    def queued(self) -> int:
        """Task messages in Redis: waiting in the queue, or delivered to a worker and not acknowledged."""
        client = redis.Redis(port=self.port)
        return client.llen("celery") + client.hlen("unacked")

    def restart_empty(self) -> None:
        """Killed and started again with nothing in it: every queued and unacknowledged task is gone."""
        self.stop()
        self.start()


def ensure_cluster_owner() -> str | None:
    """The unprivileged account that owns the cluster when the suite runs as root (created once)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(CLUSTER_OWNER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", CLUSTER_OWNER],
                       check=False, capture_output=True)
        pwd.getpwnam(CLUSTER_OWNER)  # raises if another process did not create it either
    return CLUSTER_OWNER


class PrivatePostgres:
    """A PostgreSQL cluster of the drill's own (trust authentication on 127.0.0.1, no fsync)."""

    def __init__(self) -> None:
        self.owner = ensure_cluster_owner()
        # Not under pytest's tmp dir: that one is private to root and the owner could not enter it.
        self.folder = Path(tempfile.mkdtemp(prefix="kipp-drill-pg-"))
        self.data, self.port = self.folder / "data", free_port()
        if self.owner:
            entry = pwd.getpwnam(self.owner)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self.folder.chmod(0o755)

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", self.owner, "--"] if self.owner else []
        done = subprocess.run(prefix + list(argv), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}\n{self.log_tail()}")

    def log_tail(self) -> str:
        log = self.folder / "postgres.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self.start()

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "postgres.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def running(self) -> bool:
        return port_open(self.port)

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except RuntimeError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not on PATH (install the postgresql package)")
    return found


class ProductionShape:
    """kipp as docker-compose.yml runs it: gunicorn (2 workers), a prefork Celery worker with two
    children, and beat; ``env`` is the compose file's environment pointed at the drill's services."""

    def __init__(self, folder: Path, env: dict[str, str], port: int) -> None:
        self.folder, self.env, self.port = folder, env, port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.web = Process("web", [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
                                   "--access-logfile", "-", "kipp:create_app()"], env=env, log=folder / "web.log")
        self.worker = Process("worker", [str(BIN / "celery"), "-A", "workers", "worker", "--loglevel=INFO",
                                         "--concurrency=2", "--max-memory-per-child=600000",
                                         f"--hostname=drill-{os.getpid()}@%h"],
                              env=env, log=folder / "worker.log")
        self.beat = Process("beat", [str(BIN / "celery"), "-A", "workers", "beat", "--loglevel=INFO",
                                     f"--schedule={folder / 'celerybeat-schedule'}"], env=env, log=folder / "beat.log")

    def flask(self, *args: str) -> str:
        done = subprocess.run([str(BIN / "flask"), "--app", "kipp:create_app", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self) -> None:
        self.web.start()
        self.start_worker()
        self.beat.start()
        self.web.wait_until(lambda: port_open(self.port), 60, "ready")

    def start_worker(self) -> None:
        log_size = self.worker.log.stat().st_size if self.worker.log.exists() else 0
        self.worker.start()

        def ready() -> bool:
            with open(self.worker.log, errors="replace") as log:
                log.seek(log_size)
                return " ready." in log.read() and len(children_of(self.worker.pid)) >= 2
        self.worker.wait_until(ready, 90, "ready")

    def worker_children(self) -> list[int]:
        return children_of(self.worker.pid)

    def kill_worker_child(self) -> int:
        """SIGKILL one of the worker's prefork children (the master starts another)."""
        child = self.worker_children()[0]
        os.kill(child, signal.SIGKILL)
        return child

    def kill_worker(self) -> None:
        self.worker.kill()

    def stop(self) -> None:
        for process in (self.beat, self.worker, self.web):
            process.stop()
