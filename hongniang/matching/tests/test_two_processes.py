"""Two real web processes against one database: a change made through one is in the other's
ranking at once (the engine change log), and a restarted process answers from the snapshot
without building the engine.

Runs on SQLite (a file in tmp_path) and, under `bash deploy/with-postgres.sh …`, on a fresh
PostgreSQL database next to the test database. Slowish (a migrate and three server starts).
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from contextlib import closing
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit, urlunsplit
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Demo@2026"  # the demo staff's password (staff/demo.py)

SETUP = """
import json
from datetime import date
from django.utils import timezone
from hongniang.members import choices as c
from hongniang.members.models import Member
from hongniang.members.tests.helpers import add_member
from hongniang.staff.demo import seed_staff
from hongniang.staff.permissions import can
people = seed_staff()
# An after-sales matchmaker (recommends, records answers) serves all four; a manager enters them.
hn = next(m for m in people["matchmakers"] if can(m, "matching", "edit"))
mgr = next(m for m in people["managers"] if m.store_id == hn.store_id)
her = add_member(mgr, name="她", sex=c.Sex.FEMALE, birthday=date(1995, 1, 1),
    service_status=c.ServiceStatus.IN_SERVICE,
    sales_stage=c.SalesStage.SIGNED,
    preference={"age_min": 28, "age_max": 36, "age_importance": 3})
men = {age: add_member(mgr, name=f"他{age}", sex=c.Sex.MALE, height=175,
    birthday=date(timezone.localdate().year - age, 1, 1),
    service_status=c.ServiceStatus.IN_SERVICE,
    sales_stage=c.SalesStage.SIGNED, preference={"age_min": 25, "age_max": 34})
    for age in (29, 33, 36)}
for member in [her, *men.values()]:
    member.aftersales_owner = hn
    member.save()
print(json.dumps({"her": her.pk, "men": {a: m.pk for a, m in men.items()}, "user": hn.username}))
"""


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def database_url(tmp_path):
    """A database of its own for the servers: a file on SQLite, a new database on the
    PostgreSQL server of DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'two.sqlite3'}"
        return
    import psycopg

    name = f"hn_two_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(url)
    admin = psycopg.connect(url, autocommit=True)  # libpq reads the URL itself
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class Server:
    """`manage.py runserver` (DEBUG off) on a free port, and a logged-in browser for it."""

    def __init__(self, env, log: Path):
        self.port = free_port()
        self.log = log.open("w")
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.cookies = CookieJar()
        self.http = build_opener(HTTPCookieProcessor(self.cookies))
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/staff/login/")
                break
            except (URLError, ConnectionError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()}") from None
                time.sleep(0.2)

    def get(self, path):
        with self.http.open(self.base + path, timeout=30) as response:
            return response.headers, response.read().decode()

    def post(self, path, data):
        token = next(c.value for c in self.cookies if c.name == "csrftoken")
        body = urlencode({**data, "csrfmiddlewaretoken": token}, doseq=True).encode()
        request = Request(  # noqa: S310 (our own http:// server)
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        try:
            with self.http.open(request, timeout=30) as response:
                return response.headers, response.read().decode()
        except HTTPError as exc:
            raise AssertionError(f"POST {path}: {exc.code} {exc.read()[:500]!r}") from exc

    def login(self, username):
        self.get("/staff/login/")
        self.post("/staff/login/", {"username": username, "password": PASSWORD})
        assert any(c.name == "sessionid" for c in self.cookies), "login failed"
        return self

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def candidates(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-candidate="(\d+)"', page)]


def test_a_change_through_one_process_is_in_the_others_ranking_at_once(tmp_path, database_url):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "hongniang.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ENGINE_SNAPSHOT_DIR": str(tmp_path / "engine"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "MEMBER_FILES_ROOT": str(tmp_path / "member-files"),
    }

    def manage(*args):
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            timeout=300,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "-v", "0")
    ids = json.loads(manage("shell", "-c", SETUP).strip().splitlines()[-1])
    her, men = ids["her"], {int(age): pk for age, pk in ids["men"].items()}
    user = ids["user"]
    library = f"/matching/member/{her}/"

    servers = []
    try:
        # Before the worker's first snapshot, a page says so instead of building the engine.
        a = Server(env, tmp_path / "a.log").login(user)
        servers.append(a)
        headers, page = a.get(library)
        assert headers["X-Matching-Engine"] == "none" and "匹配引擎正在准备中" in page
        manage("build_engine_snapshot")  # what the worker's job does

        b = Server(env, tmp_path / "b.log").login(user)
        servers.append(b)
        for server in (a, b):
            headers, page = server.get(library)
            assert headers["X-Matching-Engine"].startswith("snapshot snapshot-")
            assert candidates(page)[0] == men[29]

        # Through A: recommend him, and she declines ("not my type").
        a.post(f"{library}recommend/{men[29]}/", {"reason": "年龄合适"})
        _, page = a.get(library)
        rec = re.search(r"/matching/recommendations/(\d+)/answer/", page).group(1)
        a.post(
            f"/matching/recommendations/{rec}/answer/",
            {"accepted": "no", "reasons": ["not_my_type"], "note": ""},
        )
        # B, whose engine was loaded before, shows the new ranking at once: the same as A's.
        headers, page = b.get(library)
        after = candidates(page)
        assert men[29] not in after and sorted(after) == [men[33], men[36]]
        assert candidates(a.get(library)[1]) == after
        position = int(headers["X-Matching-Engine"].rsplit("position=", 1)[1])

        # A restarted process answers its first page from the snapshot (plus the log).
        b.stop()
        servers.remove(b)
        c = Server(env, tmp_path / "c.log").login(user)
        servers.append(c)
        headers, page = c.get(library)
        assert headers["X-Matching-Engine"].startswith("snapshot snapshot-")
        assert int(headers["X-Matching-Engine"].rsplit("position=", 1)[1]) == position
        assert candidates(page) == after
    finally:
        for server in servers:
            server.stop()
