#!/usr/bin/python3
"""update_mirror.py ROOT PORTFILE LOG - a bundle mirror for tests/update.sh.

python3's http.server over ROOT on a free loopback port (written to
PORTFILE), with ETag, If-None-Match, If-Modified-Since, Range and
If-Range, and failure modes chosen by the first path component:
  /ok/FILE       the file
  /slow/FILE     the file in 8 KiB pieces, 15 ms apart
  /cut/FILE      announces the whole length, sends half, hangs up
  /garbage/FILE  random bytes of the file's length
  /down/FILE     closes the connection without an answer
Each request is logged to LOG as "MODE FILE RANGE-HEADER-OR--".
"""
import email.utils
import hashlib
import http.server
import os
import sys
import time


class Mirror(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = self.path.lstrip("/").split("/", 1)
        mode, name = (parts + [""])[:2]
        with open(LOG, "a") as log:
            log.write("%s %s %s\n" % (mode, name, self.headers.get("Range", "-")))
        path = os.path.join(ROOT, os.path.basename(name))
        if mode == "down":
            self.close_connection = True
            return
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        if mode == "garbage":
            data = os.urandom(len(data))
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:32]
        mtime = int(os.path.getmtime(path))
        if self.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in self.headers
            and self.headers.get("If-Modified-Since")
            and email.utils.parsedate_to_datetime(
                self.headers["If-Modified-Since"]).timestamp() >= mtime):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, status = 0, 200
        rng = self.headers.get("Range", "")
        if_range = self.headers.get("If-Range")
        if rng.startswith("bytes=") and rng.endswith("-") and (
                if_range is None or if_range == etag):
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        body = data[start:]
        self.send_response(status)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d"
                             % (start, len(data) - 1, len(data)))
        self.end_headers()
        if mode == "cut":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        step = 8192 if mode == "slow" else len(body) or 1
        for i in range(0, len(body), step):
            self.wfile.write(body[i:i + step])
            if mode == "slow":
                self.wfile.flush()
                time.sleep(0.015)


ROOT, PORTFILE, LOG = sys.argv[1:4]
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
server.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
