#!/usr/bin/python3
"""cloud_fault_server.py - a real HTTP server on loopback that misbehaves
on purpose, for the cloud client's fault tests. Usage:
  cloud_fault_server.py PORTFILE MODEFILE COUNTFILE
It binds a free port (written to PORTFILE), counts each request in
COUNTFILE, and on every request reads MODEFILE:
  ok    answer every hash "unknown" (a healthy service)
  500   answer HTTP 500
  hang  read the request and never answer
  die   exit at once, mid-request (a server killed mid-scan)
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, modefile, countfile = sys.argv[1:4]
lock = threading.Lock()
count = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            count += 1
            with open(countfile, "w") as f:
                f.write("%d\n" % count)
        with open(modefile) as f:
            mode = f.read().strip()
        if mode == "die":
            os._exit(1)
        if mode == "hang":
            threading.Event().wait()
        if mode == "500":
            out, code = b'{"error":"internal"}', 500
        else:
            objs = json.loads(body).get("objects", [])
            out = json.dumps({"results": [
                {"sha256": o["sha256"], "verdict": "unknown", "name": "",
                 "prevalence": 0, "first_seen": None, "ttl": 60}
                for o in objs]}).encode()
            code = 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
