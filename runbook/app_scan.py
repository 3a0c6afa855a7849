"""What `runbook init` finds in an app's folder by reading it (never running it): its Dockerfile,
its WSGI callable, its port, its routes and the environment variables it reads.

Python files are parsed with `ast`: `app = Flask(...)` or a `create_app` factory, route
decorators (`@app.get("/health")`, `@bp.route(...)`), and `os.environ[...]`,
`os.environ.get(...)`, `os.getenv(...)`. The port comes from the Dockerfile (EXPOSE, a
`--bind` in CMD or ENTRYPOINT or a script they run), gunicorn.conf.py's `bind`, or
`app.run(port=...)`.
"""

from __future__ import annotations

import ast
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from runbook.image import dockerfile as reading

SKIPPED = {".venv", "venv", ".git", "node_modules", "__pycache__", "tests", "test", "migrations"}
BIND = re.compile(r"(?:--bind|-b)[= ]+['\"]?[\w.\[\]:-]*:(\d{2,5})")
HEALTH_WORDS = ("health", "healthz", "status", "ping", "ready", "readyz", "live", "livez")
LOGIN_WORDS = ("login", "auth", "token", "require", "permission", "admin", "jwt", "protected")
SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "PRIVATE")
ROUTE_METHODS = {"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE"}
# What the deployment sets itself (section V): an app reading these needs nothing from init.
SET_BY_RUNBOOK = frozenset(
    {
        "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER_NAME", "DB_PWD", "DB_SSLMODE",
        "DB_SSLROOTCERT", "DB_SECRET_ARN", "DATABASE_URL", "PORT", "AWS_REGION",
        "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "HOME", "PATH", "HOSTNAME",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Where:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Route:
    path: str
    methods: tuple[str, ...]
    guarded: bool  # a decorator that looks like a login check
    where: Where


@dataclass(frozen=True)
class Variable:
    name: str
    required: bool  # read without a default
    where: Where

    @property
    def looks_secret(self) -> bool:
        return any(word in self.name.upper() for word in SECRET_WORDS)


@dataclass
class Scan:
    folder: Path
    dockerfile: str = ""  # relative to the folder, if the app has one
    wsgi: str = ""  # module:callable, or module:factory() for gunicorn
    wsgi_where: Where | None = None
    port: int | None = None
    port_where: str = ""
    routes: list[Route] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    requirements: str = ""  # requirements.txt or pyproject.toml
    has_gunicorn: bool = False
    image_env: set[str] = field(default_factory=set)  # set by the Dockerfile's ENV
    notes: list[str] = field(default_factory=list)

    def health_path(self) -> Route | None:
        """A GET route without parameters or a login check; a health-like name first, then /."""
        open_routes = [
            r for r in self.routes if "GET" in r.methods and not r.guarded and "<" not in r.path
        ]
        for word in HEALTH_WORDS:
            for route in open_routes:
                if route.path.strip("/").split("/")[-1].lower() == word:
                    return route
        return next((r for r in open_routes if r.path == "/"), None)

    def to_set(self) -> list[Variable]:
        """Variables the app reads that neither the deployment nor its image sets, one each."""
        seen: dict[str, Variable] = {}
        for v in self.variables:
            if v.name in SET_BY_RUNBOOK or v.name in self.image_env:
                continue
            earlier = seen.get(v.name)
            if earlier is None or (v.required and not earlier.required):
                seen[v.name] = v
        return sorted(seen.values(), key=lambda v: (not v.required, v.name))


def scan(folder: Path) -> Scan:
    found = Scan(folder)
    _requirements(found)
    for path in _python_files(folder):
        try:
            tree = ast.parse(path.read_text(), filename=str(path))
        except (SyntaxError, UnicodeDecodeError, OSError) as exc:
            found.notes.append(f"{path.relative_to(folder)} was not read: {exc}")
            continue
        _read_module(found, tree, path.relative_to(folder))
    if (folder / "Dockerfile").is_file():
        found.dockerfile = "Dockerfile"
        _read_dockerfile(found, folder / "Dockerfile")
    if found.port is None:
        _gunicorn_config(found)
    return found


def _python_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*.py")
        if not SKIPPED.intersection(p.relative_to(folder).parts[:-1])
        and not p.name.startswith("test_")
    )


def _requirements(found: Scan) -> None:
    folder = found.folder
    if (folder / "requirements.txt").is_file():
        found.requirements = "requirements.txt"
        text = (folder / "requirements.txt").read_text()
    elif (folder / "pyproject.toml").is_file():
        found.requirements = "pyproject.toml"
        text = (folder / "pyproject.toml").read_text()
    else:
        return
    found.has_gunicorn = re.search(r"(?im)^\W*gunicorn\b", text) is not None


def _module_name(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _read_module(found: Scan, tree: ast.Module, relative: Path) -> None:
    module = _module_name(relative)
    file = relative.as_posix()
    # WSGI: a module-level `x = Flask(...)` (the best), else a create_app-like factory.
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and _call_name(node.value) == "Flask"
            and isinstance(node.targets[0], ast.Name)
        ):
            better = not found.wsgi or found.wsgi.endswith("()")
            if better or relative.stem in ("wsgi", "app", "main"):
                found.wsgi = f"{module}:{node.targets[0].id}"
                found.wsgi_where = Where(file, node.lineno)
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("app", "application")
            and _call_name(node.value) in ("create_app", "make_app")
        ):
            found.wsgi, found.wsgi_where = (
                f"{module}:{node.targets[0].id}",
                Where(file, node.lineno),
            )
        if (
            isinstance(node, ast.FunctionDef)
            and node.name in ("create_app", "make_app")
            and not found.wsgi
        ):
            found.wsgi, found.wsgi_where = f"{module}:{node.name}()", Where(file, node.lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _routes(found, node, file)
        elif isinstance(node, ast.Subscript | ast.Call):
            _variable(found, node, file)
        if isinstance(node, ast.Call) and _call_name(node) == "run" and found.port is None:
            for keyword in node.keywords:
                value = keyword.value
                number = value.value if isinstance(value, ast.Constant) else None
                if keyword.arg == "port" and isinstance(number, int):
                    found.port = number
                    found.port_where = f"app.run(port=...) at {file}:{node.lineno}"


def _routes(found: Scan, node: ast.FunctionDef | ast.AsyncFunctionDef, file: str) -> None:
    paths: list[tuple[str, tuple[str, ...]]] = []
    guarded = False
    for decorator in node.decorator_list:
        name = _call_name(decorator)
        if (
            isinstance(decorator, ast.Call)
            and (name == "route" or name in ROUTE_METHODS)
            and decorator.args
            and isinstance(decorator.args[0], ast.Constant)
            and isinstance(decorator.args[0].value, str)
        ):
            methods: tuple[str, ...] = (ROUTE_METHODS.get(name, "GET"),)
            for keyword in decorator.keywords:
                if keyword.arg == "methods" and isinstance(keyword.value, ast.List | ast.Tuple):
                    methods = tuple(
                        str(e.value).upper()
                        for e in keyword.value.elts
                        if isinstance(e, ast.Constant)
                    )
            paths.append((decorator.args[0].value, methods))
        elif any(word in name.lower() for word in LOGIN_WORDS):
            guarded = True
    for path, methods in paths:
        found.routes.append(Route(path, methods, guarded, Where(file, node.lineno)))


def _variable(found: Scan, node: ast.Subscript | ast.Call, file: str) -> None:
    """os.environ["X"] (required), os.environ.get("X"[, d]), os.getenv("X"[, d])."""
    if isinstance(node, ast.Subscript):
        key = node.slice
        read = isinstance(node.ctx, ast.Load) and _is_environ(node.value)
        if read and isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.variables.append(Variable(key.value, True, Where(file, node.lineno)))
        return
    func = node.func
    getenv = isinstance(func, ast.Attribute) and func.attr == "getenv"
    environ_get = isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value)
    if not (getenv or environ_get) or not node.args:
        return
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        has_default = len(node.args) > 1 or any(k.arg == "default" for k in node.keywords)
        found.variables.append(Variable(first.value, not has_default, Where(file, node.lineno)))


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _read_dockerfile(found: Scan, path: Path) -> None:
    try:
        steps = reading.read(path)
    except reading.DockerfileError as exc:
        found.notes.append(str(exc))
        return
    scripts: list[str] = []
    for step in steps:
        if step.keyword == "ENV":
            with contextlib.suppress(reading.DockerfileError):
                found.image_env |= set(reading.pairs(step.text, step.line))
        elif step.keyword == "EXPOSE" and found.port is None:
            first = step.text.split()[0].split("/")[0] if step.text.split() else ""
            if first.isdigit():
                found.port, found.port_where = int(first), f"EXPOSE at Dockerfile:{step.line}"
        elif step.keyword in ("CMD", "ENTRYPOINT"):
            words = " ".join(step.command())
            bind = BIND.search(words)
            if bind and found.port is None:
                found.port = int(bind[1])
                found.port_where = f"--bind in {step.keyword} at Dockerfile:{step.line}"
            scripts += [w for w in step.command() if w.endswith(".sh")]
    for script in scripts:
        local = found.folder / Path(script).name
        if found.port is None and local.is_file():
            bind = BIND.search(local.read_text())
            if bind:
                found.port, found.port_where = int(bind[1]), f"--bind in {local.name}"


def _gunicorn_config(found: Scan) -> None:
    config = found.folder / "gunicorn.conf.py"
    if not config.is_file():
        return
    try:
        tree = ast.parse(config.read_text())
    except SyntaxError:
        return
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "bind"
        ):
            value = node.value
            if isinstance(value, ast.List | ast.Tuple) and value.elts:
                value = value.elts[0]
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                port = value.value.rsplit(":", 1)[-1]
                if port.isdigit():
                    found.port = int(port)
                    found.port_where = f"bind in gunicorn.conf.py:{node.lineno}"
