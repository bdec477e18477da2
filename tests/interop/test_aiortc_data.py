"""Data interop with Debian's aiortc, through the project's aiortc test peer
(tests/interop/aiortc_peer.py), which behaves like aiortc's examples
datachannel-filexfer (send/receive) and datachannel-cli (ping/pong). aiortc
offers the legacy SDP form (DTLS/SCTP + a=sctpmap), which rtcpeer answers."""

import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import LOOPBACK, TestCase, free_tcp_port, main, random_file, sha256_file  # noqa: E402

MiB = 1 << 20


def answer_pings(proc):
    """The script on the far side of rtcpeer --lines: answers "ping N" with "pong N"."""
    out, inp = proc.popen.stdout, proc.popen.stdin

    def run():
        for raw in out:
            line = raw.decode().rstrip("\n")
            if line.startswith("ping"):
                inp.write(("pong" + line[4:] + "\n").encode())
                inp.flush()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


class AiortcDataTest(TestCase):
    def report(self):
        with open(self.path("report.json")) as f:
            return json.load(f)

    def test_rtcpeer_sends_20_mib_to_aiortc(self):
        src = random_file(self.path("in"), 20 * MiB)
        port = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        offer = self.start("offer", *port, *LOOPBACK, "-v", "--label", "filexfer", stdin=src)
        time.sleep(0.3)
        aiortc = self.start_interop("answer", "--mode", "receive", "--file", self.path("out"), *port,
                                    "--report", self.path("report.json"), "--timeout", "120")
        self.assertExit(aiortc, 0, timeout=150)
        self.assertExit(offer, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        report = self.report()
        self.assertEqual(report["octets"], 20 * MiB)
        self.assertEqual(report["mismatches"], [])
        print(f"\nrtcpeer -> aiortc: {20 * MiB / 1e6 / report['seconds']:.1f} MB/s")

    def test_aiortc_sends_20_mib_to_rtcpeer(self):
        src = random_file(self.path("in"), 20 * MiB)
        port = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        aiortc = self.start_interop("offer", "--mode", "send", "--file", src, *port,
                                    "--report", self.path("report.json"), "--timeout", "120")
        answer = self.start("answer", *port, *LOOPBACK, "-v", stdout=self.path("out"))
        self.assertExit(answer, 0, timeout=150)
        self.assertExit(aiortc, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        self.assertIn("offer received (1 candidates, complete)", answer.stderr)
        self.assertIn('channel "filexfer" opened by the remote', answer.stderr)
        self.assertEqual(self.report()["mismatches"], [])

    def test_aiortc_pings_rtcpeer_lines(self):
        port = ["-s", "unix-socket", "--signaling-path", self.path("sig.sock")]
        aiortc = self.start_interop("offer", "--mode", "ping", "--count", "5", *port,
                                    "--report", self.path("report.json"))
        time.sleep(0.3)
        answer = self.start("answer", *port, *LOOPBACK, "--lines", "-v", stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
        answer_pings(answer)
        self.assertExit(aiortc, 0, timeout=60)
        self.assertExit(answer, 0, timeout=30)
        self.assertEqual(self.report()["pongs"], [f"pong {n}" for n in range(5)])

    def test_rtcpeer_lines_pings_aiortc(self):
        port = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        offer = self.start("offer", *port, *LOOPBACK, "--lines", "-v", stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE)
        time.sleep(0.3)
        aiortc = self.start_interop("answer", "--mode", "pong", "--count", "5", *port,
                                    "--report", self.path("report.json"))
        pongs = []
        for n in range(5):
            offer.popen.stdin.write(f"ping {n}\n".encode())
            offer.popen.stdin.flush()
            pongs.append(offer.popen.stdout.readline().decode().rstrip("\n"))
        offer.popen.stdin.close()
        self.assertEqual(pongs, [f"pong {n}" for n in range(5)])
        self.assertExit(aiortc, 0, timeout=60)
        self.assertExit(offer, 0, timeout=30)
        self.assertEqual(self.report()["pings"], 5)

    def test_consent_holds_through_40_quiet_seconds(self):
        """aiortc checks consent (RFC 7675) every 4 to 6 s and closes the
        connection after 6 checks without an answer, about 30 s. Two pairs at
        once, aiortc controlling in one and controlled in the other: 40 s with
        nothing on the channel but SCTP heartbeats, then pings, which must
        get their pongs; rtcpeer's batched reader (-v says so) answered the
        checks."""
        quiet = 40
        # Pair 1: aiortc offers (controlling) and pings after the quiet time.
        sig1 = ["-s", "unix-socket", "--signaling-path", self.path("sig1.sock")]
        aiortc1 = self.start_interop("offer", "--mode", "ping", "--count", "3", "--ping-delay",
                                     str(quiet), *sig1, "--report", self.path("report1.json"),
                                     "--timeout", str(quiet + 50))
        # Pair 2: rtcpeer offers (controlling), aiortc answers the pings.
        sig2 = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        offer2 = self.start("offer", *sig2, *LOOPBACK, "--lines", "-v", stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
        time.sleep(0.3)
        answer1 = self.start("answer", *sig1, *LOOPBACK, "--lines", "-v", stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
        answer_pings(answer1)
        aiortc2 = self.start_interop("answer", "--mode", "pong", "--count", "3", *sig2,
                                     "--report", self.path("report2.json"),
                                     "--timeout", str(quiet + 50))
        time.sleep(quiet)
        pongs = []
        try:
            for n in range(3):
                offer2.popen.stdin.write(f"ping {n}\n".encode())
                offer2.popen.stdin.flush()
                pongs.append(offer2.popen.stdout.readline().decode().rstrip("\n"))
            offer2.popen.stdin.close()
        except BrokenPipeError:
            pass  # rtcpeer ended: the connection did not last
        self.assertEqual(pongs, [f"pong {n}" for n in range(3)], "rtcpeer offering")
        self.assertExit(aiortc1, 0, timeout=60)
        self.assertExit(answer1, 0, timeout=30)
        self.assertExit(aiortc2, 0, timeout=60)
        self.assertExit(offer2, 0, timeout=30)
        with open(self.path("report1.json")) as f:
            report1 = json.load(f)
        with open(self.path("report2.json")) as f:
            report2 = json.load(f)
        self.assertEqual(report1["pongs"], [f"pong {n}" for n in range(3)])
        self.assertEqual(report2["pings"], 3)
        for report in (report1, report2):
            self.assertNotIn("failed", report["ice_states"])
        # The checks went to the batched reader, which answered them (a
        # connection whose checks are not answered ends after about 30 s).
        for proc in (answer1, offer2):
            self.assertIn("batched receive answers the remote's consent checks", proc.stderr)
            self.assertNotIn("batched receive stops", proc.stderr)

    def test_check_with_a_remote_that_stops_answering_times_out(self):
        """--check against a remote that answers two pings, then none: exit 3
        with the JSON result, not a wait without end."""
        port = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        offer = self.start("offer", *port, *LOOPBACK, "--check", "--count", "5", stdout=self.path("check.json"))
        time.sleep(0.3)
        self.start_interop("answer", "--mode", "pong", "--count", "5", "--answer-pings", "2", *port,
                           "--report", self.path("report.json"), "--timeout", "15")
        self.assertExit(offer, 3, timeout=30, message="rtcpeer: check: no answer to ping 3 within 5 s")
        result = self.assertFailedAt(self.path("check.json"), "check")
        self.assertEqual(result["rtt_ms"]["count"], 2)


if __name__ == "__main__":
    main()
