"""vigild_harness.py - starts a vigild for a Python test and talks the
clamd protocol to it by hand (for the tests that send what no client
would)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-"
         b"ANTIVIRUS-TEST-FILE!$H+H*")
failures = 0


def check(cond, what):
    global failures
    if cond:
        print("ok: " + what)
    else:
        failures += 1
        print("FAIL: " + what, file=sys.stderr)


def sanitized():
    """ASan builds run several times slower and keep shadow memory."""
    try:
        with open(os.path.join(os.environ["top_builddir"], "Makefile")) as f:
            return "-fsanitize=address" in f.read()
    except (KeyError, OSError):
        return False


def finish():
    if failures:
        print("%d failure(s)" % failures, file=sys.stderr)
    return 1 if failures else 0


class Vigild:
    def __init__(self, extra="", env=None):
        self.dir = tempfile.mkdtemp()
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "clamd.sock")
        self.ctl = os.path.join(self.dir, "control.sock")
        self.conf = os.path.join(self.dir, "vigild.conf")
        with open(self.conf, "w") as f:
            f.write("Foreground yes\nLogSyslog no\nScanWorkers 2\n"
                    "LogFile %s/vigild.log\nLocalSocket %s\nControlSocket %s\n%s\n"
                    % (self.dir, self.sock, self.ctl, extra))
        self.env = dict(os.environ)
        if env:
            self.env.update(env)
        self.proc = None

    def __enter__(self):
        exe = os.path.join(os.environ["top_builddir"], "vigild")
        self.out = open(os.path.join(self.dir, "vigild.out"), "w")
        self.proc = subprocess.Popen([exe, "--config", self.conf], stdout=self.out,
                                     stderr=subprocess.STDOUT, env=self.env)
        for _ in range(300):
            try:
                if self.command(b"zPING\0") == b"PONG\0":
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("vigild did not start: " +
                           open(os.path.join(self.dir, "vigild.out")).read())

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def alive(self):
        return self.proc.poll() is None

    def connect(self, timeout=10):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.sock)
        return s

    def command(self, data, timeout=10):
        """Sends data, returns everything until the server closes."""
        s = self.connect(timeout)
        try:
            s.sendall(data)
            return recv_all(s)
        finally:
            s.close()

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))


def recv_all(s):
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        out += b
    return out
