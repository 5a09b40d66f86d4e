#!/usr/bin/python3
"""instream_load.py SOCKET COUNT CONCURRENCY - sends COUNT small bodies
as clamd INSTREAM requests (one connection each) from CONCURRENCY
threads; prints "req_per_s p50_ms p99_ms found errors". The bodies are
pseudo-random 512 B to 8 KB, every 100th one EICAR."""
import os
import random
import socket
import struct
import sys
import threading
import time

path, count, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-"
         b"ANTIVIRUS-TEST-FILE!$H+H*")
rng = random.Random(42)
bodies = []
for i in range(count):
    if i % 100 == 0:
        bodies.append(EICAR)
    else:
        bodies.append(rng.randbytes(rng.randint(512, 8192)))
lat, found, errors = [], [0], [0]
lock = threading.Lock()
next_i = [0]


def worker():
    while True:
        with lock:
            i = next_i[0]
            next_i[0] += 1
        if i >= count:
            return
        b = bodies[i]
        t0 = time.perf_counter()
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            s.sendall(b"zINSTREAM\0" + struct.pack(">I", len(b)) + b + struct.pack(">I", 0))
            r = b""
            while not r.endswith(b"\0"):
                x = s.recv(4096)
                if not x:
                    break
                r += x
        finally:
            s.close()
        dt = time.perf_counter() - t0
        with lock:
            lat.append(dt)
            if r.endswith(b"FOUND\0"):
                found[0] += 1
            elif not r.endswith(b"OK\0"):
                errors[0] += 1


t0 = time.perf_counter()
ts = [threading.Thread(target=worker) for _ in range(conc)]
for t in ts:
    t.start()
for t in ts:
    t.join()
wall = time.perf_counter() - t0
lat.sort()
print("%.0f %.2f %.2f %d %d" % (count / wall, lat[len(lat) // 2] * 1000,
                                lat[int(len(lat) * 0.99)] * 1000, found[0], errors[0]))
