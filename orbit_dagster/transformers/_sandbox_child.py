"""Entry point of the sandbox child process: it limits itself, then runs transformers.

`sandbox.py` starts it as `python -I -S _sandbox_child.py SETTINGS` (SETTINGS is JSON with the
limits, the parent's pid and the directories to import RestrictedPython from) and writes
`{"kind", "code", "data", "config"}` as JSON to its stdin. The child answers with one JSON
envelope on stdout: `{"ok": true, "result": ...}` or `{"ok": false, "error": "<message>"}`.
With `"worker": true` in SETTINGS (`pool.py`) it answers one length-prefixed request after
another instead (`serve`). Either way it dies at once with its parent (`die_with_parent`).

The file imports only the standard library and RestrictedPython, never `orbit_dagster`, whose
package imports may pull in heavy dependencies and are not needed to run untrusted code.
"""

import ast
import collections
import ctypes
import datetime
import decimal
import functools
import itertools
import json
import math
import operator
import os
import re
import resource
import signal
import statistics
import sys
import types
from collections.abc import Callable, Iterable, Sequence

# <linux/prctl.h>: the signal the kernel sends this process when its parent dies.
PR_SET_PDEATHSIG = 1
FILENAME = "<transformer>"
# Compiled transformers a worker keeps, by their code. RestrictedPython's compile (parse,
# rewrite, compile) is most of a warm execution (~5 ms of ~6 for a 200-line transformer);
# metrics of one template often share their generated code. A code object is immutable and
# every call still runs it in fresh globals, so a kept one carries nothing between calls.
COMPILED_KEPT = 64
FRAME_HEADER_BYTES = 8
ALLOWED_MODULES = {
    module.__name__: module
    for module in (collections, datetime, decimal, itertools, json, math, re, statistics)
}
# Containers that transformer code may assign items of (`counts[day] = n`). Everything else is
# read-only to it, so it cannot change the modules or objects the child itself relies on.
WRITABLE_TYPES = (
    dict,
    list,
    collections.Counter,
    collections.OrderedDict,
    collections.defaultdict,
    collections.deque,
)
INPLACE_OPERATORS = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}
# Builtins RestrictedPython leaves out because they iterate in C past the `_getiter_` hook. That
# hook matters only where some objects are secret (Zope); here everything the code can reach is
# its own input, so these are as safe as a for loop and make everyday code work.
ITERATING_BUILTINS = (
    all,
    any,
    dict,
    enumerate,
    filter,
    frozenset,
    iter,
    list,
    map,
    max,
    min,
    next,
    reversed,
    set,
    sorted,
    sum,
    tuple,
    zip,
)
SIGNATURES = {"ingestion": "transform(payload, config)", "chart": "transform(points, config)"}
# Far deeper than any list of points (3 levels) or Vega-Lite spec (about 10). Without a bound a
# list nested 1,000 deep is encoded here, at a shallow stack, and overflows the parent's
# deeper stack when it parses the answer (a raw RecursionError there).
MAX_OUTPUT_DEPTH = 100
# Format fields read attributes by name (`"{0.__globals__}".format(f)`) past the `_getattr_`
# guard, on every string-like type that has these methods: RestrictedPython refuses them on
# `str` only, while `collections.UserString` (and any such class a module exposes) has them
# too. No transformer needs them, since f-strings are checked at compile time; so they are
# refused on every object.
FORMAT_METHODS = frozenset({"format", "format_map", "vformat"})


class ModuleView:
    """What transformer code gets for `import json`: the module's public attributes, read-only.

    Submodules and imported modules (`statistics.sys`, `json.decoder`) are left out, and the view
    has no `__name__`, so `from statistics import sys` cannot fall back to `sys.modules` either.
    """

    __slots__ = ("_label", "_attributes")

    def __init__(self, module: types.ModuleType) -> None:
        object.__setattr__(self, "_label", module.__name__)
        object.__setattr__(
            self,
            "_attributes",
            {
                name: value
                for name, value in vars(module).items()
                if not name.startswith("_") and not isinstance(value, types.ModuleType)
            },
        )

    def __getattr__(self, name: str) -> object:
        try:
            return self._attributes[name]
        except KeyError:
            raise AttributeError(
                f"module '{self._label}' has no attribute '{name}' available to transformers"
            ) from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"module '{self._label}' is read-only")

    def __repr__(self) -> str:
        return f"<module '{self._label}'>"


class DiscardedPrints:
    """`print` in transformer code goes nowhere: stdout carries only the result envelope, and
    output that is never stored cannot be used to exhaust memory either."""

    def __init__(self, _getattr_: object = None) -> None:
        pass

    def _call_print(self, *objects: object, **options: object) -> None:
        pass

    def __call__(self) -> str:
        return ""


class Failure(Exception):
    """Ends the run with `{"ok": false, "error": message}`."""


def main() -> None:
    settings = json.loads(sys.argv[1])
    die_with_parent(settings["parent_pid"])
    restricted = load_restricted_python(settings["path"])
    # Modules that allow-listed ones import lazily at first use (datetime.strptime imports
    # _strptime) must be loaded now: once the limits are on, no file can be opened.
    datetime.datetime.strptime("2026-01-01", "%Y-%m-%d")
    views = {name: ModuleView(module) for name, module in ALLOWED_MODULES.items()}
    apply_limits(settings)
    if settings.get("worker"):
        serve(restricted, views, settings)
    else:
        write_stdout(answer(restricted, views, settings, sys.stdin.buffer.read()))


def answer(restricted: types.SimpleNamespace, views: dict, settings: dict, raw: bytes, **extra):
    """The JSON envelope answering one request (`extra` keys are added to it)."""
    try:
        result = run(restricted, views, settings, raw)
        return encode({"ok": True, "result": result, **extra}, settings)
    except Failure as failure:
        return encode({"ok": False, "error": str(failure), **extra}, settings)


def serve(restricted: types.SimpleNamespace, views: dict, settings: dict) -> None:
    """Worker mode, for a warm pool: answer requests until stdin closes.

    Frames both ways are an 8-byte big-endian length and that many bytes of JSON. Each call
    gets fresh globals (`run`), a fresh decimal context and its own CPU allowance below the
    worker's lifetime budget; the envelope says `"retire": true` once the budget cannot cover
    another call, and the parent then replaces the worker. The parent also replaces it after
    any failure, so whatever a failing call left behind is never seen by the next one.
    """
    while True:
        header = read_exact(FRAME_HEADER_BYTES)
        if header is None:
            return
        raw = read_exact(int.from_bytes(header, "big"))
        if raw is None:
            return
        allow_cpu(settings["cpu_seconds"])
        decimal.setcontext(decimal.Context())
        envelope = answer(restricted, views, settings, raw, retire=not can_afford(settings))
        signal.setitimer(signal.ITIMER_PROF, 0)
        write_stdout(len(envelope).to_bytes(FRAME_HEADER_BYTES, "big") + envelope)


def read_exact(size: int) -> bytes | None:
    """`size` bytes from stdin, or None when it closes first."""
    data = bytearray()
    while len(data) < size:
        chunk = os.read(0, min(size - len(data), 1 << 20))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def allow_cpu(seconds: int) -> None:
    """Give the next call `seconds` of CPU time: SIGPROF (whose default action ends the
    process) fires once this process has used that much more. RLIMIT_CPU counts whole
    seconds of the worker's life, so the per-call limit is this interval timer, with the
    rlimit as the lifetime fence behind it."""
    signal.setitimer(signal.ITIMER_PROF, seconds)


def can_afford(settings: dict) -> bool:
    """Whether the worker's CPU budget (the hard limit) still covers a whole call."""
    return cpu_used() + settings["cpu_seconds"] + 1 < settings["cpu_budget"]


def load_restricted_python(path: list[str]) -> types.SimpleNamespace:
    """RestrictedPython, imported from the directories the parent passed.

    `-S` leaves site-packages off sys.path (and `-I` ignores PYTHONPATH), so the import has to
    wait until those directories are added; hence the import inside this function.
    """
    sys.path.extend(entry for entry in path if entry not in sys.path)
    from RestrictedPython.compile import compile_restricted_exec
    from RestrictedPython.Guards import (
        guarded_iter_unpack_sequence,
        guarded_unpack_sequence,
        raise_,
        safe_builtins,
        safer_getattr,
    )
    from RestrictedPython.transformer import RestrictingNodeTransformer

    class TransformerPolicy(RestrictingNodeTransformer):
        """RestrictedPython's policy, plus `counts[key] += 1`, minus class statements."""

        # Returns what the base class's visitors do: a node, nodes, or None to drop it.
        def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST | Iterable[ast.AST] | None:
            # RestrictedPython refuses augmented assignment of items. Visiting the children
            # turns the target into `_write_(counts)[key]`, the same guard as `counts[key] = v`,
            # and Python evaluates the container and key once, as in plain code.
            if isinstance(node.target, ast.Subscript):
                return self.node_contents_visit(node)
            return super().visit_AugAssign(node)

        def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
            self.error(node, "class definitions are not allowed in transformers")
            return node

    @functools.lru_cache(maxsize=COMPILED_KEPT)  # exceptions (MemoryError...) are not kept
    def compile_transformer(code: str) -> object:
        return compile_restricted_exec(code, filename=FILENAME, policy=TransformerPolicy)

    return types.SimpleNamespace(
        compile=compile_transformer,
        safe_builtins=safe_builtins,
        unpack=guarded_unpack_sequence,
        iter_unpack=guarded_iter_unpack_sequence,
        getattr=safer_getattr,
        no_default=raise_,
    )


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process the moment its parent dies (a SIGKILLed
    `orbit refresh`, an OOM-killed run worker), whatever it is running, instead of it living on
    as an orphan until its CPU limit or its next request.

    Why Linux's PR_SET_PDEATHSIG, and what it needs:
    - No thread in this process. A thread watching the parent was tried (reverted in e1a4a96):
      once RLIMIT_NOFILE is 3, a process exiting with a thread alive can abort, glibc being
      unable to open libgcc_s for pthread_exit (SIGABRT instead of the answer).
    - The kernel's "parent" is the *thread* that started this process: the signal comes when
      that thread ends, even if the process lives on. So the parent starts a one-off child
      from the thread that then waits for it, and a pool worker from the pool's own spawner
      thread, which lives as long as the pool (`pool.py`), never from a caller's thread.
    - The parent may have died between starting this process and the prctl call; then it is
      no longer our parent and no signal will come, so the check below ends the process.
    (A pipe whose EOF the child notices would need a thread or SIGIO on a second descriptor,
    and a pool worker's stdin reaches EOF only when it next reads it, not while it runs code.)
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        raise SystemExit(f"sandbox child: its parent (pid {parent_pid}) has already ended")


def apply_limits(settings: dict) -> None:
    """Lower this process's limits before any untrusted input is read."""
    # Only stdin, stdout and stderr stay open; with RLIMIT_NOFILE at 3 nothing else can open.
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    cpu = settings["cpu_seconds"]
    # SIGXCPU at the soft limit ends the process; the hard limit is SIGKILL one second later.
    # A pool worker's CPU rlimit is its lifetime budget instead (`allow_cpu` limits each call).
    budget = settings.get("cpu_budget")
    lower_limit(resource.RLIMIT_CPU, *((budget, budget + 1) if budget else (cpu, cpu + 1)))
    memory = settings["memory_mb"] * 1024 * 1024
    lower_limit(resource.RLIMIT_AS, memory, memory)
    lower_limit(resource.RLIMIT_NOFILE, 3, 3)
    lower_limit(resource.RLIMIT_FSIZE, 0, 0)
    lower_limit(resource.RLIMIT_CORE, 0, 0)
    # No new processes. Root ignores RLIMIT_NPROC, and the restricted code has no way to start
    # one anyway; this is a second fence where it does apply.
    lower_limit(resource.RLIMIT_NPROC, 0, 0)


def lower_limit(limit: int, soft: int, hard: int) -> None:
    _, current_hard = resource.getrlimit(limit)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    resource.setrlimit(limit, (soft, hard))


def run(restricted: types.SimpleNamespace, views: dict, settings: dict, raw: bytes) -> object:
    memory_message = f"transformer exceeded the {settings['memory_mb']} MB memory limit"
    try:
        request = json.loads(raw)
    except MemoryError:
        raise Failure(memory_message) from None
    kind, code = request["kind"], request["code"]
    try:
        compiled = restricted.compile(code)
    except MemoryError:
        raise Failure(memory_message) from None
    except Exception as exc:  # e.g. RecursionError on absurdly nested code, NUL bytes
        raise Failure(f"transformer code does not compile: {type(exc).__name__}: {exc}") from None
    if compiled.errors:
        raise Failure(f"transformer code does not compile: {'; '.join(compiled.errors)}")
    namespace = restricted_globals(restricted, views)
    failure = None
    try:
        exec(compiled.code, namespace)
        transform = namespace.get("transform")
        if not isinstance(transform, types.FunctionType):
            raise Failure(f"transformer code does not define a function `{SIGNATURES[kind]}`")
        result = transform(request["data"], request["config"])
    except Failure:
        raise
    except MemoryError:
        # The message is built after the except block, once the traceback (and with it the
        # frames holding whatever filled the memory) has been released.
        failure = memory_message
    except BaseException as exc:  # noqa: B036 - SystemExit and the like raised by the code
        failure = describe_exception(exc, code)
    if failure is not None:
        raise Failure(failure)
    points = result.get("points") if isinstance(result, dict) else result
    if kind == "ingestion" and isinstance(points, list) and len(points) > settings["max_points"]:
        raise Failure(
            f"invalid output: {len(points):,} points is more than the limit of "
            f"{settings['max_points']:,}"
        )
    # After the cheap count above: the walk visits every item.
    if nested_deeper_than(result, MAX_OUTPUT_DEPTH):
        raise Failure(f"invalid output: nested more than {MAX_OUTPUT_DEPTH} levels deep")
    return result


def nested_deeper_than(value: object, limit: int) -> bool:
    """Whether lists, tuples and dicts in `value` nest more than `limit` levels deep.

    Level by level, without recursion (the point is to refuse what recursion cannot handle);
    a list comprehension per level keeps 500,000 points at about a third of encoding them."""
    containers = (dict, list, tuple)
    level = [value] if isinstance(value, containers) else []
    for _ in range(limit):
        if not level:
            return False
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, containers)
        ]
    return bool(level)


def restricted_globals(restricted: types.SimpleNamespace, views: dict) -> dict:
    """The namespace transformer code runs in: guarded builtins and RestrictedPython's hooks."""

    def guarded_getattr(obj: object, name: str, default: object = restricted.no_default) -> object:
        if name in FORMAT_METHODS:
            raise NotImplementedError(
                f"the {name}() method is not available to transformers: its fields can read "
                "any attribute; use an f-string"
            )
        value = restricted.getattr(obj, name, default)
        if isinstance(value, types.ModuleType):
            raise AttributeError(f"attribute '{name}' is a module, not available to transformers")
        return value

    def guarded_hasattr(obj: object, name: str) -> bool:
        try:
            guarded_getattr(obj, name)
        except (AttributeError, NotImplementedError):
            return False
        return True

    def guarded_import(
        name: str,
        globals: object = None,
        locals: object = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> object:
        if isinstance(fromlist, list) and not level and name in sys.modules:
            # CPython's C code imports through the calling frame's __import__ too (strftime
            # imports `time`), always with a list as fromlist. Import statements pass None or
            # a tuple, and transformer code cannot reach __import__ to call it directly, so
            # this serves only the runtime itself, with modules loaded before the limits.
            return sys.modules[name]
        if level or name not in views:
            raise ImportError(
                f"import of '{'.' * level}{name}' is not allowed; transformers may import only "
                f"{', '.join(sorted(views))}"
            )
        for attribute in fromlist or ():
            # Checked here for a clear message; the view would refuse the name anyway.
            if attribute not in views[name]._attributes:
                raise ImportError(
                    f"cannot import '{attribute}' from '{name}': not available to transformers"
                )
        return views[name]

    builtins = {
        name: value for name, value in restricted.safe_builtins.items() if not name.startswith("_")
    }
    builtins.update((function.__name__, function) for function in ITERATING_BUILTINS)
    builtins.update(getattr=guarded_getattr, hasattr=guarded_hasattr, __import__=guarded_import)
    return {
        "__builtins__": builtins,
        "__name__": "transformer",
        "_getattr_": guarded_getattr,
        "_getitem_": operator.getitem,
        "_getiter_": iter,
        "_write_": guard_write,
        "_inplacevar_": inplace,
        "_apply_": apply,
        "_unpack_sequence_": restricted.unpack,
        "_iter_unpack_sequence_": restricted.iter_unpack,
        "_print_": DiscardedPrints,
    }


def guard_write(obj: object) -> object:
    if type(obj) in WRITABLE_TYPES:
        return obj
    kind = "module" if isinstance(obj, ModuleView) else type(obj).__name__
    raise TypeError(
        f"cannot change a {kind} object: transformers may assign only to items of dicts and lists"
    )


def inplace(op: str, target: object, value: object) -> object:
    return INPLACE_OPERATORS[op](target, value)


def apply(function: Callable[..., object], *args: object, **kwargs: object) -> object:
    return function(*args, **kwargs)


def describe_exception(exc: BaseException, code: str) -> str:
    """`transformer raised KeyError: 'date' (line 7: day = record["date"])`."""
    line = None
    trace = exc.__traceback__
    while trace is not None:
        # The innermost frame of the transformer's own code is where it went wrong.
        if trace.tb_frame.f_code.co_filename == FILENAME:
            line = trace.tb_lineno
        trace = trace.tb_next
    try:
        text = str(exc)
    except Exception:
        text = "<message could not be shown>"
    message = f"transformer raised {type(exc).__name__}"
    if text:
        message += f": {text[:500]}"
    lines = code.splitlines()
    if line is not None and 0 < line <= len(lines):
        message += f" (line {line}: {lines[line - 1].strip()[:200]})"
    return message


def encode(envelope: dict, settings: dict) -> bytes:
    try:
        text = json.dumps(envelope, default=encode_extra, separators=(",", ":"))
    except MemoryError:
        raise Failure(f"transformer exceeded the {settings['memory_mb']} MB memory limit") from None
    except (TypeError, ValueError, RecursionError) as exc:
        raise Failure(f"transformer output is not JSON-serialisable: {exc}") from None
    data = text.encode()
    if len(data) > settings["max_output_bytes"]:
        raise Failure(
            f"transformer output exceeded the {settings['max_output_bytes']:,}-byte limit"
        )
    return data


def encode_extra(value: object) -> object:
    """JSON for the non-JSON values transformer code commonly returns: dates and decimals."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"a {type(value).__name__} value is not JSON-serialisable")


def write_stdout(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


if __name__ == "__main__":
    main()
