"""Two hosts, each behind its own NAT, and a "public" segment between the NATs
where a STUN/TURN server runs. Everything lives in network namespaces made and
removed by the test (root only):

  host A 10.88.1.2 -- 10.88.1.1 NAT A 100.64.1.2 -- 100.64.1.1 public 100.64.2.1 -- 100.64.2.2 NAT B 10.88.2.1 -- 10.88.2.2 host B
                                                   (STUN/TURN)

The NATs masquerade (nftables) what leaves on their public side; the public
router knows no route to 10.88.0.0/16, so host candidates cannot reach each
other (the public router sends them to a namespace that drops them).
Processes share the file system, so unix-socket signaling works
between the hosts."""

import os
import subprocess
import time

from netns import sh

HOST_A, NAT_A_INSIDE, NAT_A_OUTSIDE = "10.88.1.2", "10.88.1.1", "100.64.1.2"
PUBLIC_A, PUBLIC_B = "100.64.1.1", "100.64.2.1"
HOST_B, NAT_B_INSIDE, NAT_B_OUTSIDE = "10.88.2.2", "10.88.2.1", "100.64.2.2"
SERVER = PUBLIC_A


class NatTopology:
    def __init__(self, tag):
        names = ["ha", "na", "pub", "nb", "hb", "wan"]
        self.ns = {n: f"rtn{tag}{n}" for n in names}
        self.close()
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        for router in ("na", "pub", "nb"):
            sh("ip", "netns", "exec", self.ns[router], "sysctl", "-qw", "net.ipv4.ip_forward=1")
        self._link("ha", HOST_A, "na", NAT_A_INSIDE, 24)
        self._link("na", NAT_A_OUTSIDE, "pub", PUBLIC_A, 24)
        self._link("pub", PUBLIC_B, "nb", NAT_B_OUTSIDE, 24)
        self._link("nb", NAT_B_INSIDE, "hb", HOST_B, 24)
        sh("ip", "-n", self.ns["ha"], "route", "add", "default", "via", NAT_A_INSIDE)
        sh("ip", "-n", self.ns["na"], "route", "add", "default", "via", PUBLIC_A)
        sh("ip", "-n", self.ns["nb"], "route", "add", "default", "via", PUBLIC_B)
        sh("ip", "-n", self.ns["hb"], "route", "add", "default", "via", NAT_B_INSIDE)
        # The public router's default route leads to "wan", a namespace that
        # forwards nothing: packets to private addresses vanish, as on the
        # Internet. (Without any route, sending to a private address fails
        # at once, and coturn then closes the whole allocation.)
        self._link("pub", "198.18.0.1", "wan", "198.18.0.2", 30)
        sh("ip", "-n", self.ns["pub"], "route", "add", "default", "via", "198.18.0.2")
        for nat, outside in (("na", "pub"), ("nb", "pub")):
            dev = self._dev(nat, outside)
            # The NAT's firewall drops what arrives unasked. Besides being
            # what home routers do, it keeps hole punching working: a peer's
            # packet that arrives before our own first packet would otherwise
            # leave a conntrack entry that makes masquerade pick another port.
            rules = ("table ip rtcpeer_nat {\n"
                     "  chain postrouting { type nat hook postrouting priority 100; "
                     f"oifname \"{dev}\" masquerade; }}\n"
                     "  chain input { type filter hook input priority 0; "
                     f"iifname \"{dev}\" ct state new drop; }}\n}}\n")
            self.nft(nat, rules)
        self._wait_links_up()

    def _dev(self, ns, peer):
        return f"{ns}-{peer}"

    def _link(self, left, left_addr, right, right_addr, prefix):
        a, b = self._dev(left, right), self._dev(right, left)
        sh("ip", "link", "add", a, "netns", self.ns[left], "type", "veth", "peer", "name", b, "netns",
           self.ns[right])
        sh("ip", "-n", self.ns[left], "addr", "add", f"{left_addr}/{prefix}", "dev", a)
        sh("ip", "-n", self.ns[right], "addr", "add", f"{right_addr}/{prefix}", "dev", b)
        sh("ip", "-n", self.ns[left], "link", "set", a, "up")
        sh("ip", "-n", self.ns[right], "link", "set", b, "up")

    def _wait_links_up(self):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            out = "".join(subprocess.run(["ip", "-n", ns, "-o", "link"], capture_output=True, text=True).stdout
                          for ns in self.ns.values())
            if "state LOWERLAYERDOWN" not in out and out.count("state UP") >= 10:
                return
            time.sleep(0.05)

    def nft(self, name, rules):
        subprocess.run(["ip", "netns", "exec", self.ns[name], "nft", "-f", "-"], input=rules.encode(), check=True)

    def make_symmetric(self, nat, on=True):
        """Turns a NAT symmetric: every new flow (new destination) leaves
        from a random public port (masquerade fully-random), so the mapping
        a STUN server sees is not the one a peer sees."""
        dev = self._dev(nat, "pub")
        flags = " fully-random" if on else ""
        subprocess.run(["ip", "netns", "exec", self.ns[nat], "nft", "flush", "chain", "ip", "rtcpeer_nat",
                        "postrouting"], check=True)
        self.nft(nat, f"add rule ip rtcpeer_nat postrouting oifname \"{dev}\" masquerade{flags}\n")

    def block_udp_through(self, nat):
        """The NAT forwards no UDP at all (a firewall that allows only TCP)."""
        self.nft(nat, "table inet rtcpeer_block {\n"
                      "  chain forward { type filter hook forward priority 0; meta l4proto udp drop; }\n}\n")

    def unblock_udp_through(self, nat):
        subprocess.run(["ip", "netns", "exec", self.ns[nat], "nft", "delete", "table", "inet", "rtcpeer_block"],
                       capture_output=True)

    def wrap(self, name, argv):
        return ["ip", "netns", "exec", self.ns[name], *argv]

    def close(self):
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
