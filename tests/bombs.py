#!/usr/bin/python3
"""bombs.py - the archive bomb test: builds five bombs and checks that
vigil ends each INCOMPLETE, naming the limit, in under 3 s of CPU time
(vigil and its unpacking workers) and 10 s of wall time, with a peak
resident size under 256 MB. Run by make check ($VIGIL, $top_builddir).

    bombs.py        run the test
    bombs.py DIR    only write the bombs into DIR (for benchmarks)

  nested.zip     42.zip style: zips of 16 zips, 4 levels, 16 members of
                 256 MiB of zeros at the bottom (16^4 * 4 GiB inflated)
  overlap.zip    zbsm style: one deflated kernel of 64 MiB of zeros that
                 all 1000 central directory entries point at
  zeros.gz       a gigabyte of zeros (1024 gzip members of 1 MiB each)
  deep.cpio      10,000 levels of cpio in cpio
  million.tar.gz a tar of a million empty members

Each is built in well under a second: repeated compressed blocks are
made once and copied, and the deep nest is written as prefixes and
suffixes around its core, never rebuilt level by level.
"""
import gzip
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vigild_harness import sanitized  # noqa: E402

MIB = 1 << 20


def deflate_zeros(mib):
    """A raw deflate stream of mib MiB of zeros, and its CRC-32.

    A full flush resets the compressor, so every MiB after it compresses
    to the same bytes: compress two, then copy the second.
    """
    zero = bytes(MIB)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zero, crc)
    return first + again * (mib - 1) + tail, crc


def local_header(name, crc, csize, usize):
    n = name.encode()
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc,
                       csize, usize, len(n), 0) + n


def central_entry(name, crc, csize, usize, offset):
    n = name.encode()
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0,
                       crc, csize, usize, len(n), 0, 0, 0, 0, 0,
                       offset) + n


def end_record(count, cd_size, cd_offset):
    return struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size,
                       cd_offset, 0)


def zip_of_deflated(names, data, crc, usize):
    """A zip whose members all hold the same deflated data."""
    out = bytearray()
    central = bytearray()
    for name in names:
        central += central_entry(name, crc, len(data), usize, len(out))
        out += local_header(name, crc, len(data), usize) + data
    cd_offset = len(out)
    return bytes(out + central + end_record(len(names), len(central),
                                            cd_offset))


def nested_zip(path):
    data, crc = deflate_zeros(256)
    level = zip_of_deflated(["%d.bin" % i for i in range(16)], data, crc,
                            256 * MIB)
    for depth in range(3):
        path_tmp = path + ".tmp"
        with zipfile.ZipFile(path_tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(16):
                z.writestr("%d.zip" % i, level)
        with open(path_tmp, "rb") as f:
            level = f.read()
        os.unlink(path_tmp)
    with open(path, "wb") as f:
        f.write(level)


def overlap_zip(path):
    data, crc = deflate_zeros(64)
    n = 1000
    out = local_header("0", crc, len(data), 64 * MIB) + data
    central = b"".join(central_entry(str(i), crc, len(data), 64 * MIB, 0)
                       for i in range(n))
    with open(path, "wb") as f:
        f.write(out + central + end_record(n, len(central), len(out)))


def zeros_gz(path):
    member = gzip.compress(bytes(MIB), 9)
    with open(path, "wb") as f:
        f.write(member * 1024)


def cpio_header(name, size):
    n = name.encode() + b"\0"
    fields = [1, 0o100644, 0, 0, 1, 0, size, 0, 0, 0, 0, len(n), 0]
    h = b"070701" + b"".join(b"%08X" % v for v in fields) + n
    return h + b"\0" * (-len(h) % 4)


def deep_cpio(path, levels=10000):
    core = b"the bottom of a very deep nest\n"
    trailer = cpio_header("TRAILER!!!", 0)
    prefixes = []
    suffixes = []
    size = len(core)
    for _ in range(levels):
        head = cpio_header("inner.cpio", size)
        tail = b"\0" * (-size % 4) + trailer
        prefixes.append(head)
        suffixes.append(tail)
        size = len(head) + size + len(tail)
    with open(path, "wb") as f:
        f.write(b"".join(reversed(prefixes)) + core + b"".join(suffixes))


def tar_header(name):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"00000000000\0"
    h[136:148] = b"00000000000\0"
    h[148:156] = b" " * 8
    h[156:157] = b"0"
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def million_tar_gz(path):
    block = tar_header("empty") * 2048  # 2048 members per MiB
    member = gzip.compress(block, 9)
    with open(path, "wb") as f:
        f.write(member * 488)  # 999,424 members
        f.write(gzip.compress(block[:576 * 512] + bytes(1024), 9))


BOMBS = [
    # file, maker, the limit that must stop it (any of)
    ("nested.zip", nested_zip, ("Limit.MaxRatio", "Limit.MaxExtracted")),
    ("overlap.zip", overlap_zip, ("Limit.MaxRatio", "Limit.MaxExtracted")),
    ("zeros.gz", zeros_gz, ("Limit.MaxRatio", "Limit.MaxMemberSize")),
    ("deep.cpio", deep_cpio, ("Limit.MaxDepth",)),
    ("million.tar.gz", million_tar_gz, ("Limit.MaxMembers",)),
]

# CPU time is the bound a loaded machine stretches least (deep.cpio, the
# costliest, 17 levels each a job of an unpacking worker: 1.6-2.0 s of
# CPU and 3.2-4.3 s of wall at load 6-8); wall time only catches a hang
MAX_CPU_SECONDS = 3.0
MAX_WALL_SECONDS = 10.0
MAX_RSS_KB = 256 * 1024
EXIT_LIMIT = 3  # vigil scan: a limit stopped part of a scan


def write_bombs(out):
    for name, make, _ in BOMBS:
        make(os.path.join(out, name))


def scan(vigil, path):
    """Runs vigil scan on path: exit code, output, wall and CPU seconds
    (its reaped workers' too), peak RSS KB."""
    t0 = time.monotonic()
    p = subprocess.Popen([vigil, "scan", "--json", "--no-progress",
                          "--no-summary", path],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return (p.returncode, out, time.monotonic() - t0,
            usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def run_test():
    vigil = os.environ["VIGIL"]
    scale = 10 if sanitized() else 1
    failures = 0
    work = tempfile.mkdtemp()
    try:
        write_bombs(work)
        for name, _, limits in BOMBS:
            rc, out, secs, cpu, rss = scan(vigil, os.path.join(work, name))
            problems = []
            if rc != EXIT_LIMIT:
                problems.append("exit %d, wanted %d" % (rc, EXIT_LIMIT))
            if '"INCOMPLETE"' not in out:
                problems.append("no INCOMPLETE verdict")
            if not any(re.search(r'"%s"' % re.escape(l), out)
                       for l in limits):
                problems.append("none of %s named" % ", ".join(limits))
            if cpu > MAX_CPU_SECONDS * scale:
                problems.append("%.2f s of CPU" % cpu)
            if secs > MAX_WALL_SECONDS * scale:
                problems.append("%.2f s" % secs)
            if rss > MAX_RSS_KB * scale:
                problems.append("peak RSS %d MB" % (rss // 1024))
            verdict = "FAIL" if problems else "ok"
            print("%s: %s: %.3f s (%.3f s CPU), peak RSS %d MB %s" %
                  (verdict, name, secs, cpu, rss // 1024, "; ".join(problems)))
            if problems:
                print(out[:2000])
                failures += 1
    finally:
        shutil.rmtree(work)
    return 1 if failures else 0


def main():
    if len(sys.argv) > 1:
        write_bombs(sys.argv[1])
        return 0
    return run_test()


if __name__ == "__main__":
    sys.exit(main())
