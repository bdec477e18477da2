"""Hostile remote peers, live: a signaling relay that injects what a hostile
peer would send into a real rtcpeer-to-rtcpeer session, fake signaling peers,
and an aiortc peer that opens hundreds of channels or sends oversized
messages. Each input has a defined outcome: ignored with a warning (and the
transfer still completes bit-exact), or a protocol error (exit 4); never a
crash, a hang or unbounded memory."""

import json
import os
import random
import socket
import threading
import time

from harness import LOOPBACK, TestCase, free_tcp_port, main, random_file, sha256_file
from relay import Relay
from test_signaling import GOOD_SDP, HostileOfferer

MiB = 1 << 20
# What bounded memory means here. AddressSanitizer's shadow memory, redzones
# and quarantine of freed blocks take two to five times a process's normal
# RSS (measured: 23 -> 85 MiB, 25 -> 119 MiB); the sanitize suite sets
# RTCPEER_SANITIZED and is held to a looser bound that still catches growth
# without limit. The plain build is held to the real one.
RSS_LIMIT_KIB = 64 * 1024 * (3 if os.environ.get("RTCPEER_SANITIZED") else 1)


def candidate(text):
    return {"candidate": "candidate:" + text, "id": "0", "label": 0, "type": "candidate"}


class InjectionTest(TestCase):
    """rtcpeer offer <- relay -> rtcpeer answer; the relay adds hostile messages."""

    def transfer_through(self, rewrite, size=MiB):
        port = free_tcp_port()
        data = random_file(self.path("in"), size)
        offer = self.start("offer", "-s", "tcp-socket", "--signaling-port", str(port), *LOOPBACK, "-v", stdin=data)
        time.sleep(0.2)
        relay = Relay(port, rewrite)
        answer = self.start("answer", "-s", "tcp-socket", "--signaling-port", str(relay.port), *LOOPBACK, "-v",
                            stdout=self.path("out"))
        self.assertExit(answer, 0, timeout=60)
        self.assertExit(offer, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(data))
        return offer, answer

    def test_thousands_of_candidates(self):
        rng = random.Random(1)
        state = {"sent": False}

        def rewrite(direction, message):
            # After the answerer's real candidate, 5000 more that lead nowhere.
            if direction == "to-offerer" and message["type"] == "candidate" and not state["sent"]:
                state["sent"] = True
                junk = [candidate(f"{i} 1 udp {rng.randrange(1, 2**31)} 10.{rng.randrange(256)}."
                                  f"{rng.randrange(256)}.{rng.randrange(1, 255)} {rng.randrange(1024, 65536)} typ host")
                        for i in range(5000)]
                return [message, *junk]
            return message

        offer, _ = self.transfer_through(rewrite)
        self.assertIn("the remote sent more than 256 candidates; ignoring the rest", offer.stderr)
        self.assertEqual(offer.stderr.count("ignoring the rest"), 1)
        self.assertLess(offer.maxrss_kib, RSS_LIMIT_KIB)

    def test_absurd_candidates(self):
        absurd = [
            "1 1 udp 2130706431 127.0.0.1 0 typ host",
            "1 1 udp 2130706431 127.0.0.1 99999 typ host",
            "1 1 udp 99999999999999 127.0.0.1 5000 typ host",
            "1 1 udp -5 127.0.0.1 5000 typ host",
            "1 7 udp 1 127.0.0.1 5000 typ host",
            "1 1 sctp 1 127.0.0.1 5000 typ host",
            "1 1 udp 1 999.1.1.1 5000 typ host",
            "1 1 udp 1 127.0.0.1 5000 typ bogus",
            "1 1 udp 1 127.0.0.1 5000 typ relay raddr nowhere rport -1",
            "\u202e\x1b[31m 1 udp 1 127.0.0.1 5000 typ host",
            "x" * 100000,
            "",
        ] * 3

        def rewrite(direction, message):
            if direction == "to-offerer" and message["type"] == "answer":
                return [message, *[candidate(c) for c in absurd if c]]
            return message

        offer, _ = self.transfer_through(rewrite)
        self.assertIn("further malformed candidates are ignored without a warning", offer.stderr)
        self.assertNotIn("\x1b", offer.stderr)  # remote text never reaches the terminal raw
        self.assertLess(len(offer.stderr.splitlines()), 400)

    def test_second_offer_mid_session_is_ignored(self):
        def rewrite(direction, message):
            if direction == "to-answerer" and message["type"] == "offer":
                second = dict(message, sdp=message["sdp"].replace("a=ice-ufrag:", "a=ice-ufrag:x"))
                return [message, second]
            return message

        _, answer = self.transfer_through(rewrite)
        self.assertIn("ignoring a second offer (renegotiation is not supported)", answer.stderr)

    def test_answer_with_actpass_is_a_protocol_error(self):
        def rewrite(direction, message):
            if direction == "to-offerer" and message["type"] == "answer":
                return dict(message, sdp=message["sdp"].replace("a=setup:active", "a=setup:actpass"))
            return message

        port = free_tcp_port()
        offer = self.start("offer", "-s", "tcp-socket", "--signaling-port", str(port), *LOOPBACK)
        time.sleep(0.2)
        relay = Relay(port, rewrite)
        answer = self.start("answer", "-s", "tcp-socket", "--signaling-port", str(relay.port), *LOOPBACK,
                            "--connect-timeout", "5")
        self.assertExit(offer, 4, timeout=30, message="rtcpeer: sdp: the answer says a=setup:actpass")
        answer.wait(30)
        self.assertIn(answer.returncode, (3, 5))


class FakeOffererTest(TestCase):
    def answer_against(self, sdp, code, message, timeout=20):
        line = json.dumps({"sdp": sdp, "type": "offer"}, sort_keys=True).encode() + b"\n"
        fake = HostileOfferer([line])
        p = self.start("answer", "-s", "tcp-socket", "--signaling-port", str(fake.port), *LOOPBACK,
                       "--connect-timeout", "2")
        self.assertExit(p, code, timeout=timeout, message=message)
        self.assertLess(p.maxrss_kib, RSS_LIMIT_KIB)
        return p

    def test_sdp_of_almost_one_mib_is_parsed_and_bounded(self):
        # Under the 1 MiB line limit: parsed (unknown attributes are
        # ignored); nobody answers ICE, so the connect time-out ends it.
        sdp = GOOD_SDP + "".join(f"a=x-junk-{i}:{'y' * 80}\r\n" for i in range(9000))
        self.assertGreater(len(sdp), 800_000)
        self.answer_against(sdp, 3, "rtcpeer: ice: not connected within 2 s")

    def test_sdp_over_one_mib_is_refused(self):
        sdp = GOOD_SDP + "".join(f"a=x-junk-{i}:{'y' * 100}\r\n" for i in range(12000))
        self.answer_against(sdp, 4, "rtcpeer: signaling: ")

    def test_offer_without_ice_credentials(self):
        sdp = "\r\n".join(l for l in GOOD_SDP.split("\r\n") if not l.startswith("a=ice-"))
        p = self.answer_against(sdp, 4, "rtcpeer: sdp: ")
        self.assertIn("ice-ufrag", p.stderr)


class AiortcHostileTest(TestCase):
    def rtcpeer_receives_from_aiortc(self, extra, code):
        port = str(free_tcp_port())
        sig = ["-s", "tcp-socket", "--signaling-port", port]
        data = random_file(self.path("in"), 2 * MiB)
        aiortc = self.start_interop("offer", "--mode", "send", "--file", data, *sig, "--timeout", "60",
                                    "--report", self.path("r.json"), *extra)
        time.sleep(0.5)
        answer = self.start("answer", *sig, *LOOPBACK, "-v", stdout=self.path("out"))
        self.assertExit(answer, code, timeout=60)
        if code == 0:
            aiortc.wait(90)
        return answer, data

    def test_hundreds_of_dcep_opens(self):
        answer, data = self.rtcpeer_receives_from_aiortc(["--extra-channels", "300"], 0)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(data))
        # Refused with bounded noise: three warnings, not three hundred.
        self.assertEqual(answer.stderr.count("refusing extra data channel"), 3)
        self.assertLess(answer.maxrss_kib, RSS_LIMIT_KIB)

    def test_message_above_max_message_size(self):
        answer, _ = self.rtcpeer_receives_from_aiortc(["--chunk-size", "300000"], 4)
        self.assertRegex(answer.stderr, r"rtcpeer: sctp: .*(larger|max-message-size)")


if __name__ == "__main__":
    main()
