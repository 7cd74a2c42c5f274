"""Python's side of `cargo bench -p multiprocessing --bench pool_vs_python`.

Usage: python3 pool_bench.py WORKLOAD N [PROCESSES]

Runs one workload with multiprocessing.Pool and prints one JSON object on stdout:
  start_shutdown   N pools started and closed+joined; "seconds" is the median of one.
  apply_async      N trivial tasks with a callback, then close+join; "seconds" in total.
  map1 / map1000   pool.map over N trivial items at chunksize 1 / 1000; "seconds" in total.
  cpu              sum_all_values over N equal tasks: "sequential" in this process, "pool"
                   with pool.map(chunksize=1), and the bare ceiling "bare_one" (one forked
                   process doing all tasks) vs "bare_k" (PROCESSES forked processes sharing
                   them), all in seconds.
The Rust side times the same workloads the same way.
"""

import json
import multiprocessing as mp
import os
import statistics
import sys
import time

CPU_TASK = 1_500_000


def trivial(x):
    return x


def sum_all_values(x):
    total = 0
    for i in range(1, x + 1):
        total += i
    return total


def run_tasks(count):
    for _ in range(count):
        sum_all_values(CPU_TASK)


def bare(processes, tasks):
    """Time `tasks` CPU tasks shared by `processes` bare forked processes."""
    shares = [tasks // processes + (1 if i < tasks % processes else 0) for i in range(processes)]
    start = time.perf_counter()
    children = [mp.Process(target=run_tasks, args=(share,)) for share in shares]
    for child in children:
        child.start()
    for child in children:
        child.join()
    return time.perf_counter() - start


def main():
    workload, n = sys.argv[1], int(sys.argv[2])
    processes = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    mp.set_start_method("fork")
    result = {"workload": workload, "n": n, "processes": processes}
    if workload == "start_shutdown":
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            pool = mp.Pool(processes)
            pool.close()
            pool.join()
            samples.append(time.perf_counter() - start)
        result["seconds"] = statistics.median(samples)
    elif workload == "apply_async":
        done = [0]

        def callback(_):
            done[0] += 1

        pool = mp.Pool(processes)
        start = time.perf_counter()
        for i in range(n):
            pool.apply_async(trivial, (i,), callback=callback)
        pool.close()
        pool.join()
        result["seconds"] = time.perf_counter() - start
        assert done[0] == n
    elif workload in ("map1", "map1000"):
        chunksize = 1 if workload == "map1" else 1000
        with mp.Pool(processes) as pool:
            start = time.perf_counter()
            out = pool.map(trivial, range(n), chunksize=chunksize)
            result["seconds"] = time.perf_counter() - start
        assert len(out) == n
    elif workload == "cpu":
        start = time.perf_counter()
        run_tasks(n)
        result["sequential"] = time.perf_counter() - start
        with mp.Pool(processes) as pool:
            start = time.perf_counter()
            pool.map(sum_all_values, [CPU_TASK] * n, chunksize=1)
            result["pool"] = time.perf_counter() - start
        result["bare_one"] = bare(1, n)
        result["bare_k"] = bare(processes, n)
    else:
        sys.exit(f"unknown workload {workload!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
