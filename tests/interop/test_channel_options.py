"""The pipe's channel options (--unordered, --max-retransmits,
--max-packet-lifetime, --protocol, --negotiated) against aiortc
(tests/interop/aiortc_peer.py) and pion (tests/interop/pion/peer.go), in both
roles: what the other side reports about the channel rtcpeer opened, what
rtcpeer's --stats reports about the channel the other side opened, and the
data bit-exact either way. On loopback a partially reliable channel
usually delivers everything; when SCTP gave messages up (aiortc, slow to
read under load), what arrived is the rest, in order, and the end-of-file
marker, which is always sent reliably, still arrives.

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
# Partially reliable channels get less: aiortc 1.4, slow to read, makes
# usrsctp give messages up in a 1 MiB burst on loopback, and its handling of
# FORWARD-TSN then loses messages it already had: with a fragment of the
# given-up message still held, it delivers nothing, then drops every chunk up
# to the highest TSN it has, complete later messages included. The stream
# then waits for their sequence numbers for good, the end-of-file marker
# behind them (about one 1 MiB run in three hung so, under load; with 128 KiB,
# nothing is given up).
PR_SIZE = 128 << 10
CHUNK = 16384  # the message size both ways


def size_for(name):
    return PR_SIZE if name.startswith("max_") else SIZE


def pieces(data):
    return [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]


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

    def assertDeliveredOrGivenUp(self, out, src, abandoned):
        """On an ordered, partially reliable channel: the source's messages
        in order, less at most the abandoned ones."""
        with open(out, "rb") as f:
            got = pieces(f.read())
        with open(src, "rb") as f:
            sent = pieces(f.read())
        kept = iter(sent)
        self.assertTrue(all(piece in kept for piece in got), "not the source's messages in order")
        self.assertLessEqual(len(sent) - len(got), abandoned)

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
        with open(self.path("stats.json")) as f:
            stats = json.load(f)
        self.assertEqual(stats["channel"]["opened_by"], "local")
        abandoned = stats["sctp"]["abandoned_messages"]
        # The EOF marker always arrives (it is sent reliably). Before it,
        # everything, in order unless unordered; on a partially reliable
        # channel whose sender gave messages up (aiortc, slow to read, can
        # make usrsctp give up on a message it already has), what was not
        # given up, in order.
        self.assertIn("octets", self.peer_report(), "the EOF marker did not arrive")
        if abandoned:
            print(f"\n{name}: {abandoned} messages given up", file=sys.stderr)
            self.assertTrue(name.startswith("max_"), abandoned)
            self.assertDeliveredOrGivenUp(self.path("out"), src, abandoned)
        else:
            self.assertEqual(self.peer_report()["octets"], size_for(name))
            self.assertSameData(name, self.path("out"), src)
        self.assertPeerSaw(expected)


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
