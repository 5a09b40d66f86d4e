"""onaccess_harness.py - real fanotify for the on-access tests: the test
re-runs itself in a private mount namespace (unshare -m), mounts a tmpfs
there and starts vigild watching only that tmpfs, so nothing outside is
ever marked. Skips (exit 77) with the reason where that is not allowed."""
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests"))
from vigild_harness import EICAR, check, finish, sanitized  # noqa: E402,F401

VIGIL = os.environ["VIGIL"]
VIGILD = os.path.join(os.environ["top_builddir"], "vigild")
SHIM = os.path.join(os.environ["top_builddir"], "tests", ".libs", "libcrashshim.so")
CLAM_EXE = "/usr/share/clamav-testfiles/clam.exe"


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def enter_namespace():
    """Re-executes the test in its own mount namespace, once."""
    if os.environ.get("VIGIL_ONACCESS_NS") == "1":
        return
    if os.geteuid() != 0:
        skip("on-access tests need root (fanotify permission events, mounts)")
    if not shutil.which("unshare"):
        skip("unshare(1) not found")
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.fanotify_init(0x8 | 0x1, os.O_RDONLY)  # FAN_CLASS_CONTENT|FAN_CLOEXEC
    if fd < 0:
        skip("fanotify_init(FAN_CLASS_CONTENT) not permitted here: %s"
             % os.strerror(ctypes.get_errno()))
    os.close(fd)
    env = dict(os.environ, VIGIL_ONACCESS_NS="1")
    try:
        r = subprocess.run(["unshare", "-m", "--propagation", "private",
                            sys.executable] + sys.argv, env=env)
    except OSError as e:
        skip("unshare: %s" % e)
    sys.exit(r.returncode)


class Tree:
    """A scratch folder with a private tmpfs at ./w (the watched tree)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vigil-onaccess.")
        os.chmod(self.dir, 0o755)
        self.w = os.path.join(self.dir, "w")
        os.mkdir(self.w)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m,mode=755",
                            "tmpfs", self.w], capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            skip("cannot mount a tmpfs in a private namespace: " + r.stderr.strip())

    def path(self, *parts):
        return os.path.join(self.w, *parts)

    def close(self):
        subprocess.run(["umount", "-l", self.w])
        shutil.rmtree(self.dir, ignore_errors=True)


class Vigild:
    def __init__(self, tree, extra="", env=None, log_dir=None):
        self.tree = tree
        self.logs = log_dir or tree.dir
        self.ctl = os.path.join(tree.dir, "control.sock")
        self.log = os.path.join(self.logs, "vigild.log")
        self.events = os.path.join(self.logs, "events.json")
        self.conf = os.path.join(tree.dir, "vigild.conf")
        with open(self.conf, "w") as f:
            f.write("Foreground yes\nLogSyslog no\nLogVerbose yes\nScanWorkers 2\n"
                    "LocalSocket\nControlSocket %s\nLogFile %s\nEventLogFile %s\n"
                    "OnAccessMountPath %s\n%s\n"
                    % (self.ctl, self.log, self.events, tree.w, extra))
        self.env = dict(os.environ)
        if env:
            self.env.update(env)
        self.proc = None

    def start(self):
        self.out = open(os.path.join(self.tree.dir, "vigild.out"), "a")
        self.proc = subprocess.Popen([VIGILD, "--config", self.conf], stdout=self.out,
                                     stderr=subprocess.STDOUT, env=self.env)
        for _ in range(300):
            if self.control("ping").startswith("PONG"):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("vigild did not start: " + self.output())

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.out.close()
        self.proc = None

    def output(self):
        with open(os.path.join(self.tree.dir, "vigild.out")) as f:
            return f.read()

    def control(self, cmd, client="daemon"):
        r = subprocess.run([VIGIL, client, "--socket", self.ctl, "--timeout", "60", cmd],
                           capture_output=True, text=True)
        if r.returncode != 0 and cmd in ("stats", "status"):
            # a known, not yet explained, rare refusal of the control
            # socket under load (issue 10's note): report it, ask once more
            print("control %s failed once: %s; vigild log: %s"
                  % (cmd, r.stderr.strip(), self.output()[-600:]))
            r = subprocess.run([VIGIL, client, "--socket", self.ctl, "--timeout", "60", cmd],
                               capture_output=True, text=True)
        if r.returncode != 0 and cmd in ("stats", "status"):
            raise RuntimeError("vigil %s %s: exit %d: %s" % (client, cmd, r.returncode,
                                                            r.stderr.strip()))
        return r.stdout

    def stats(self):
        return json.loads(self.control("stats"))["onaccess"]

    def pool(self):
        return json.loads(self.control("stats"))["pool"]

    def wait_stats(self, pred, timeout=5.0):
        end = time.time() + timeout
        while True:
            s = self.stats()
            if pred(s) or time.time() > end:
                return s
            time.sleep(0.05)

    def event_lines(self):
        try:
            with open(self.events) as f:
                return [json.loads(x) for x in f if x.strip()]
        except FileNotFoundError:
            return []

    def wait_event(self, pred, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            for e in self.event_lines():
                if pred(e):
                    return e
            time.sleep(0.02)
        return None

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=5.0):
        end = time.time() + timeout
        while time.time() < end:
            if text in self.log_text():
                return True
            time.sleep(0.02)
        return False


def wait_for(pred, timeout):
    """Polls pred until it holds or timeout seconds pass (a loaded
    machine is slow, a fixed sleep is a guess); returns its last value."""
    end = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > end:
            return v
        time.sleep(0.05)


def try_open(path, flags=os.O_RDONLY):
    """Returns (errno or 0, seconds)."""
    t0 = time.time()
    try:
        fd = os.open(path, flags)
        os.close(fd)
        return 0, time.time() - t0
    except OSError as e:
        return e.errno, time.time() - t0


def write_file(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
