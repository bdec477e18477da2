"""20 MiB through a lossy or slow link between two network namespaces, in both
directions, bit-exact; each run prints its time. Loss: nftables numgen random
drops of UDP on both hosts' input. Rate: tc tbf at 10 Mbit/s. Each run
prints its time and the sender's SCTP retransmission counts. Reported skipped
(exit 77) when not root."""

import json
import subprocess
import threading
import time

from harness import RTCPEER, main, random_file, sha256_file
import netns

MiB = 1 << 20


class NetworkConditionsTest(netns.TwoHostsTestCase):
    tag = "c"
    port = 4300

    def tearDown(self):
        self.hosts.clear_loss()
        self.hosts.clear_rate()
        super().tearDown()

    def transfer(self, label, forward, size=20 * MiB, loss_once_open=None):
        """Moves size bytes one way and checks them. loss_once_open: a loss
        percentage that starts only when the channel is open, with the data
        held back until then (stdin is a pipe the test feeds)."""
        h = self.hosts
        NetworkConditionsTest.port += 1
        sig = ["-s", "tcp-socket", "--signaling-host", h.addr_a, "--signaling-port", str(self.port)]
        src = random_file(self.path("in"), size)
        stdin = subprocess.PIPE if loss_once_open else src
        offer_io = {"stdin": stdin} if forward else {"stdout": self.path("out")}
        answer_io = {"stdout": self.path("out")} if forward else {"stdin": stdin}
        t0 = time.monotonic()
        stats = self.path("sender-stats.json")
        offer_stats = ["--stats", stats] if forward else []
        answer_stats = [] if forward else ["--stats", stats]
        offer = self.on(h.a, [RTCPEER, "offer", *sig, "-v", *offer_stats], **offer_io)
        answer = self.on(h.b, [RTCPEER, "answer", *sig, "-v", *answer_stats], **answer_io)
        if loss_once_open:
            sender = offer if forward else answer
            deadline = time.monotonic() + 30
            while not all("channel" in p.stderr for p in (offer, answer)) and time.monotonic() < deadline:
                time.sleep(0.02)
            self.hosts.drop_udp(loss_once_open)
            t0 = time.monotonic()

            def feed():
                with open(src, "rb") as f:
                    sender.popen.stdin.write(f.read())
                sender.popen.stdin.close()

            threading.Thread(target=feed, daemon=True).start()
        self.assertExit(offer, 0, timeout=240)
        self.assertExit(answer, 0, timeout=240)
        seconds = time.monotonic() - t0
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        direction = "offer->answer" if forward else "answer->offer"
        with open(stats) as f:
            sctp = json.load(f)["sctp"]
        print(f"\n{label}, {direction}: {size / MiB:g} MiB in {seconds:.1f} s ({size / 1e6 / seconds:.2f} MB/s); "
              f"{sctp['retransmitted_chunks']} of {sctp['data_chunks_sent']} chunks retransmitted, "
              f"{sctp['retransmission_timeouts']} time-outs")

    def test_loss_1_percent(self):
        self.hosts.drop_udp(1)
        self.transfer("1% loss", True)
        self.transfer("1% loss", False)

    def test_loss_5_percent(self):
        self.hosts.drop_udp(5)
        self.transfer("5% loss", True)
        self.transfer("5% loss", False)

    def test_loss_20_percent(self):
        # At 20% loss each way ICE itself fails a few runs in a hundred
        # (libnice gives a check four tries), so here the loss starts once
        # the channel is open: this case is about the data path.
        self.transfer("20% loss", True, loss_once_open=20)
        self.hosts.clear_loss()
        self.transfer("20% loss", False, loss_once_open=20)

    def test_10_mbit_link(self):
        self.hosts.limit_rate("10mbit")
        self.transfer("10 Mbit/s", True)
        self.transfer("10 Mbit/s", False)


if __name__ == "__main__":
    netns.main_or_skip(main)
