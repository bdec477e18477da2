"""The pipe's channel options (--unordered, --max-retransmits,
--max-packet-lifetime, --protocol, --negotiated) against aiortc
(tests/interop/aiortc_peer.py) and pion (tests/interop/pion/peer.go), in both
roles: what the other side reports about the channel rtcpeer opened, what
rtcpeer's --stats reports about the channel the other side opened, and the
data bit-exact either way (loopback loses nothing, so even a partially
reliable channel delivers everything here).

The pion cases are skipped when go is not installed."""

import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from harness import LOOPBACK, Proc, TestCase, free_tcp_port, main, random_file, sha256_file  # noqa: E402
from test_pion import go, pion_peer  # noqa: E402

SIZE = 1 << 20
# Partially reliable channels get less: aiortc, slow to read, drops some of
# a 1 MiB burst on loopback, and what SCTP then gives up would not arrive.
PR_SIZE = 128 << 10
CHUNK = 16384  # the message size both ways


def size_for(name):
    return PR_SIZE if name.startswith("max_") else SIZE


def chunks(path):
    """The file's CHUNK-sized pieces, sorted: what an unordered channel must keep."""
    with open(path, "rb") as f:
        data = f.read()
    return sorted(data[i:i + CHUNK] for i in range(0, len(data), CHUNK))

# Each case: rtcpeer's flags, the same for the test peer, and what a side
# that sees the channel reports (keys as both peers name them).
CASES = {
    "unordered": (["--unordered"], ["--unordered"], {"ordered": False}),
    "max_retransmits": (["--max-retransmits", "3"], ["--max-retransmits", "3"],
                        {"ordered": True, "maxRetransmits": 3}),
    "max_packet_lifetime": (["--max-packet-lifetime", "5000"], ["--max-packet-lifetime", "5000"],
                            {"ordered": True, "maxPacketLifeTime": 5000}),
    "protocol": (["--protocol", "chat.v2"], ["--protocol", "chat.v2"],
                 {"ordered": True, "protocol": "chat.v2"}),
    "negotiated": (["--negotiated", "7"], ["--negotiated", "7"],
                   {"ordered": True, "negotiated": True, "id": 7}),
}

# rtcpeer's --stats names for the same things.
STATS_KEYS = {"ordered": "ordered", "maxRetransmits": "max_retransmits",
              "maxPacketLifeTime": "max_packet_lifetime_ms", "protocol": "protocol",
              "negotiated": "negotiated", "id": "id"}


class ChannelOptionsBase:
    """The cases, run against the peer a subclass starts."""

    def start_peer(self, role, *args):
        raise NotImplementedError

    def peer_report(self):
        with open(self.path("report.json")) as f:
            return json.load(f)

    def assertPeerSaw(self, expected):
        channel = self.peer_report()["channel"]
        for key, value in expected.items():
            self.assertEqual(channel.get(key), value, (key, channel))
        if "maxRetransmits" not in expected:
            self.assertIn(channel.get("maxRetransmits"), (None,), channel)
        if "maxPacketLifeTime" not in expected:
            self.assertIn(channel.get("maxPacketLifeTime"), (None,), channel)

    def assertSameData(self, name, out, src):
        if name != "unordered":
            self.assertEqual(sha256_file(out), sha256_file(src))
            return
        # Messages may overtake one another (pion delivers them so even on
        # loopback): every message arrived, in some order.
        self.assertEqual(os.path.getsize(out), SIZE)
        self.assertTrue(chunks(out) == chunks(src), "the messages differ, not just their order")
        if sha256_file(out) != sha256_file(src):
            print(f"\n{name}: messages arrived reordered", file=sys.stderr)

    def rtcpeer_offers(self, name):
        """rtcpeer opens the channel with the options and sends; the peer receives."""
        ours, theirs, expected = CASES[name]
        src = random_file(self.path("in"), size_for(name))
        port = str(free_tcp_port())
        rtc = self.start("offer", "-s", "tcp-socket", "--signaling-port", port, *LOOPBACK, "-v",
                         "--message-size", str(CHUNK), "--stats", self.path("stats.json"), *ours,
                         stdin=src)
        time.sleep(0.3)
        negotiated = theirs if name == "negotiated" else []
        peer = self.start_peer("answer", "--signaling-port", port, "--mode", "receive",
                               "--file", self.path("out"), *negotiated)
        self.assertExit(rtc, 0, timeout=60)
        self.assertExit(peer, 0, timeout=30)
        # Everything arrived before the EOF marker, in order unless unordered.
        self.assertEqual(self.peer_report()["octets"], size_for(name))
        self.assertSameData(name, self.path("out"), src)
        self.assertPeerSaw(expected)
        with open(self.path("stats.json")) as f:
            stats = json.load(f)
        self.assertEqual(stats["channel"]["opened_by"], "local")
        self.assertEqual(stats["sctp"]["abandoned_messages"], 0)


    def peer_offers(self, name):
        """The peer opens the channel with the options and sends; rtcpeer receives."""
        ours, theirs, expected = CASES[name]
        src = random_file(self.path("in"), size_for(name))
        port = str(free_tcp_port())
        peer = self.start_peer("offer", "--signaling-port", port, "--mode", "send", "--file", src,
                               "--chunk-size", str(CHUNK), *theirs)
        time.sleep(0.3)
        negotiated = ours if name == "negotiated" else []
        rtc = self.start("answer", "-s", "tcp-socket", "--signaling-port", port, *LOOPBACK, "-v",
                         "--stats", self.path("stats.json"), *negotiated, stdout=self.path("out"))
        self.assertExit(rtc, 0, timeout=60)
        self.assertExit(peer, 0, timeout=30)
        self.assertSameData(name, self.path("out"), src)
        with open(self.path("stats.json")) as f:
            channel = json.load(f)["channel"]
        for key, value in expected.items():
            self.assertEqual(channel[STATS_KEYS[key]], value, (key, channel))
        for key in ("maxRetransmits", "maxPacketLifeTime"):
            if key not in expected:
                self.assertIsNone(channel[STATS_KEYS[key]], channel)
        if name == "negotiated":
            self.assertEqual(channel["opened_by"], "local")
            self.assertNotIn("opened by the remote", rtc.stderr)
        else:
            self.assertEqual(channel["opened_by"], "remote")
            self.assertIn("the remote's channel \"filexfer\" asks for: ", rtc.stderr)



def add_cases(cls):
    for name in CASES:
        setattr(cls, f"test_rtcpeer_offers_{name}", lambda self, n=name: self.rtcpeer_offers(n))
        setattr(cls, f"test_peer_offers_{name}", lambda self, n=name: self.peer_offers(n))
    return cls


@add_cases
class AiortcChannelOptionsTest(ChannelOptionsBase, TestCase):
    def start_peer(self, role, *args):
        return self.start_interop(role, "-s", "tcp-socket", *args, "--timeout", "60",
                                  "--report", self.path("report.json"))


@add_cases
@unittest.skipIf(go() is None, "go is not installed (Debian: golang-go, golang-github-pion-webrtc.v3-dev)")
class PionChannelOptionsTest(ChannelOptionsBase, TestCase):
    @classmethod
    def setUpClass(cls):
        cls.peer = pion_peer()

    def start_peer(self, role, *args):
        p = Proc([self.peer, role, *args, "--timeout", "60", "--report", self.path("report.json")])
        self.procs.append(p)
        return p


if __name__ == "__main__":
    main()
