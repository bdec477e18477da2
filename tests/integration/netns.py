"""Two test hosts in network namespaces joined by a veth pair, made and removed
by the test itself (root only). Traffic stays between these namespaces."""

import os
import shutil
import sys
import subprocess
import time

from harness import Proc, TestCase


def available():
    """None when namespaces can be used, else the reason they cannot."""
    if os.geteuid() != 0:
        return "needs root for ip netns"
    if shutil.which("ip") is None:
        return "needs iproute2"
    return None


def main_or_skip(main):
    """Runs the tests, or reports the whole file skipped (exit 77, meson's
    SKIP) with the reason when namespaces cannot be made here."""
    reason = available()
    if reason:
        print(f"SKIP: {reason}")
        sys.exit(77)
    main()


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class TwoHosts:
    """host A (10.77.x.1) and host B (10.77.x.2), IPv4 plus IPv6 link-local."""

    def __init__(self, tag):
        self.a = f"rtp{tag}a"
        self.b = f"rtp{tag}b"
        self.subnet = 10 + (os.getpid() % 200)
        self.addr_a = f"10.77.{self.subnet}.1"
        self.addr_b = f"10.77.{self.subnet}.2"
        self.close()
        for ns in (self.a, self.b):
            sh("ip", "netns", "add", ns)
            # Link-local IPv6 addresses must be usable at once (no DAD wait).
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", f"{self.a}v", "netns", self.a, "type", "veth", "peer", "name", f"{self.b}v",
           "netns", self.b)
        sh("ip", "-n", self.a, "addr", "add", f"{self.addr_a}/24", "dev", f"{self.a}v")
        sh("ip", "-n", self.b, "addr", "add", f"{self.addr_b}/24", "dev", f"{self.b}v")
        sh("ip", "-n", self.a, "link", "set", f"{self.a}v", "up")
        sh("ip", "-n", self.b, "link", "set", f"{self.b}v", "up")
        # The kernel marks a new link running a moment later (linkwatch);
        # until then ICE agents see no usable interface.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = [subprocess.run(["ip", "-n", ns, "-o", "link", "show", "dev", f"{ns}v"], capture_output=True,
                                     text=True).stdout for ns in (self.a, self.b)]
            if all("state UP" in s for s in states):
                break
            time.sleep(0.05)

    def segment_in_software(self, on=True):
        """Makes the veth pair split UDP segmentation-offload sends into
        datagrams before it carries them, as a NIC without UDP offload does.
        Otherwise a whole batch crosses the pair as one packet, and a
        per-packet rule (loss, rate) would hit up to 64 datagrams at once."""
        for ns in (self.a, self.b):
            sh("ip", "-n", ns, "link", "set", "dev", f"{ns}v", "gso_max_segs", "1" if on else "65535")

    def drop_udp(self, percent):
        """Random loss of percent of the UDP datagrams each host receives
        (nftables numgen; the signaling's TCP is spared), datagram by
        datagram (segment_in_software)."""
        self.segment_in_software()
        rules = ("table inet rtcpeer_loss {\n"
                 "  chain input { type filter hook input priority 0; "
                 f"meta l4proto udp numgen random mod 100 < {percent} drop; }}\n}}\n")
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules.encode(), check=True)

    def clear_loss(self):
        self.segment_in_software(False)
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "rtcpeer_loss"],
                           capture_output=True)

    def limit_rate(self, rate):
        """A token bucket on both ends of the link, e.g. rate="10mbit"."""
        self.segment_in_software()
        for ns in (self.a, self.b):
            sh("tc", "-n", ns, "qdisc", "replace", "dev", f"{ns}v", "root", "tbf", "rate", rate,
               "burst", "32kbit", "latency", "400ms")

    def clear_rate(self):
        self.segment_in_software(False)
        for ns in (self.a, self.b):
            subprocess.run(["tc", "-n", ns, "qdisc", "del", "dev", f"{ns}v", "root"], capture_output=True)

    def add_ula(self):
        """Unique local IPv6 addresses (fd00::/8) on both ends, usable at
        once; returns them (host A's, host B's)."""
        a, b = f"fd00:77:{self.subnet}::1", f"fd00:77:{self.subnet}::2"
        sh("ip", "-n", self.a, "addr", "add", f"{a}/64", "dev", f"{self.a}v", "nodad")
        sh("ip", "-n", self.b, "addr", "add", f"{b}/64", "dev", f"{self.b}v", "nodad")
        return a, b

    def block_udp(self):
        """Each host drops every UDP datagram it receives: only TCP works."""
        rules = ("table inet rtcpeer_noudp {\n"
                 "  chain input { type filter hook input priority 0; meta l4proto udp drop; }\n}\n")
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules.encode(), check=True)

    def unblock_udp(self):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "rtcpeer_noudp"],
                           capture_output=True)

    def drop_stun_answers(self, ns):
        """Host ns drops every STUN Binding success response it receives
        (message type 0x0101, the first two bytes after the UDP header):
        its connectivity checks all go unanswered."""
        rules = ("table inet rtcpeer_stun {\n"
                 "  chain input { type filter hook input priority 0; "
                 "meta l4proto udp @th,64,16 0x0101 drop; }\n}\n")
        subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=rules.encode(), check=True)

    def allow_stun_answers(self, ns):
        subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "rtcpeer_stun"],
                       capture_output=True)

    def set_mtu(self, mtu):
        for ns in (self.a, self.b):
            sh("ip", "-n", ns, "link", "set", "dev", f"{ns}v", "mtu", str(mtu))

    def wrap(self, ns, argv):
        return ["ip", "netns", "exec", ns, *argv]

    def close(self):
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class TwoHostsTestCase(TestCase):
    """A TestCase whose tests share one TwoHosts, made for the class; `tag`
    keeps the namespace names of concurrent test files apart."""

    tag = "t"

    @classmethod
    def setUpClass(cls):
        cls.hosts = TwoHosts(f"{cls.tag}{os.getpid() % 10000}")

    @classmethod
    def tearDownClass(cls):
        cls.hosts.close()

    def on(self, ns, argv, **kwargs):
        """Starts argv inside namespace ns; the test's tearDown stops it."""
        p = Proc(self.hosts.wrap(ns, argv), **kwargs)
        self.procs.append(p)
        return p
