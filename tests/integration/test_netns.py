"""rtcpeer across two network namespaces joined by a veth pair: real interfaces
(several addresses, IPv6 link-local), no --host-address. rtcpeer to rtcpeer and
to aiortc. Reported skipped (exit 77) when not root."""

import os
import re
import subprocess
import time

from harness import INTEROP, LOOPBACK, RTCPEER, SYSTEM_PYTHON, Proc, TestCase, main, random_file, sha256_file
import netns

MiB = 1 << 20


class NamespaceTest(netns.TwoHostsTestCase):
    tag = "n"

    def rtcpeer_pair(self, size, extra=(), duplex=False, port=4100):
        h = self.hosts
        sig = ["-s", "tcp-socket", "--signaling-port", str(port)]
        a = random_file(self.path("a"), size)
        b = random_file(self.path("b"), size) if duplex else None
        offer = self.on(h.a, [RTCPEER, "offer", *sig, "--signaling-host", h.addr_a, "-v", *extra],
                        stdin=a, stdout=self.path("b.out"))
        answer = self.on(h.b, [RTCPEER, "answer", *sig, "--signaling-host", h.addr_a, "-v", *extra],
                         stdin=b, stdout=self.path("a.out"))
        answer.wait(timeout=180)
        self.assertExit(offer, 0, timeout=180)
        self.assertExit(answer, 0, timeout=1)
        self.assertEqual(sha256_file(self.path("a.out")), sha256_file(a))
        if duplex:
            self.assertEqual(sha256_file(self.path("b.out")), sha256_file(b))
        return offer, answer

    def test_1_mib_trickle(self):
        offer, answer = self.rtcpeer_pair(MiB, port=4101)
        # Both the IPv4 and the link-local IPv6 address were offered (the
        # candidate lines themselves: the address also appears in the
        # signaling's own log lines).
        self.assertRegex(offer.stderr, rf"local candidate \S+ 1 udp \d+ {re.escape(self.hosts.addr_a)} \d+ typ host")
        self.assertRegex(offer.stderr, r"local candidate \S+ 1 udp \d+ fe80::\S+ \d+ typ host")
        # The kernel took the batches whole: no fallback at the default MTU.
        self.assertNotIn("segmentation offload unavailable", offer.stderr + answer.stderr)

    def test_1_mib_no_trickle(self):
        self.rtcpeer_pair(MiB, ["--no-trickle"], port=4102)

    def test_256_mib(self):
        offer, answer = self.rtcpeer_pair(256 * MiB, port=4103)
        print(f"\n256 MiB across namespaces: {256 * MiB / 1e6 / answer.elapsed:.1f} MB/s")

    def test_64_mib_full_duplex(self):
        self.rtcpeer_pair(64 * MiB, duplex=True, port=4104)

    def test_aiortc_receives_from_rtcpeer(self):
        h = self.hosts
        sig = ["-s", "tcp-socket", "--signaling-host", h.addr_a, "--signaling-port", "4105"]
        src = random_file(self.path("in"), 20 * MiB)
        offer = self.on(h.a, [RTCPEER, "offer", *sig, "-v"], stdin=src)
        time.sleep(0.5)
        aiortc = self.on(h.b, [SYSTEM_PYTHON, os.path.join(INTEROP, "aiortc_peer.py"), "answer", "--mode",
                               "receive", "--file", self.path("out"), "--host-address", h.addr_b, *sig,
                               "--report", self.path("r.json"), "--timeout", "120"])
        self.assertExit(aiortc, 0, timeout=150)
        self.assertExit(offer, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))

    def test_aiortc_sends_to_rtcpeer(self):
        h = self.hosts
        sig = ["-s", "tcp-socket", "--signaling-host", h.addr_a, "--signaling-port", "4106"]
        src = random_file(self.path("in"), 20 * MiB)
        aiortc = self.on(h.a, [SYSTEM_PYTHON, os.path.join(INTEROP, "aiortc_peer.py"), "offer", "--mode", "send",
                               "--file", src, "--host-address", h.addr_a, *sig, "--report", self.path("r.json"),
                               "--timeout", "120"])
        answer = self.on(h.b, [RTCPEER, "answer", *sig, "-v"], stdout=self.path("out"))
        self.assertExit(answer, 0, timeout=150)
        self.assertExit(aiortc, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))


class PathTest(netns.TwoHostsTestCase):
    """Paths other than plain IPv4 UDP between the namespaces: IPv6 only,
    ICE over TCP when no UDP gets through, and a link whose MTU makes the
    kernel refuse UDP segmentation offload."""

    tag = "p"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ula_a, cls.ula_b = cls.hosts.add_ula()

    def transfer(self, extra, size, port, timeout=120):
        h = self.hosts
        sig = ["-s", "tcp-socket", "--signaling-host", h.addr_a, "--signaling-port", str(port)]
        data = random_file(self.path("in"), size)
        offer = self.on(h.a, [RTCPEER, "offer", *sig, "-v", *extra], stdin=data)
        answer = self.on(h.b, [RTCPEER, "answer", *sig, "-v", *extra], stdout=self.path("out"))
        # Both ended before either is judged: a failed side's message then
        # comes with the other side's log, which tells what it saw.
        if answer.wait(timeout) != 0:
            offer.wait(30)
            print(f"\n--- the offerer's stderr:\n{offer.stderr}", flush=True)
        self.assertExit(answer, 0, timeout=timeout)
        self.assertExit(offer, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(data))
        return offer, answer

    def test_ipv6_only_moves_data(self):
        offer, answer = self.transfer(["-6"], 16 * MiB, 4111)
        for p in (offer, answer):
            self.assertNotRegex(p.stderr, r"local candidate \S+ \d+ udp \d+ \d+\.\d+\.\d+\.\d+ ")
            self.assertRegex(p.stderr, r"ICE connected: udp \[[0-9a-f:]+\]:\d+ host -> \[[0-9a-f:]+\]:\d+ host")

    def test_ice_tcp_moves_data_when_no_udp_gets_through(self):
        self.hosts.block_udp()
        try:
            offer, answer = self.transfer(["-4", "--ice-tcp"], 4 * MiB, 4112)
        finally:
            self.hosts.unblock_udp()
        for p in (offer, answer):
            self.assertRegex(p.stderr, r"ICE connected: tcp \S+ \w+ -> \S+ \w+\n")

    def test_kernel_refusing_segmentation_offload_falls_back(self):
        # The batches carry 1200-byte DTLS records: on a 1100-byte MTU the
        # kernel refuses a UDP_SEGMENT send (EINVAL, a segment larger than
        # the path MTU), while single datagrams still go, fragmented.
        self.hosts.set_mtu(1100)
        try:
            offer, answer = self.transfer(["-4"], 16 * MiB, 4113)
        finally:
            self.hosts.set_mtu(1500)
        self.assertIn("UDP segmentation offload unavailable; sending datagrams one by one", offer.stderr)
        self.assertEqual(offer.stderr.count("segmentation offload unavailable"), 1)


class MdnsTest(TestCase):
    """A remote whose candidates carry an mDNS name instead of its address."""

    def setUp(self):
        super().setUp()
        self.ns = f"rtpm{os.getpid() % 10000}"
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        netns.sh("ip", "netns", "add", self.ns)
        netns.sh("ip", "-n", self.ns, "link", "set", "lo", "up", "multicast", "on")
        netns.sh("ip", "-n", self.ns, "route", "add", "224.0.0.0/4", "dev", "lo")

    def tearDown(self):
        super().tearDown()
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)

    def on(self, argv, **kwargs):
        p = Proc(["ip", "netns", "exec", self.ns, *argv], **kwargs)
        self.procs.append(p)
        return p

    def test_mdns_candidate_is_resolved(self):
        here = os.path.dirname(os.path.abspath(__file__))
        responder = self.on([SYSTEM_PYTHON, os.path.join(here, "mdns_responder.py"), "peer-a.local", "127.0.0.1"],
                            stdout=subprocess.PIPE)
        self.assertEqual(responder.popen.stdout.readline().strip(), b"ready")
        src = random_file(self.path("in"), MiB)
        offer = self.on([RTCPEER, "offer", "-s", "tcp-socket", "--signaling-port", "4200", *LOOPBACK, "-v"],
                        stdin=src)
        time.sleep(0.3)
        self.on([SYSTEM_PYTHON, os.path.join(here, "relay.py"), "4200", "4201", "127.0.0.1", "peer-a.local"])
        time.sleep(0.3)
        answer = self.on([RTCPEER, "answer", "-s", "tcp-socket", "--signaling-port", "4201", *LOOPBACK, "-v"],
                         stdout=self.path("out"))
        self.assertExit(answer, 0, timeout=60)
        self.assertExit(offer, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        self.assertIn("resolving peer-a.local with mDNS", answer.stderr)
        self.assertIn("peer-a.local is 127.0.0.1", answer.stderr)

    def test_unresolvable_mdns_candidate_is_skipped_with_a_warning(self):
        here = os.path.dirname(os.path.abspath(__file__))
        offer = self.on([RTCPEER, "offer", "-s", "tcp-socket", "--signaling-port", "4202", *LOOPBACK,
                         "--no-trickle", "--connect-timeout", "6"])
        time.sleep(0.3)
        self.on([SYSTEM_PYTHON, os.path.join(here, "relay.py"), "4202", "4203", "127.0.0.1", "nobody.local"])
        time.sleep(0.3)
        answer = self.on([RTCPEER, "answer", "-s", "tcp-socket", "--signaling-port", "4203", *LOOPBACK,
                          "--no-trickle", "--connect-timeout", "6"])
        rc = answer.wait(timeout=30)
        self.assertIn(rc, (3, 5), answer.stderr)
        self.assertIn("could not resolve nobody.local with mDNS; candidate ignored", answer.stderr)


if __name__ == "__main__":
    netns.main_or_skip(main)
