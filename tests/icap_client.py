#!/usr/bin/python3
"""icap_client.py - a small ICAP client (RFC 3507) for srv_vigil's tests and
bench/icap.sh: RESPMOD and REQMOD with preview, Allow: 204 or not, on a
persistent connection.

As a command, it sends one request and prints a JSON summary:

  icap_client.py --port P --service vigil --mode resp --url URL \
      --file BODY [--header 'Content-Encoding: gzip'] [--no204] \
      [--preview N] [--out FILE]

The summary holds the ICAP status and headers, the HTTP status line and
headers of the answer, and the size and SHA-256 of the body received.
"""
import argparse
import hashlib
import json
import socket
import sys
import threading


class IcapError(Exception):
    pass


class Reply:
    def __init__(self):
        self.status = 0
        self.icap_headers = {}
        self.http_status = ""
        self.http_headers = {}
        self.body = b""
        self.has_body = False


class Connection:
    def __init__(self, host, port, service, timeout=60):
        self.host, self.port, self.service = host, port, service
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        self.sock.close()

    # -- reading ---------------------------------------------------------
    # self.buf holds received bytes from self.pos on; consumed bytes are
    # dropped in bulk, so reading many small chunks stays linear
    def _fill(self):
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        data = self.sock.recv(1 << 20)
        if not data:
            raise IcapError("connection closed by the server")
        self.buf += data

    def _read_until(self, mark):
        while True:
            i = self.buf.find(mark, self.pos)
            if i >= 0:
                out = bytes(self.buf[self.pos:i])
                self.pos = i + len(mark)
                return out
            self._fill()

    def _read_exact(self, n):
        while len(self.buf) - self.pos < n:
            self._fill()
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out

    def _read_chunked(self):
        parts = []
        while True:
            line = self._read_until(b"\r\n")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self._read_until(b"\r\n")
                return b"".join(parts)
            parts.append(self._read_exact(size))
            self._read_exact(2)

    def _read_head(self):
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = head[0].split(" ", 2)
        if len(status) < 2 or not status[0].startswith("ICAP/"):
            raise IcapError("bad status line: %r" % head[0])
        headers = {}
        for line in head[1:]:
            if line[:1] in (" ", "\t") and headers:
                last = list(headers)[-1]
                headers[last] += "\r\n" + line
                continue
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return int(status[1]), headers

    def _read_reply(self):
        r = Reply()
        r.status, r.icap_headers = self._read_head()
        if r.status == 100:
            return r
        enc = r.icap_headers.get("encapsulated", "")
        parts = []
        for item in enc.split(","):
            if "=" in item:
                name, _, off = item.strip().partition("=")
                parts.append((name, int(off)))
        hdr_len = 0
        body_kind = None
        for i, (name, off) in enumerate(parts):
            if name.endswith("-body"):
                body_kind = name
                hdr_len = off
        if hdr_len:
            http = self._read_exact(hdr_len).decode("latin-1").split("\r\n")
            # the last HTTP header block is the answer (res-hdr or req-hdr)
            blocks, cur = [], []
            for line in http:
                if line == "":
                    if cur:
                        blocks.append(cur)
                    cur = []
                else:
                    cur.append(line)
            if blocks:
                r.http_status = blocks[-1][0]
                for line in blocks[-1][1:]:
                    k, _, v = line.partition(":")
                    r.http_headers[k.strip().lower()] = v.strip()
        if body_kind and body_kind != "null-body":
            r.body = self._read_chunked()
            r.has_body = True
        return r

    # -- writing ---------------------------------------------------------
    def request(self, mode, url, body, http_headers=(), preview=1024,
                allow204=True, method="GET", chunk=1 << 20):
        """One RESPMOD (mode 'resp') or REQMOD (mode 'req'); returns a Reply."""
        host = url.split("://", 1)[-1].split("/", 1)[0]
        path = "/" + url.split("://", 1)[-1].split("/", 1)[1] if "/" in url.split("://", 1)[-1] else "/"
        if mode == "req":
            reqh = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, url, host)
            if body is not None:
                reqh += "Content-Length: %d\r\n" % len(body)
            for h in http_headers:
                reqh += h + "\r\n"
            reqh += "\r\n"
            hdrs = reqh.encode("latin-1")
            enc = "req-hdr=0, %s=%d" % ("req-body" if body is not None else "null-body", len(hdrs))
        else:
            reqh = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode("latin-1")
            resh = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            if body is not None:
                resh += "Content-Length: %d\r\n" % len(body)
            for h in http_headers:
                resh += h + "\r\n"
            resh += "\r\n"
            resh = resh.encode("latin-1")
            hdrs = reqh + resh
            enc = "req-hdr=0, res-hdr=%d, %s=%d" % (
                len(reqh), "res-body" if body is not None else "null-body", len(hdrs))
        icap = "%s icap://%s:%d/%s ICAP/1.0\r\nHost: %s:%d\r\n" % (
            "RESPMOD" if mode == "resp" else "REQMOD", self.host, self.port,
            self.service, self.host, self.port)
        if allow204:
            icap += "Allow: 204\r\n"
        if body is not None and preview is not None:
            icap += "Preview: %d\r\n" % preview
        icap += "Encapsulated: %s\r\n\r\n" % enc
        out = [icap.encode("latin-1"), hdrs]
        if body is None:
            self.sock.sendall(b"".join(out))
            return self._read_reply()
        view = memoryview(body)
        if preview is not None:
            pv = view[:preview]
            if len(pv):
                out.append(b"%x\r\n" % len(pv) + bytes(pv) + b"\r\n")
            out.append(b"0; ieof\r\n\r\n" if len(body) <= preview else b"0\r\n\r\n")
            self.sock.sendall(b"".join(out))
            if len(body) <= preview:
                return self._read_reply()
            r = self._read_reply()
            if r.status != 100:
                return r
            rest = view[preview:]
        else:
            self.sock.sendall(b"".join(out))
            rest = view
        # send from a thread while reading: a server may answer as the
        # body arrives (echo, early release) and stop reading until the
        # answer is read
        err = []

        def send():
            try:
                for i in range(0, len(rest), chunk):
                    part = rest[i:i + chunk]
                    self.sock.sendall(b"%x\r\n" % len(part))
                    self.sock.sendall(part)
                    self.sock.sendall(b"\r\n")
                self.sock.sendall(b"0\r\n\r\n")
            except OSError as e:
                err.append(e)
        t = threading.Thread(target=send)
        t.start()
        try:
            r = self._read_reply()
        finally:
            t.join()
        return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--service", default="vigil")
    ap.add_argument("--mode", choices=("resp", "req"), default="resp")
    ap.add_argument("--method", default=None)
    ap.add_argument("--url", default="http://example.test/file")
    ap.add_argument("--file", default=None, help="body; none: no body")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--no204", action="store_true")
    ap.add_argument("--preview", type=int, default=1024, help="-1: no preview")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    body = open(a.file, "rb").read() if a.file else None
    method = a.method or ("POST" if (a.mode == "req" and body is not None) else "GET")
    c = Connection(a.host, a.port, a.service)
    r = c.request(a.mode, a.url, body, a.header,
                  None if a.preview < 0 else a.preview, not a.no204, method)
    c.close()
    if a.out:
        with open(a.out, "wb") as f:
            f.write(r.body)
    json.dump({"icap_status": r.status, "icap_headers": r.icap_headers,
               "http_status": r.http_status, "http_headers": r.http_headers,
               "has_body": r.has_body, "body_size": len(r.body),
               "body_sha256": hashlib.sha256(r.body).hexdigest()},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
