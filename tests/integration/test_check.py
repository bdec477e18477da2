"""--check (connectivity-check mode) and --stats, between real processes on
loopback: rtcpeer to rtcpeer in every role combination, against the aiortc
test peer, and against peers that never answer."""

import json
import os
import re
import select
import socket
import threading

from harness import (LOOPBACK, TestCase, main, random_file, read_json, sha256_file, free_tcp_port,
                     wait_for)
from relay import Relay

STAGES = ["signaling_connected", "gathering_done", "ice_connected", "dtls_connected", "sctp_up", "channel_open"]


class CheckTest(TestCase):
    def pair(self, offer_args, answer_args, answer_stdin=None):
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock")]
        offer = self.start("offer", *sig, *LOOPBACK, *offer_args, stdout=self.path("offer.out"))
        answer = self.start("answer", *sig, *LOOPBACK, *answer_args, stdout=self.path("answer.out"),
                            stdin=answer_stdin)
        self.assertExit(answer, 0, timeout=30)
        self.assertExit(offer, 0, timeout=10)
        return offer, answer

    def assertSuccessfulCheck(self, result, role, count):
        self.assertEqual(result["result"], "ok")
        self.assertEqual(result["exit_code"], 0)
        self.assertEqual(result["role"], role)
        self.assertIsNone(result["failure"])
        times = [result["timings_ms"][s] for s in STAGES]
        for t in times:
            self.assertIsInstance(t, (int, float))
            self.assertGreaterEqual(t, 0)
            self.assertLess(t, 30000)
        # Gathering may finish before or after signaling connects; the
        # connection's own stages come in order.
        self.assertEqual(times[2:], sorted(times[2:]))
        pair = result["selected_pair"]
        for side in ("local", "remote"):
            self.assertEqual(pair[side]["address"], "127.0.0.1")
            self.assertEqual(pair[side]["protocol"], "udp")
            self.assertEqual(pair[side]["type"], "host")
            self.assertIsNone(pair[side]["relay_protocol"])
            self.assertTrue(0 < pair[side]["port"] < 65536)
        if count:
            self.assertTrue(result["remote_answered"])
            rtt = result["rtt_ms"]
            self.assertEqual(rtt["count"], count)
            self.assertTrue(0 < rtt["min"] <= rtt["median"] <= rtt["max"] < 1000, rtt)

    def test_both_sides_check(self):
        self.pair(["--check"], ["--check", "--count", "3"])
        offer = read_json(self.path("offer.out"))
        answer = read_json(self.path("answer.out"))
        self.assertSuccessfulCheck(offer, "offer", 5)
        self.assertSuccessfulCheck(answer, "answer", 3)
        self.assertEqual(offer["selected_pair"]["local"]["port"], answer["selected_pair"]["remote"]["port"])
        print(f"\ncheck JSON (offer): {json.dumps(offer)}")

    def test_plain_answerer_answers_the_check(self):
        # Its stdin holds data, but a check channel carries none of it.
        data = random_file(self.path("in"), 1000)
        _, answer = self.pair(["--check", "--count", "4"], ["-v"], answer_stdin=data)
        self.assertSuccessfulCheck(read_json(self.path("offer.out")), "offer", 4)
        self.assertEqual(os.path.getsize(self.path("answer.out")), 0)
        self.assertIn("answering a connectivity check", answer.stderr)

    def test_checking_answerer_with_a_plain_offerer_measures_set_up(self):
        _, answer = self.pair([], ["--check", "-v"])
        result = read_json(self.path("answer.out"))
        self.assertSuccessfulCheck(result, "answer", 0)
        self.assertFalse(result["remote_answered"])
        self.assertIsNone(result["rtt_ms"])
        self.assertIn("only the set-up is measured", answer.stderr)

    def test_interface_family_and_port_range(self):
        from ports import free_block  # 20 ports nobody else is given
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock")]
        first = free_block(20)
        offer = self.start("offer", *sig, "--interface", "lo", "-4", "--port-range", f"{first}-{first + 9}",
                           "--check", "--count", "1", "-v", stdout=self.path("offer.out"))
        answer = self.start("answer", *sig, "--interface", "lo", "-4", "--port-range",
                            f"{first + 10}-{first + 19}", "--check", "--count", "1", stdout=self.path("answer.out"))
        self.assertExit(answer, 0, timeout=30)
        self.assertExit(offer, 0, timeout=10)
        pair = read_json(self.path("offer.out"))["selected_pair"]
        self.assertEqual(pair["local"]["address"], "127.0.0.1")
        self.assertIn(pair["local"]["port"], range(first, first + 10))
        self.assertIn(pair["remote"]["port"], range(first + 10, first + 20))
        self.assertNotRegex(offer.stderr, r"local candidate .* ::1 ")

    def test_interface_without_the_family_fails_clearly(self):
        answer = self.start("answer", "-s", "unix-socket", "--signaling-path", self.path("s.sock"), "--interface",
                            "nonexistent0")
        self.assertExit(answer, 1, timeout=10, message="rtcpeer: ice: no usable address on nonexistent0")

    def test_against_aiortc(self):
        port = str(free_tcp_port())
        sig = ["-s", "tcp-socket", "--signaling-port", port]
        offer = self.start("offer", *sig, *LOOPBACK, "--check", "--count", "3", stdout=self.path("offer.out"))
        aiortc = self.start_interop("answer", "--mode", "pong", "--count", "3", *sig, "--report",
                                    self.path("r.json"), "--timeout", "30")
        self.assertExit(offer, 0, timeout=30)
        self.assertExit(aiortc, 0, timeout=30)
        self.assertSuccessfulCheck(read_json(self.path("offer.out")), "offer", 3)

    def test_remote_that_never_connects_fails_in_the_ice_stage(self):
        fake = SilentAnswerer()
        offer = self.start("offer", "-s", "tcp-socket", "--signaling-port", str(fake.port), *LOOPBACK, "--check",
                           "--connect-timeout", "2", stdout=self.path("offer.out"))
        fake.start()
        self.assertExit(offer, 3, timeout=15, message="rtcpeer: ice: not connected within 2 s")
        result = self.assertFailedAt(self.path("offer.out"), "ice")
        self.assertIn("not connected", result["failure"]["reason"])
        self.assertIsNotNone(result["timings_ms"]["signaling_connected"])
        self.assertIsNone(result["timings_ms"]["ice_connected"])
        self.assertIsNone(result["selected_pair"])
        self.assertIsNone(result["rtt_ms"])

    def test_no_signaling_peer_fails_in_the_signaling_stage(self):
        answer = self.start("answer", "-s", "unix-socket", "--signaling-path", self.path("none.sock"),
                            "--signaling-timeout", "1", "--check", stdout=self.path("answer.out"))
        self.assertExit(answer, 3, timeout=10)
        result = read_json(self.path("answer.out"))
        self.assertEqual(result["failure"]["stage"], "signaling")
        self.assertIsNone(result["timings_ms"]["signaling_connected"])


class SilentAnswerer:
    """Takes the offer on tcp-socket and answers with a candidate where nothing
    answers ICE (a bound UDP socket that never replies)."""

    def __init__(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = free_tcp_port()

    def start(self):
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        import time
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                conn = socket.create_connection(("127.0.0.1", self.port))
                break
            except OSError:
                time.sleep(0.05)
        else:
            return
        conn.makefile().readline()  # the offer
        sdp = ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
               "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
               "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
               "a=fingerprint:sha-256 AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:"
               "EC:69:B5:71:AE:9A:A6\r\na=setup:active\r\na=mid:0\r\na=sctp-port:5000\r\n"
               f"a=candidate:1 1 udp 2130706431 127.0.0.1 {self.udp.getsockname()[1]} typ host\r\n"
               "a=end-of-candidates\r\n")
        conn.sendall((json.dumps({"sdp": sdp, "type": "answer"}, sort_keys=True) + "\n").encode())
        time.sleep(10)
        conn.close()


class LossyPath:
    """A datagram path on loopback between two ICE agents that drops every
    `nth` full-size DTLS application-data datagram (SCTP DATA) from the
    offerer to the answerer. Each side is told (through the signaling relay)
    that the other's only candidate is a port of this path."""

    CANDIDATE = re.compile(r"(a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 )(\d+)( typ host)")

    def __init__(self, nth=20):
        self.nth = nth
        self.dropped = 0
        self.data_datagrams = 0
        self.facing_offerer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.facing_answerer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for s in (self.facing_offerer, self.facing_answerer):
            s.bind(("127.0.0.1", 0))
        self.offerer = None  # real addresses, from the descriptions
        self.answerer = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def rewrite(self, direction, message):
        """For Relay: hide each side's candidate behind this path."""
        if "sdp" not in message:
            return message
        match = self.CANDIDATE.search(message["sdp"])
        if direction == "to-answerer":
            self.offerer = ("127.0.0.1", int(match.group(2)))
            port = self.facing_answerer.getsockname()[1]
        else:
            self.answerer = ("127.0.0.1", int(match.group(2)))
            port = self.facing_offerer.getsockname()[1]
        message["sdp"] = self.CANDIDATE.sub(lambda m: f"{m.group(1)}{port}{m.group(3)}", message["sdp"])
        return message

    def _run(self):
        while not self._stop:
            ready, _, _ = select.select([self.facing_offerer, self.facing_answerer], [], [], 0.2)
            for s in ready:
                data = s.recv(65536)
                if s is self.facing_offerer and self.answerer:
                    if data[0] == 23 and len(data) > 1000:  # DTLS application data, full size
                        self.data_datagrams += 1
                        if self.data_datagrams % self.nth == 0:
                            self.dropped += 1
                            continue
                    self.facing_answerer.sendto(data, self.answerer)
                elif s is self.facing_answerer and self.offerer:
                    self.facing_offerer.sendto(data, self.offerer)

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.facing_offerer.close()
        self.facing_answerer.close()


class StatsTest(TestCase):
    def test_stats_file_and_stderr(self):
        data = random_file(self.path("in"), 3 * 1000 * 1000 + 7)
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock")]
        offer = self.start("offer", *sig, *LOOPBACK, "--stats", self.path("offer.stats"), stdin=data)
        answer = self.start("answer", *sig, *LOOPBACK, "--stats", "-", stdout=self.path("out"))
        self.assertExit(answer, 0, timeout=30)
        self.assertExit(offer, 0, timeout=10)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(data))
        sent = read_json(self.path("offer.stats"))
        # The answerer's summary is the last line of its stderr.
        received = json.loads(answer.stderr.strip().splitlines()[-1])
        self.assertEqual(sent["result"], "ok")
        self.assertEqual(sent["sent"]["bytes"], 3 * 1000 * 1000 + 7)
        self.assertEqual(received["received"]["bytes"], 3 * 1000 * 1000 + 7)
        self.assertEqual(sent["sent"]["messages"], received["received"]["messages"])
        self.assertEqual(sent["received"]["bytes"], 0)
        self.assertGreater(sent["rate_bytes_per_s"]["sent"], 0)
        self.assertGreater(sent["duration_s"], 0)
        self.assertEqual(sent["selected_pair"]["local"]["type"], "host")
        self.assertGreaterEqual(sent["sctp"]["data_chunks_sent"], 3 * 1000 * 1000 // 1200)

    def test_stats_count_the_retransmissions_that_loss_forced(self):
        """Every 20th full data datagram to the receiver is dropped: each held
        DATA chunks that had to be sent again, and --stats says so."""
        data = random_file(self.path("in"), 3 * 1000 * 1000)
        path = LossyPath(nth=20)
        self.addCleanup(path.close)
        port = free_tcp_port()
        offer = self.start("offer", "-s", "tcp-socket", "--signaling-port", str(port), *LOOPBACK, "--no-trickle", "-v",
                           "--stats", self.path("offer.stats"), stdin=data)
        wait_for(lambda: "started as offer" in offer.stderr, 10, "the offerer listening")
        relay = Relay(port, path.rewrite)
        answer = self.start("answer", "-s", "tcp-socket", "--signaling-port", str(relay.port), *LOOPBACK,
                            "--no-trickle", "--stats", self.path("answer.stats"), stdout=self.path("out"))
        self.assertExit(answer, 0, timeout=60)
        self.assertExit(offer, 0, timeout=10)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(data))
        self.assertIn("ICE connected: udp 127.0.0.1:", offer.stderr)
        sent = read_json(self.path("offer.stats"))["sctp"]
        received = read_json(self.path("answer.stats"))["sctp"]
        print(f"\ndropped {path.dropped} of {path.data_datagrams} data datagrams; sender: {sent}; receiver: {received}")
        self.assertGreater(path.dropped, 50)
        # A lost datagram's chunks are sent again (a retransmission sent
        # twice may lose one copy without a further one: hence the half).
        self.assertGreaterEqual(sent["retransmitted_chunks"], path.dropped // 2)
        self.assertLessEqual(sent["fast_retransmitted_chunks"], sent["retransmitted_chunks"])
        self.assertGreater(received["sacks_sent"], 0)

    def test_progress_line_only_on_a_terminal(self):
        """-v updates a progress line on stderr when it is a terminal, never otherwise."""
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock")]
        sender = self.start_on_terminal("offer", *sig, *LOOPBACK, "-v")
        answer = self.start("answer", *sig, *LOOPBACK, "-v", stdout=self.path("out"))
        sender.proc.stdin.write(b"x" * 100000)
        sender.proc.stdin.flush()
        # The line is updated every second: wait for it, however long the
        # set-up takes, before the rest of stdin (and the end) comes.
        line = re.compile(rb"\rrtcpeer: sent 100\.0 kB \([0-9.]+ [kM]?B/s\), received 0 B")
        wait_for(lambda: line.search(bytes(sender.screen)), 20, "the progress line on the terminal")
        sender.proc.stdin.write(b"y" * 1000)
        sender.proc.stdin.close()
        self.assertEqual(sender.proc.wait(30), 0)
        self.assertExit(answer, 0, timeout=30)
        sender.close()
        # The answerer's stderr is a file: no progress line there.
        self.assertNotIn("\r", answer.stderr)
        self.assertEqual(os.path.getsize(self.path("out")), 101000)

    def test_stats_written_on_failure(self):
        answer = self.start("answer", "-s", "unix-socket", "--signaling-path", self.path("none.sock"),
                            "--signaling-timeout", "1", "--stats", self.path("a.stats"))
        self.assertExit(answer, 3, timeout=10)
        stats = self.assertFailedAt(self.path("a.stats"), "signaling")
        self.assertEqual(stats["sent"]["bytes"], 0)


if __name__ == "__main__":
    main()
