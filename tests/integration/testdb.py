"""testdb.py: the Python side of lib.sh's db and dbq: a test's databases on
either backend (TEND_TEST_BACKEND, which lib.sh exports as BACKEND).

db(name, fresh=False, tmp=None) is lib.sh's `db NAME` (the same names, the same
locations, one namespace for a script and its Python): $T/NAME.db on
SQLite, a database NAME of the script's cluster on PostgreSQL (created on
first use; fresh=True starts it over, as removing the file does).

connect(location) opens what lib.sh's `db NAME` printed: a SQLite file
(read-only, through the sqlite3 module) or a postgresql:// URL (through
Debian's psql, so that the tests need no Python driver). Both give the one
thing the checks use of sqlite3's API:

    with testdb.connect(DB) as c:
        n = c.execute("SELECT count(*) FROM scores WHERE day > ?", (d,)).fetchone()[0]

On PostgreSQL each execute runs one psql: the query is wrapped as
`SELECT json_agg(t) FROM (QUERY) t` and its rows come back as tuples in
column order, with JSON's types (bigint and integer as int, double as float
or int, text as str, NULL as None, jsonb as a dict or list, boolean as
bool). The ? parameters are written into the SQL as literals (int, float,
str, None). The query is a single SELECT; its ORDER BY is kept (psql's
aggregate reads the subquery in its order).
"""
import json
import os
import re
import sqlite3
import subprocess

__all__ = ["connect", "db", "is_pg", "with_session_key"]


def is_pg(location):
    return location.startswith(("postgresql://", "postgres://"))


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    raise TypeError(f"testdb: a parameter of type {type(v).__name__}")


def _bind(sql, params):
    """sql with each ? (outside quotes) replaced by the next parameter."""
    out, it, quote = [], iter(params), None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
            out.append(ch)
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            try:
                out.append(_literal(next(it)))
            except StopIteration:
                raise ValueError(f"testdb: fewer parameters than ? in {sql!r}") from None
        else:
            out.append(ch)
    if next(it, StopIteration) is not StopIteration:
        raise ValueError(f"testdb: more parameters than ? in {sql!r}")
    return "".join(out)


def _psql():
    d = os.environ.get("PG_BINDIR")
    if d:
        return os.path.join(d, "psql")
    vers = sorted((v for v in os.listdir("/usr/lib/postgresql") if v.isdigit()), key=int)
    return f"/usr/lib/postgresql/{vers[-1]}/bin/psql" if vers else "psql"


class _Pairs(list):
    """A JSON object as read, its (key, value) pairs in order."""


def _plain(v):
    if isinstance(v, _Pairs):
        return {k: _plain(x) for k, x in v}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


class _Rows:
    def __init__(self, rows):
        self._rows = rows

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self):
        return list(self._rows)

    def __iter__(self):
        return iter(self._rows)


class _Pg:
    def __init__(self, url):
        self.url = url

    def execute(self, sql, params=()):
        q = "SELECT coalesce(json_agg(t), '[]') FROM (" + _bind(sql.strip().rstrip(";"), params) + ") t"
        r = subprocess.run([_psql(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url,
                            "-c", q], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"psql: {r.stderr.strip()} (query: {q})")
        # Pairs, not a dict: a row keeps every column, even two of one name;
        # an object inside a column (jsonb) becomes a dict again.
        rows = json.loads(r.stdout, object_pairs_hook=_Pairs)
        return _Rows([tuple(_plain(v) for _, v in row) for row in rows])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self):
        pass


def _backend():
    return os.environ.get("BACKEND", "sqlite")


def _admin(sql):
    """Runs sql on the cluster's maintenance database (postgres)."""
    base = os.environ["TEND_TEST_PG_URL"].rsplit("/", 1)[0]
    r = subprocess.run([_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", base + "/postgres", "-c", sql],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"psql: {r.stderr.strip()} ({sql})")


def db(name, fresh=False, tmp=None):
    """The location of the test's database name (see the header); tmp: the
    test's directory, by default $T."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(f"testdb: a database name is letters, digits, ., _ and -: {name!r}")
    t = tmp or os.environ["T"]
    if _backend() == "sqlite":
        path = os.path.join(t, name + ".db")
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        return path
    # The markers of lib.sh's db, in $T where there is one (db_names lists them).
    marker = os.path.join(os.environ.get("T") or t, "pg-db." + name)
    if fresh and os.path.exists(marker):
        _admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        os.remove(marker)
    if not os.path.exists(marker):
        # A copy of the template lib.sh made (tend migrated it), as db NAME.
        template = os.environ.get("PG_TEMPLATE")
        _admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        open(marker, "w").close()
    return os.environ["TEND_TEST_PG_URL"].rsplit("/", 1)[0] + "/" + name


def connect(location, timeout=60):
    """A read connection to the database at location (see the header)."""
    if is_pg(location):
        return _Pg(location)
    return sqlite3.connect(f"file:{location}?mode=ro", uri=True, timeout=timeout)


def with_session_key(src, dst, env):
    """Writes to dst the tend.yaml src (None: an empty one) with
    serve.session_key_env set to env, unless src sets it already: what a
    node on PostgreSQL needs (every node signs sessions with one key,
    docs/operations.md). The rest is the file as written: its node graph
    (yaml.compose) is emitted again with every scalar's style, so that tend
    reads each value as before (06:00 stays a plain scalar, "100" a string)."""
    import yaml
    from yaml.nodes import MappingNode, ScalarNode

    root = None
    if src:
        with open(src, encoding="utf-8") as f:
            root = yaml.compose(f)
    if root is None or (isinstance(root, ScalarNode) and root.value == ""):
        root = MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(root, MappingNode):
        raise ValueError(f"testdb: {src} is not a mapping")
    str_tag = "tag:yaml.org,2002:str"
    entry = (ScalarNode(str_tag, "session_key_env"), ScalarNode(str_tag, env))
    for i, (k, v) in enumerate(root.value):
        if k.value != "serve":
            continue
        if isinstance(v, MappingNode):
            if not any(kk.value == "session_key_env" for kk, _ in v.value):
                v.value.append(entry)
        else:  # "serve:" with nothing under it
            root.value[i] = (k, MappingNode("tag:yaml.org,2002:map", [entry]))
        break
    else:
        root.value.append((ScalarNode(str_tag, "serve"), MappingNode("tag:yaml.org,2002:map", [entry])))
    with open(dst, "w", encoding="utf-8") as f:
        yaml.serialize(root, f, allow_unicode=True)


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 5 and sys.argv[1] == "with-session-key":
        with_session_key(sys.argv[2] or None, sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: testdb.py with-session-key SRC|'' DST ENV")
