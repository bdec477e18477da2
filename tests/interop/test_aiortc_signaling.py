"""Signaling interop with Debian's aiortc: rtcpeer against aiortc's own
TcpSocketSignaling / UnixSocketSignaling and a real RTCPeerConnection, in both
roles. Every message rtcpeer sends must survive aiortc's
object_from_string/object_to_string byte for byte, and rtcpeer must take what
aiortc sends (legacy SDP, candidate messages, bye). The aiortc peer sends no
data and no EOF here, so rtcpeer is given --eof-wait to finish after its own."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import LOOPBACK, TestCase, free_tcp_port, main  # noqa: E402


class AiortcSignalingTest(TestCase):
    def backend(self, kind):
        if kind == "tcp-socket":
            return ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        return ["-s", "unix-socket", "--signaling-path", self.path("sig.sock")]

    def report(self):
        with open(self.path("report.json")) as f:
            return json.load(f)

    def assert_clean_run(self, ours, aiortc, first):
        """Both sides exit 0; aiortc's report has no mismatches and what it
        received went from `first` to a bye; rtcpeer connected over
        loopback UDP. Returns the report."""
        self.assertExit(ours, 0, timeout=40)
        self.assertExit(aiortc, 0, timeout=40)
        report = self.report()
        self.assertEqual(report["mismatches"], [])
        self.assertEqual(report["received"][0], first)
        self.assertEqual(report["received"][-1], "bye")
        self.assertIn("ICE connected: udp 127.0.0.1:", ours.stderr)
        return report

    def rtcpeer_offers(self, kind, extra=()):
        backend = self.backend(kind)
        offer = self.start("offer", *backend, *LOOPBACK, "-v", "--eof-wait", "1", *extra)
        time.sleep(0.3)  # aiortc connects once and does not retry
        aiortc = self.start_interop("answer", *backend, "--report", self.path("report.json"))
        return self.assert_clean_run(offer, aiortc, "offer"), offer

    def aiortc_offers(self, kind, trickle=False):
        backend = self.backend(kind)
        args = ["offer", *backend, "--report", self.path("report.json")]
        aiortc = self.start_interop(*args, *(["--trickle"] if trickle else []))
        answer = self.start("answer", *backend, *LOOPBACK, "-v", "--eof-wait", "1")
        report = self.assert_clean_run(answer, aiortc, "answer")
        self.assertTrue(report["ice_connected"], report)
        return report, answer

    def test_rtcpeer_offer_tcp_trickle(self):
        report, _ = self.rtcpeer_offers("tcp-socket")
        self.assertIn("candidate", report["received"])

    def test_rtcpeer_offer_unix_trickle(self):
        report, _ = self.rtcpeer_offers("unix-socket")
        self.assertIn("candidate", report["received"])

    def test_rtcpeer_offer_tcp_no_trickle(self):
        report, _ = self.rtcpeer_offers("tcp-socket", ["--no-trickle"])
        self.assertEqual(report["received"], ["offer", "bye"])

    def test_aiortc_offer_tcp_legacy_sdp(self):
        _, answer = self.aiortc_offers("tcp-socket")
        self.assertIn("offer received (1 candidates, complete)", answer.stderr)

    def test_aiortc_offer_unix(self):
        self.aiortc_offers("unix-socket")

    def test_aiortc_candidate_messages(self):
        _, answer = self.aiortc_offers("tcp-socket", trickle=True)
        self.assertIn("offer received (0 candidates)", answer.stderr)
        self.assertIn("remote candidate ", answer.stderr)


if __name__ == "__main__":
    main()
