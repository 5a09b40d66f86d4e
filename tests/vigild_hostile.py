#!/usr/bin/python3
"""vigild_hostile.py - what no client should send, vigild survives:
unknown commands, a 1 MB command line, an INSTREAM chunk that claims
4 GB, a client that stops mid-chunk, 1,000 idle connections, a
pipelined IDSESSION, TCP limited to INSTREAM and PING with a token.
After each, PING still answers; the supervisor's memory stays within
its bound (MaxConnections x MaxCommandLength for idle connections, a
few MB here) and its descriptors go back to where they were."""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
import vigild_harness as h  # noqa: E402

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

port = free_port()
extra = ("CommandReadTimeout 1\nIdleTimeout 1\nReadTimeout 1\nMaxConnections 200\n"
         "StreamMaxLength 1M\nTCPSocket %d\nTCPAddr 127.0.0.1\nTCPToken s3cret\n" % port)
with h.Vigild(extra) as d:
    base_rss, base_fds = d.rss_kb(), d.fds()

    r = d.command(b"zHELLO\0")
    h.check(r == b"UNKNOWN COMMAND\0", "unknown command: %r" % r)
    r = d.command(b"nSCAN\n")
    h.check(r == b"UNKNOWN COMMAND\n", "SCAN without a path: %r" % r)
    r = d.command(b"zEND\0")
    h.check(r == b"UNKNOWN COMMAND\0", "END outside a session: %r" % r)

    # a 1 MB command line: refused once it passes MaxCommandLength
    s = d.connect()
    try:
        s.sendall(b"zSCAN /" + b"a" * (1 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = h.recv_all(s)
    s.close()
    h.check(r.startswith(b"Command too long. ERROR"), "1 MB command: %r" % r[:60])

    # INSTREAM chunk claiming 4 GB
    s = d.connect()
    s.sendall(b"zINSTREAM\0" + struct.pack(">I", 0xFFFFFFFF) + b"x" * 100)
    r = h.recv_all(s)
    s.close()
    h.check(r == b"INSTREAM size limit exceeded. ERROR\0", "4 GB chunk: %r" % r)

    # a client that stops in the middle of a chunk: ReadTimeout ends it
    s = d.connect()
    t0 = time.time()
    s.sendall(b"zINSTREAM\0" + struct.pack(">I", 1000) + b"x" * 10)
    r = h.recv_all(s)
    s.close()
    h.check(b"ERROR" in r and time.time() - t0 < 5,
            "stalled chunk answered in %.1f s: %r" % (time.time() - t0, r))

    # a pipelined IDSESSION: every reply, in order, with its number
    s = d.connect()
    s.sendall(b"zIDSESSION\0zPING\0zINSTREAM\0" + struct.pack(">I", len(h.EICAR)) +
              h.EICAR + struct.pack(">I", 0) + b"zVERSION\0zEND\0")
    r = h.recv_all(s)
    s.close()
    parts = r.split(b"\0")
    h.check(parts[0] == b"1: PONG" and parts[1] == b"2: stream: Eicar-Test-Signature FOUND"
            and parts[2].startswith(b"3: vigil "), "IDSESSION replies: %r" % r)
    r = d.command(b"zIDSESSION\0zRELOAD\0")
    h.check(r == b"1: Command invalid inside IDSESSION. ERROR\0", "RELOAD in a session: %r" % r)

    # 1,000 idle connections: MaxConnections hold, the rest are refused,
    # the held ones time out, the daemon keeps answering
    conns, refused = [], 0
    for i in range(1000):
        try:
            conns.append(d.connect(timeout=5))
        except OSError:
            refused += 1
    time.sleep(0.3)
    # the refusal may close the socket before our PING is written (EPIPE):
    # a refusal too, as long as it comes at once
    try:
        r = d.command(b"zPING\0")
    except (BrokenPipeError, ConnectionResetError):
        r = b"(closed at once)"
    h.check(r in (b"PONG\0", b"Too many connections. ERROR\n", b"(closed at once)"),
            "PING during 1,000 connections: %r" % r)
    peak_rss = d.rss_kb()
    answers = {}
    for c in conns:
        a = h.recv_all(c)
        answers[a] = answers.get(a, 0) + 1
        c.close()
    h.check(answers.get(b"COMMAND READ TIMED OUT\n", 0) >= 150 and
            answers.get(b"Too many connections. ERROR\n", 0) + refused >= 700,
            "1,000 idle connections: %r, %d refused at connect" % (answers, refused))
    h.check(peak_rss - base_rss < 32 * 1024,
            "memory bounded: %d kB more RSS with 1,000 connections" % (peak_rss - base_rss))
    time.sleep(0.5)
    h.check(d.fds() <= base_fds + 2, "descriptors back: %d -> %d" % (base_fds, d.fds()))
    h.check(d.command(b"zPING\0") == b"PONG\0", "PING after the 1,000 connections")

    # TCP: only INSTREAM and PING, only after AUTH
    t = socket.create_connection(("127.0.0.1", port), timeout=5)
    t.sendall(b"zPING\0")
    r = h.recv_all(t)
    t.close()
    h.check(r == b"AUTH required. ERROR\0", "TCP without token: %r" % r)
    t = socket.create_connection(("127.0.0.1", port), timeout=5)
    t.sendall(b"zAUTH s3cret\0zIDSESSION\0zINSTREAM\0" + struct.pack(">I", len(h.EICAR)) +
              h.EICAR + struct.pack(">I", 0) + b"zEND\0")
    r = h.recv_all(t)
    t.close()
    h.check(b"stream: Eicar-Test-Signature FOUND" in r, "TCP INSTREAM with token: %r" % r)
    t = socket.create_connection(("127.0.0.1", port), timeout=5)
    t.sendall(b"zAUTH s3cret\0zIDSESSION\0zSCAN /etc/shadow\0")
    r = h.recv_all(t)
    t.close()
    h.check(b"Command invalid inside IDSESSION" in r or b"not allowed over TCP" in r,
            "TCP SCAN refused: %r" % r)

    h.check(d.alive() and d.command(b"zPING\0") == b"PONG\0", "vigild still answers")
sys.exit(h.finish())
