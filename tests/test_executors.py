"""The process pool's workers run their BLAS on one thread (verify.executors)."""

from __future__ import annotations

from verify.executors import open_executor


def blas_threads_after_work() -> list[int]:
    """The thread count of every BLAS/OpenMP pool loaded in this process, after loading NumPy's and
    SciPy's libraries the way a unit does (a product and a factorisation)."""
    import numpy as np
    import scipy.linalg
    from threadpoolctl import threadpool_info

    matrix = np.arange(16.0).reshape(4, 4) + 4 * np.eye(4)
    scipy.linalg.lu_factor(matrix @ matrix.T)
    return [pool["num_threads"] for pool in threadpool_info()]


def test_pool_workers_run_blas_on_one_thread_even_for_libraries_loaded_after_start():
    # A spawned worker loads NumPy and SciPy after its initializer has run, which threadpoolctl's
    # limit alone does not reach (each library then starts one thread per core).
    with open_executor("process", workers=1) as pool:
        threads = pool.submit(blas_threads_after_work).result(timeout=120)
    assert threads, "no BLAS library was found loaded in the worker"
    assert all(count == 1 for count in threads), threads


def test_serial_executor_runs_blas_on_one_thread_and_restores_the_caller_afterwards():
    before = blas_threads_after_work()
    with open_executor("serial") as executor:
        inside = executor.submit(blas_threads_after_work).result()
    after = blas_threads_after_work()
    assert inside and all(count == 1 for count in inside), inside
    assert after == before
