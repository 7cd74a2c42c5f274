"""Python's multiprocessing on the workloads of benches/vs_python.rs, one workload per call.

Usage: python3 mp_bench.py WORKLOAD N
Prints one JSON object: {"workload": ..., "n": N, "seconds": wall time of the measured part}.
The Rust bench runs this and its own version alternately and compares the medians; both
sides must measure the same thing, so keep each function in step with its Rust twin.
"""

import json
import multiprocessing as mp
import os
import sys
import time

SENTINEL = None


def queue_producer(q, n):
    for i in range(n):
        q.put(i)
    q.put(SENTINEL)


def queue_consumer(q, done):
    count = 0
    while True:
        item = q.get()
        if item is SENTINEL:
            break
        count += 1
    done.put(count)


def queue(n, producers):
    q = mp.Queue()
    done = mp.Queue()
    each = n // producers
    procs = [mp.Process(target=queue_producer, args=(q, each)) for _ in range(producers)]
    procs += [mp.Process(target=queue_consumer, args=(q, done)) for _ in range(producers)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    total = sum(done.get() for _ in range(producers))
    elapsed = time.perf_counter() - start
    for p in procs:
        p.join()
    assert total == each * producers, total
    return elapsed


def pipe_sender(conn, n):
    for i in range(n):
        conn.send(i)
    conn.close()


def pipe_oneway(n):
    recv_end, send_end = mp.Pipe(duplex=False)
    p = mp.Process(target=pipe_sender, args=(send_end, n))
    start = time.perf_counter()
    p.start()
    send_end.close()
    for _ in range(n):
        recv_end.recv()
    elapsed = time.perf_counter() - start
    p.join()
    return elapsed


def pipe_echo(conn, n):
    for _ in range(n):
        conn.send(conn.recv())


def pipe_roundtrip(n):
    a, b = mp.Pipe()
    p = mp.Process(target=pipe_echo, args=(b, n))
    p.start()
    a.send(0)
    a.recv()  # warm: the child is running
    start = time.perf_counter()
    for i in range(n - 1):
        a.send(i)
        a.recv()
    elapsed = time.perf_counter() - start
    p.join()
    return elapsed / (n - 1) * n


def pipe_bytes_sender(conn, n):
    blob = b"x" * (1 << 20)
    for _ in range(n):
        conn.send_bytes(blob)
    conn.close()


def pipe_1mib(n):
    recv_end, send_end = mp.Pipe(duplex=False)
    p = mp.Process(target=pipe_bytes_sender, args=(send_end, n))
    start = time.perf_counter()
    p.start()
    send_end.close()
    for _ in range(n):
        recv_end.recv_bytes()
    elapsed = time.perf_counter() - start
    p.join()
    return elapsed


def value_worker(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1


def value_locked(n):
    v = mp.Value("q", 0)
    procs = [mp.Process(target=value_worker, args=(v, n // 2)) for _ in range(2)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    assert v.value == n // 2 * 2
    return elapsed


CAPACITY = 10


def buffer_producer(cond, buf, head, count, n):
    for i in range(n):
        with cond:
            while count.value == CAPACITY:
                cond.wait()
            buf[(head.value + count.value) % CAPACITY] = i
            count.value += 1
            cond.notify_all()


def buffer_consumer(cond, buf, head, count, n):
    for _ in range(n):
        with cond:
            while count.value == 0:
                cond.wait()
            buf[head.value]
            head.value = (head.value + 1) % CAPACITY
            count.value -= 1
            cond.notify_all()


def condition_buffer(n):
    cond = mp.Condition()
    buf = mp.Array("q", CAPACITY, lock=False)
    head = mp.Value("q", 0, lock=False)
    count = mp.Value("q", 0, lock=False)
    args = (cond, buf, head, count, n)
    procs = [mp.Process(target=buffer_producer, args=args), mp.Process(target=buffer_consumer, args=args)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return time.perf_counter() - start


def noop():
    pass


def start_join(n):
    start = time.perf_counter()
    for _ in range(n):
        p = mp.Process(target=noop)
        p.start()
        p.join()
    return time.perf_counter() - start


WORKLOADS = {
    "queue_1to1": lambda n: queue(n, 1),
    "queue_2to2": lambda n: queue(n, 2),
    "pipe_oneway": pipe_oneway,
    "pipe_roundtrip": pipe_roundtrip,
    "pipe_1mib": pipe_1mib,
    "value_locked": value_locked,
    "condition_buffer": condition_buffer,
    "start_join": start_join,
}

if __name__ == "__main__":
    mp.set_start_method("fork")
    workload, n = sys.argv[1], int(sys.argv[2])
    seconds = WORKLOADS[workload](n)
    print(json.dumps({"workload": workload, "n": n, "seconds": seconds, "pid": os.getpid()}))
