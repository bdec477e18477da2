#!/usr/bin/python3
"""Writes the seed corpora under tests/fuzz/corpus/ from real material: the SDP
fixtures of real peers, messages as aiortc encodes them, DCEP and mDNS packets.
Run again after adding fixtures; libFuzzer's finds go elsewhere (scripts/fuzz)."""

import glob
import json
import os
import struct

from aiortc import RTCSessionDescription
from aiortc.contrib.signaling import BYE, object_to_string
from aiortc.sdp import candidate_from_sdp

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "sdp")


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


sdps = {os.path.basename(p)[:-4]: open(p, newline="").read() for p in sorted(glob.glob(FIXTURES + "/*.sdp"))}
lines = []
for name, sdp in sdps.items():
    write("sdp", name, sdp)
    kind = "answer" if "answer" in name else "offer"
    line = object_to_string(RTCSessionDescription(sdp=sdp, type=kind))
    write("signaling_message", name, line)
    lines.append(line)
    for i, l in enumerate(x for x in sdp.split("\r\n") if x.startswith("a=candidate:")):
        write("candidate", f"{name}-{i}", l[len("a=candidate:"):])
        c = candidate_from_sdp(l[len("a=candidate:"):])
        c.sdpMid, c.sdpMLineIndex = "0", 0
        msg = object_to_string(c)
        write("signaling_message", f"{name}-candidate-{i}", msg)
        lines.append(msg)
write("candidate", "srflx", "842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx raddr 10.0.0.1 rport 5000 generation 0")
write("candidate", "mdns", "1 1 udp 2122260223 1f4712db-ea17-4bcf-a596-105139dfd8bf.local 54321 typ host")
write("signaling_message", "bye", object_to_string(BYE))
write("signaling_message", "unknown", json.dumps({"type": "renegotiate"}, sort_keys=True))
write("signaling_message", "null-ids", '{"candidate": "candidate:1 1 udp 1 10.0.0.1 9 typ host", "id": null, "label": null, "type": "candidate"}')
lines.append(object_to_string(BYE))
write("signaling_session", "aiortc-exchange", "\n".join(lines[:4]) + "\n")
write("signaling_session", "offer-candidates-bye", "\n".join([lines[0]] + lines[-3:]) + "\n")

label = b"rtcpeer"
write("dcep", "open", struct.pack("!BBHIHH", 3, 0, 256, 0, len(label), 0) + label)
write("dcep", "open-unordered-protocol", struct.pack("!BBHIHH", 3, 0x81, 512, 3, 4, 4) + b"chatjson")
write("dcep", "ack", b"\x02")

name = b"\x04peer\x05local\x00"
response = struct.pack("!HHHHHH", 7, 0x8400, 1, 2, 0, 0) + name + struct.pack("!HH", 1, 1)
response += b"\xc0\x0c" + struct.pack("!HHIH", 1, 0x8001, 120, 4) + bytes([192, 0, 2, 7])
response += b"\xc0\x0c" + struct.pack("!HHIH", 28, 0x8001, 120, 16) + bytes([0xfe, 0x80] + [0] * 13 + [1])
write("mdns", "a-and-aaaa", response)
