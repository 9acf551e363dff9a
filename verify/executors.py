"""Where the units of a sweep run: any `concurrent.futures.Executor`.

Three kinds, chosen by ``theorybench report --executor``:

- ``process`` (default): a local `concurrent.futures.ProcessPoolExecutor` with one worker per
  available core, started with the ``spawn`` method so that a worker inherits no open file (in
  particular not the results folder's lock, `verify.storage.ResultsFile.lock`); each worker exits
  within `PARENT_POLL_S` seconds of its parent's death, even a SIGKILL, instead of lingering, and
  runs its BLAS on one thread (`threadpoolctl`): the parallelism is one unit batch per core, and
  a BLAS pool per worker would only make the workers fight over the cores (the small products of
  a sweep gain nothing from threads, docs/benchmarks.md).
  As always with ``spawn``, a script that runs a sweep must guard it with
  ``if __name__ == "__main__":`` (the ``theorybench`` command does);
- ``serial``: `SerialExecutor`, every unit in the calling process, in submission order (tests,
  debugging, profiling), with BLAS on one thread for the duration, as in a pool worker;
- ``dask``: a `dask.distributed` cluster through ``Client(address).get_executor()``; with no
  ``--scheduler`` address a `distributed.LocalCluster` is started for the run. Dask is the optional
  extra ``pip install 'theorybench[dask]'``.

The runner only calls ``submit`` and waits on the returned `concurrent.futures.Future`s, so the
three give the same rows (units are deterministic functions of their configuration).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from theorybench.errors import UserInputError

EXECUTORS = ("process", "serial", "dask")
PARENT_POLL_S = 1.0


_BLAS_LIMITS: list[Any] = []  # keeps a worker's threadpoolctl limit referenced for its lifetime


# Read by OpenBLAS, MKL, BLIS and OpenMP when their library is loaded.
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "OMP_NUM_THREADS")


def limit_blas_to_one_thread() -> None:
    """Run this process's BLAS (and OpenMP) pools on one thread each, from now on.

    `threadpoolctl` limits only the libraries already loaded, and a fresh ``spawn`` worker has
    loaded none when its initializer runs: NumPy's and SciPy's OpenBLAS, loaded later, would start
    a thread per core and two workers would then spin four threads on two cores (measured: the
    ``phase_diagram`` sweep cost 5 times the CPU time, docs/benchmarks.md). So the environment
    variables that those libraries read when they load are set too.
    """
    from threadpoolctl import threadpool_limits

    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"
    _BLAS_LIMITS.append(threadpool_limits(limits=1))


def _init_worker(parent: int) -> None:
    """Pool-worker initializer: one BLAS thread (module docstring), exit with the parent."""
    limit_blas_to_one_thread()
    _exit_with_parent(parent)


def _exit_with_parent(parent: int) -> None:
    """Exit as soon as the parent process is gone, and ignore Ctrl-C.

    A pool worker blocks reading its task queue, whose pipe it holds open itself, so it would never
    see the parent die; an orphan is re-parented, which `os.getppid` reveals. Ctrl-C reaches the
    whole process group: the parent handles it (and terminates the workers), so a worker must not
    die printing a KeyboardInterrupt traceback of its own.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # As in the parent (theorybench.cli): floating-point RuntimeWarnings are handled by design.
    warnings.simplefilter("ignore", RuntimeWarning)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


class SerialExecutor(Executor):
    """Runs each submitted call at once in the calling thread; the future is already done.

    An exception raised by the call is stored in the future, as a pool would do.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            result = fn(*args, **kwargs)
        except BaseException as error:  # a pool hands every exception to the future too
            future.set_exception(error)
        else:
            future.set_result(result)
        return future


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


def _check_workers(workers: int | None) -> int:
    if workers is None:
        return available_cores()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UserInputError(f"--workers must be an integer >= 1 (worker processes), got {workers!r}.")
    return workers


def in_flight_limit(kind: str, workers: int | None) -> int | None:
    """Units to keep submitted at once: 1 for ``serial`` (so each is stored before the next
    starts), two per worker for ``process`` (workers never idle, little queued work lost to an
    interruption), no limit for ``dask`` (the scheduler queues and balances)."""
    if kind == "serial":
        return 1
    if kind == "process":
        return 2 * _check_workers(workers)
    return None


@contextlib.contextmanager
def _dask_executor(workers: int, scheduler: str | None, timeout_s: float) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserInputError(
            "--executor dask needs the optional dependency dask.distributed, which is not installed. "
            "Install it with `pip install 'theorybench[dask]'`, or choose --executor process or serial."
        ) from None
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(
                LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
            )
            address = cluster.scheduler_address
        else:
            address = scheduler
        try:
            client = stack.enter_context(Client(address, timeout=f"{timeout_s}s"))
        except (OSError, TimeoutError, ValueError) as error:
            raise UserInputError(
                f"--scheduler {address!r}: cannot connect to a dask.distributed scheduler there "
                f"({error}). Give the address a running scheduler prints, e.g. tcp://host:8786, or "
                "leave --scheduler out to start a local cluster."
            ) from None
        if scheduler is None:  # our own workers; a user's cluster keeps its own settings
            client.run(limit_blas_to_one_thread)
        # pure=False: every unit is a distinct task; dask need not hash the arguments to dedupe.
        yield client.get_executor(pure=False)


@contextlib.contextmanager
def open_executor(kind: str = "process", *, workers: int | None = None,
                  scheduler: str | None = None, connect_timeout_s: float = 20.0) -> Iterator[Executor]:
    """An executor of the given kind, shut down (pending work cancelled) when the block exits.

    Parameters
    ----------
    kind : {"process", "serial", "dask"}
        Where units run (see the module docstring).
    workers : int or None
        Worker processes for ``process`` and for a local dask cluster; default: available cores.
    scheduler : str or None
        Address of a running dask scheduler; only with ``kind="dask"``.
    connect_timeout_s : float
        Seconds to wait for that scheduler before giving up.

    Raises
    ------
    UserInputError
        Unknown kind, ``workers < 1``, a scheduler address without ``dask``, dask not installed, or
        a scheduler that cannot be reached.
    """
    if kind not in EXECUTORS:
        raise UserInputError(f"--executor must be one of {', '.join(EXECUTORS)}, got {kind!r}.")
    count = _check_workers(workers)
    if scheduler is not None and kind != "dask":
        raise UserInputError(
            f"--scheduler {scheduler!r} is only meaningful with --executor dask (got --executor {kind})."
        )
    if kind == "serial":
        import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so that the limit below reaches it)
        from threadpoolctl import threadpool_limits

        # One BLAS thread, as in a pool worker: a product's rounding may depend on how many threads
        # split its sums, and the rows must not depend on the executor.
        with threadpool_limits(limits=1):
            yield SerialExecutor()
    elif kind == "process":
        with ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(os.getpid(),)) as pool:
            try:
                yield pool
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                # Abandon the units in flight (their rows were never written; --resume recomputes
                # them) rather than wait for them: an interrupted run ends now, with no worker left.
                # `_processes` is the pool's own table of worker processes (CPython 3.9+).
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    process.terminate()
                raise
    else:
        with _dask_executor(count, scheduler, connect_timeout_s) as executor:
            yield executor
