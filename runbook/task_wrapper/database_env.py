"""The database as a stock app expects it, run as the container's entry point before the app's.

Given to the task definition ([app] database_env) as `python -c <this file>` ahead of the
app's own entry point (nothing is added to the image). It sets:

- the parts under the names [app] database_parts gives (host, port, name, user);
- the URL variable the settings name (e.g. DATABASE_URL), in the form SQLAlchemy,
  Flask-SQLAlchemy and Django read: postgresql://USER@HOST:PORT/DB?sslmode=...  with NO
  password in it;
- libpq's own PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLMODE, PGSSLROOTCERT and PGPASSFILE;
- a password file (libpq's format, mode 0600) holding the master password ECS injected at
  start (DB_PWD, from RDS's managed secret), which libpq reads on EVERY new connection.

Then it execs the app's command (so the app is the process ECS signals), leaving behind one
small process that keeps the password file current: every REFRESH seconds it reads the
secret (DB_SECRET_ARN, with the task role, through boto3 when the image has it) and rewrites
the file if the password changed. So when RDS rotates the password (every 7 days), an app
that read DATABASE_URL once at start still logs in on its next new connection, without a
change to its code; connections already open are not affected by a rotation at all.
DB_PWD itself is removed from the app's environment.

Only the Python standard library at start; boto3 only for the refresh. Never prints a
password.
"""

import json
import os
import sys
import tempfile
import time
import urllib.parse

REFRESH = float(os.environ.get("RUNBOOK_PASSWORD_REFRESH_SECONDS") or 30)


def passfile_line(user: str, password: str) -> str:
    """One line of libpq's password file: any host, port and database, this user."""

    def escaped(text: str) -> str:
        return text.replace("\\", "\\\\").replace(":", "\\:")

    return f"*:*:*:{escaped(user)}:{escaped(password)}\n"


def write_passfile(path: str, user: str, password: str) -> None:
    """Atomically (a reader never sees half a file), readable by this user only."""
    folder = os.path.dirname(path)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".pgpass-")
    with os.fdopen(fd, "w") as file:
        file.write(passfile_line(user, password))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def database_url(env: dict) -> str:
    user = urllib.parse.quote(env["DB_USER_NAME"], safe="")
    host, port = env["DB_HOST"], env.get("DB_PORT") or "5432"
    name = urllib.parse.quote(env.get("DB_NAME") or "postgres", safe="")
    query = {"sslmode": env.get("DB_SSLMODE") or "require"}
    if env.get("DB_SSLROOTCERT"):
        query["sslrootcert"] = env["DB_SSLROOTCERT"]
    return f"postgresql://{user}@{host}:{port}/{name}?{urllib.parse.urlencode(query)}"


def prepared(env: dict, folder: str) -> dict:
    """The app's environment: the URL and libpq's variables, the password only in the file."""
    env = dict(env)
    password = env.pop("DB_PWD", "")
    path = os.path.join(folder, "pgpass")
    write_passfile(path, env["DB_USER_NAME"], password)
    if env.get("RUNBOOK_DATABASE_URL_ENV"):
        env[env["RUNBOOK_DATABASE_URL_ENV"]] = database_url(env)
    parts = json.loads(env.get("RUNBOOK_DATABASE_PARTS") or "{}")
    known = {
        "host": env["DB_HOST"],
        "port": env.get("DB_PORT") or "5432",
        "name": env.get("DB_NAME") or "postgres",
        "user": env["DB_USER_NAME"],
    }
    env.update({variable: known[part] for part, variable in parts.items() if part in known})
    env.update(
        PGHOST=env["DB_HOST"],
        PGPORT=env.get("DB_PORT") or "5432",
        PGDATABASE=env.get("DB_NAME") or "postgres",
        PGUSER=env["DB_USER_NAME"],
        PGSSLMODE=env.get("DB_SSLMODE") or "require",
        PGPASSFILE=path,
    )
    if env.get("DB_SSLROOTCERT"):
        env["PGSSLROOTCERT"] = env["DB_SSLROOTCERT"]
    return env


def current_password(arn: str) -> str:
    import boto3  # the image's, if it has it

    answer = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    return str(json.loads(answer["SecretString"])["password"])


def keep_current(env: dict, app: int) -> None:
    """The refresher: until the app (its parent) is gone, rewrite the file after a rotation."""
    arn, user, path = env.get("DB_SECRET_ARN"), env["DB_USER_NAME"], env["PGPASSFILE"]
    if not arn:
        return
    known = None
    while os.getppid() == app:
        time.sleep(REFRESH)
        try:
            password = current_password(arn)
        except Exception as error:  # no boto3, no network for a moment: try again later
            print(f"database_env: cannot read {arn}: {type(error).__name__}", file=sys.stderr)
            continue
        if password != known:
            write_passfile(path, user, password)
            known = password


def main(argv: list) -> None:
    command = argv[1:] if argv[:1] == ["--"] else argv
    if not command:
        sys.exit("database_env: no command to run")
    folder = tempfile.mkdtemp(prefix="database-env-")  # mode 0700
    env = prepared(dict(os.environ), folder)
    app = os.getpid()
    if os.fork() == 0:  # the refresher; the app keeps this process's id (ECS signals it)
        try:
            keep_current(env, app)
        finally:
            os._exit(0)
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv[1:])
