#!/usr/bin/python3
"""icap_load.py - load for bench/icap.sh: C worker processes, each on one
persistent ICAP connection (tests/icap_client.py), send R RESPMOD
requests in all with unique bodies of SIZE bytes (a counter is written
into each, so no verdict cache can answer), preview 1024, with or
without Allow: 204. Prints one JSON line: requests, seconds, req/s,
MB/s (body bytes sent per second), p50 and p99 latency, errors, ICAP
status counts, and the client's own CPU time per request (its share of a
loaded machine's wall time).
"""
import argparse, json, multiprocessing as mp, os, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import icap_client  # noqa: E402


def worker(args, n, wid, barrier, out):
    body = bytearray(os.urandom(args.size))
    lat, codes, errors = [], {}, 0
    c = icap_client.Connection("127.0.0.1", args.port, args.service, timeout=300)
    barrier.wait()
    t0 = time.time()
    for i in range(n):
        body[:24] = b"%08d-%08d-%06d" % (wid, i, os.getpid() % 1000000)
        s = time.time()
        try:
            r = c.request("resp", "http://bench.test/obj%d" % i, bytes(body),
                          preview=1024, allow204=not args.no204)
            codes[r.status] = codes.get(r.status, 0) + 1
            if r.status not in (200, 204) or (r.status == 200 and len(r.body) != args.size):
                errors += 1
            if r.icap_headers.get("connection") == "close":
                c.close()
                c = icap_client.Connection("127.0.0.1", args.port, args.service, timeout=300)
        except Exception as e:
            errors += 1
            print("error:", e, file=sys.stderr)
            c = icap_client.Connection("127.0.0.1", args.port, args.service, timeout=300)
        lat.append(time.time() - s)
    out.put((t0, time.time(), lat, codes, errors))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--conc", type=int, default=1)
    ap.add_argument("--requests", type=int, required=True)
    ap.add_argument("--no204", action="store_true")
    a = ap.parse_args()
    barrier, out = mp.Barrier(a.conc), mp.Queue()
    per = [a.requests // a.conc + (1 if i < a.requests % a.conc else 0) for i in range(a.conc)]
    ps = [mp.Process(target=worker, args=(a, per[i], i, barrier, out)) for i in range(a.conc)]
    [p.start() for p in ps]
    res = [out.get() for _ in ps]
    [p.join() for p in ps]
    t = os.times()
    client_cpu = t.user + t.system + t.children_user + t.children_system
    start, end = min(r[0] for r in res), max(r[1] for r in res)
    lat = sorted(x for r in res for x in r[2])
    codes = {}
    for r in res:
        for k, v in r[3].items():
            codes[k] = codes.get(k, 0) + v
    secs = end - start
    n = len(lat)
    print(json.dumps({
        "requests": n, "seconds": round(secs, 3),
        "req_s": round(n / secs, 1), "mb_s": round(n * a.size / secs / 1e6, 1),
        "p50_ms": round(lat[n // 2] * 1000, 1),
        "p99_ms": round(lat[min(n - 1, int(n * 0.99))] * 1000, 1),
        "errors": sum(r[4] for r in res), "codes": codes,
        "client_cpu_ms": round(client_cpu * 1000 / n, 1)}))


if __name__ == "__main__":
    main()
