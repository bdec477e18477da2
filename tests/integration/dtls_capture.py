"""Captures the UDP traffic of a test namespace with tcpdump and reads the DTLS
records it carried: which record (epoch, sequence number) went from which
address to which, and how often.

A DTLS 1.2 record (RFC 6347 §4.1) starts with a 13-byte header: content type
(20..63 per RFC 7983's demultiplexing), version (2), epoch (2), sequence
number (6), length (2). One UDP datagram may carry several records, one after
another. STUN and TURN channel data in the same flow start with other bytes
and are skipped."""

import collections
import os
import signal
import struct
import subprocess
import time

DTLS_HEADER = 13


class Capture:
    """tcpdump on one interface of a namespace, writing path (a pcap file);
    stop() ends it and returns how many packets the kernel dropped."""

    def __init__(self, ns, interface, path):
        self.path = path
        self._stderr_path = path + ".stderr"
        self._stderr = open(self._stderr_path, "wb")
        # -Z root: tcpdump would otherwise drop to its own user and could
        # not write into the test's directory; -U: each packet written at once.
        self._popen = subprocess.Popen(
            ["ip", "netns", "exec", ns, "tcpdump", "-i", interface, "-n", "-s", "0", "-U", "-Z", "root",
             "-w", path, "udp"], stdout=subprocess.DEVNULL, stderr=self._stderr)
        deadline = time.monotonic() + 10
        while b"listening on" not in self._read_stderr():
            if self._popen.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"tcpdump did not start: {self._read_stderr().decode(errors='replace')}")
            time.sleep(0.02)

    def _read_stderr(self):
        with open(self._stderr_path, "rb") as f:
            return f.read()

    def stop(self):
        """Stops tcpdump (SIGINT flushes the file); returns the kernel's drop count."""
        if self._popen.poll() is None:
            self._popen.send_signal(signal.SIGINT)
            try:
                self._popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        self._stderr.close()
        text = self._read_stderr().decode(errors="replace")
        for line in text.splitlines():
            if "dropped by kernel" in line:
                return int(line.split()[0])
        return 0


def udp_payloads(path):
    """(source, destination, payload) of every UDP datagram over IPv4 or IPv6
    in a pcap file of Ethernet (or Linux cooked) frames."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    link_header = {1: 14, 113: 16}.get(linktype)
    if link_header is None:
        raise ValueError(f"{path}: link type {linktype} not handled")
    at = 24
    while at + 16 <= len(data):
        captured = struct.unpack(endian + "I", data[at + 8:at + 12])[0]
        frame = data[at + 16:at + 16 + captured]
        at += 16 + captured
        ethertype = struct.unpack("!H", frame[link_header - 2:link_header])[0]
        ip = frame[link_header:]
        if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == 17:
            header = (ip[0] & 0x0F) * 4
            src, dst = ip[12:16], ip[16:20]
            udp = ip[header:]
        elif ethertype == 0x86DD and len(ip) >= 40 and ip[6] == 17:
            src, dst = ip[8:24], ip[24:40]
            udp = ip[40:]
        else:
            continue
        if len(udp) < 8:
            continue
        sport, dport = struct.unpack("!HH", udp[:4])
        yield (src.hex(), sport), (dst.hex(), dport), udp[8:]


def dtls_records(payload):
    """(content type, epoch, sequence number) of each DTLS record in a datagram."""
    at = 0
    while at + DTLS_HEADER <= len(payload):
        content_type = payload[at]
        if not 20 <= content_type <= 63:
            return
        epoch = struct.unpack("!H", payload[at + 3:at + 5])[0]
        sequence = int.from_bytes(payload[at + 5:at + 11], "big")
        length = struct.unpack("!H", payload[at + 11:at + 13])[0]
        yield content_type, epoch, sequence
        at += DTLS_HEADER + length


def record_counts(path):
    """How often each record went out: {(source, destination, epoch, sequence): count},
    and the number of records per content type."""
    counts = collections.Counter()
    types = collections.Counter()
    for src, dst, payload in udp_payloads(path):
        for content_type, epoch, sequence in dtls_records(payload):
            counts[(src, dst, epoch, sequence)] += 1
            types[content_type] += 1
    return counts, types


def remove(path):
    for p in (path, path + ".stderr"):
        if os.path.exists(p):
            os.remove(p)
