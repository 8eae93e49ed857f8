"""Run the deployed functions the way Lambda does: each in its own process, with its own environment.

A `FunctionPool` keeps warm worker processes for one function. A worker is a fresh interpreter that takes the
function's environment as the template deployed it, imports the code from the cloud assembly's asset (the
dependencies layer's `python/` directory on its path, as Lambda mounts layers), and answers invocations one at a
time. An invocation that runs past the function's timeout kills its worker, as Lambda does; the caller sees a
timeout error. `warm(n)` starts one worker and forks the other n - 1 from it before it has served anything (its
imports done, no client or connection made yet): n warm workers for the cost of one, each as fresh as a new one.
Each worker's stdout and stderr (the JSON log lines and EMF metrics) go to `<log_dir>/<function>.log`, the local
stand-in for CloudWatch Logs.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from multiprocessing import reduction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from clarion_local.stack import Function

_SPAWN = multiprocessing.get_context("spawn")


class InvocationError(RuntimeError):
    """The function failed: it raised (`kind` "Unhandled") or ran out of time (`kind` "Timeout")."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass
class Context:
    """What Lambda hands a handler as `context`."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float  # time.monotonic() when the function times out
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def _worker_main(conn: Any, environment: dict[str, str], paths: list[str], handler: str, log_path: str) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    os.environ.update(environment)
    sys.path[:0] = paths
    module_name, function_name = handler.rsplit(".", 1)
    function = getattr(importlib.import_module(module_name), function_name)
    _share_sdk_data()
    conn.send(("ready", os.getpid()))
    while True:
        message = conn.recv()
        if message is None:  # stop: exit at once, its log written (an interpreter's teardown took seconds per worker)
            sys.stdout.flush()
            sys.stderr.flush()
            with contextlib.suppress(ChildProcessError):  # the workers forked from this one are gone first
                os.waitpid(-1, 0)
            os._exit(0)
        if message == "fork":
            conn = _fork(conn)
            continue
        event, context_fields, timeout = message
        context = Context(**context_fields, deadline=time.monotonic() + timeout)
        try:
            conn.send(("ok", function(event, context)))
        except Exception as error:  # the function's own failure, reported as Lambda reports it
            traceback.print_exc()
            conn.send(("error", f"{type(error).__name__}: {error}"))


def _share_sdk_data() -> None:
    """One botocore data loader for every session in this worker (Clarion makes a session per client), with the
    endpoints and the list of services read: a worker forked from this one makes its clients in a third of the
    CPU. Lambda's cold starts run side by side; a burst of them here shares this machine's cores."""
    import botocore.loaders
    import botocore.session

    botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)  # type: ignore[attr-defined]
    session = botocore.session.get_session()
    session.get_component("endpoint_resolver")
    loader = session.get_component("data_loader")
    loader.list_available_services("service-2")
    for name in ("partitions", "sdk-default-configuration", "_retry"):
        loader.load_data(name)


def _fork(conn: Connection) -> Connection:
    """A sibling of this worker, with its own pipe (whose end comes over `conn`): in the sibling, that pipe."""
    end = reduction.recv_handle(conn)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the siblings that exit
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        conn.close()
        own = Connection(end)
        own.send(("ready", os.getpid()))
        return own
    os.close(end)
    return conn


class _Worker:
    def __init__(self, parent: Connection, process: Any = None) -> None:
        self.parent = parent
        self.process = process  # None: forked from another worker (its pipe tells when it has gone)
        self.pid = process.pid if process is not None else 0  # a forked worker's: known once it is ready

    @classmethod
    def spawn(cls, function: Function, environment: dict[str, str], paths: list[str], log_path: Path) -> _Worker:
        parent, child = _SPAWN.Pipe()
        process = _SPAWN.Process(
            target=_worker_main,
            args=(child, environment, paths, function.handler, str(log_path)),
            name=f"lambda-{function.logical_id}",
            daemon=True,
        )
        process.start()
        child.close()
        return cls(parent, process)

    def fork(self) -> _Worker:
        """A new worker forked from this one, which must not have served an invocation yet."""
        parent, child = _SPAWN.Pipe()
        self.parent.send("fork")
        reduction.send_handle(self.parent, child.fileno(), self.pid)
        child.close()
        return _Worker(parent)

    def wait_ready(self, timeout: float) -> None:
        if not self.parent.poll(timeout):
            self.kill()
            raise InvocationError("Init", "the function did not start in time")
        try:
            self.pid = int(self.parent.recv()[1])
        except EOFError:
            raise InvocationError("Init", "the function failed to import; see its log") from None

    def alive(self) -> bool:
        if self.process is not None:
            return bool(self.process.is_alive())
        try:
            return not self.parent.poll()  # a forked worker that has exited has closed its end
        except OSError:
            return False

    def invoke(self, event: Any, context: dict[str, Any], timeout: float) -> Any:
        self.parent.send((event, context, timeout))
        if not self.parent.poll(timeout + 1):
            self.kill()
            raise InvocationError("Timeout", f"Task timed out after {timeout:.2f} seconds")
        try:
            status, value = self.parent.recv()
        except EOFError:
            self.kill()
            raise InvocationError("Unhandled", "the function's process exited") from None
        if status == "error":
            raise InvocationError("Unhandled", str(value))
        return value

    def kill(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join(5)
        elif self.pid and self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def stop(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            self.parent.send(None)
        if self.process is not None:
            self.process.join(5)
        else:
            with contextlib.suppress(OSError):
                self.parent.poll(5)
        self.kill()


class FunctionPool:
    """Up to `concurrency` warm workers of one function; invocations beyond that wait their turn."""

    def __init__(
        self,
        function: Function,
        environment: dict[str, str],
        paths: list[str],
        log_dir: Path,
        concurrency: int,
        region: str,
        account: str,
    ) -> None:
        self.function = function
        # The runtime's own variables (credentials, endpoint, the local link URL) over the deployed ones.
        self.environment = {**function.environment, **environment}
        self.paths = paths
        self.log_path = log_dir / f"{function.environment.get('POWERTOOLS_SERVICE_NAME', function.logical_id)}.log"
        self.arn = f"arn:aws:lambda:{region}:{account}:function:{function.name}"
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self.concurrency = concurrency
        self._slots = threading.BoundedSemaphore(concurrency)
        self._all: list[_Worker] = []
        self._lock = threading.Lock()

    def warm(self, count: int = 1) -> None:
        """Start `count` workers now (cold starts before the first request, not during it): one, and the others
        forked from it."""
        first = self._spawn()
        for _ in range(count - 1):
            self._idle.put(self._started(first.fork()))
        self._idle.put(first)

    @property
    def workers(self) -> int:
        """The workers started and not killed: warm, or answering an invocation."""
        with self._lock:
            return len(self._all)

    def _spawn(self) -> _Worker:
        return self._started(_Worker.spawn(self.function, self.environment, self.paths, self.log_path))

    def _started(self, worker: _Worker) -> _Worker:
        with self._lock:
            self._all.append(worker)
        worker.wait_ready(timeout=60)
        return worker

    def invoke(self, event: Any) -> Any:
        with self._slots:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = self._spawn()
            context = {
                "function_name": self.function.name,
                "memory_limit_in_mb": self.function.memory,
                "invoked_function_arn": self.arn,
                "aws_request_id": str(uuid.uuid4()),
            }
            try:
                result = worker.invoke(event, context, float(self.function.timeout))
            except InvocationError as error:
                if error.kind != "Unhandled" or not worker.alive():
                    with self._lock:
                        self._all.remove(worker)
                    raise
                self._idle.put(worker)
                raise
            self._idle.put(worker)
            return result

    def stop(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), []
        for worker in reversed(workers):  # the forked ones before the worker they were forked from (it waits for them)
            worker.stop()

    @staticmethod
    def stop_all(pools: list[FunctionPool]) -> None:
        """Stop `pools` together: every worker told first, so they exit side by side, not one after another."""
        for pool in pools:
            with pool._lock:
                workers = list(pool._all)
            for worker in workers:
                with contextlib.suppress(BrokenPipeError, OSError):
                    worker.parent.send(None)
        for pool in pools:
            pool.stop()
