"""Relay through a real TURN server (coturn) on loopback: relay-only policy
over TURN-UDP, TURN-TCP and TURN-TLS (turns:, trusted with --turn-ca) moves
10 MiB bit-exact, the check JSON shows the relay, and a wrong password or an
untrusted certificate fails with a clear message (exit 5)."""

import json
import os
import sys

from harness import LOOPBACK, TestCase, main, random_file, sha256_file
import turn

MiB = 1 << 20


class TurnTest(TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = __import__("tempfile").mkdtemp(prefix="rtcpeer-turn-")
        cls.server = turn.Coturn(cls.workdir, "127.0.0.1", tls=True)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        __import__("shutil").rmtree(cls.workdir, ignore_errors=True)

    def relay_pair(self, transport, offer_extra=(), answer_extra=(), data=None):
        url = self.server.url(transport)
        if transport == "tls":
            offer_extra = [*offer_extra, "--turn-ca", self.server.certificate]
            answer_extra = [*answer_extra, "--turn-ca", self.server.certificate]
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock")]
        common = [*LOOPBACK, "--turn", url, "--ice-transport-policy", "relay", "-v"]
        offer = self.start("offer", *sig, *common, *offer_extra, stdin=data, stdout=self.path("offer.out"))
        answer = self.start("answer", *sig, *common, *answer_extra, stdout=self.path("answer.out"))
        return offer, answer

    def transfer(self, transport):
        data = random_file(self.path("in"), 10 * MiB)
        offer, answer = self.relay_pair(transport, data=data)
        self.assertExit(answer, 0, timeout=60)
        self.assertExit(offer, 0, timeout=10)
        self.assertEqual(sha256_file(self.path("answer.out")), sha256_file(data))
        for p in (offer, answer):
            self.assertRegex(p.stderr, rf"ICE connected: udp \S+ relay \(TURN over {transport}\) -> \S+ relay")
            self.assertNotRegex(p.stderr, r"local candidate \S+ \d+ udp \d+ \S+ \d+ typ host")
        print(f"\n10 MiB relayed over TURN-{transport.upper()}: {10 * MiB / 1e6 / answer.elapsed:.1f} MB/s "
              f"(process start to exit)")

    def test_relay_over_udp_moves_10_mib(self):
        self.transfer("udp")

    def test_relay_over_tcp_moves_10_mib(self):
        self.transfer("tcp")

    def test_relay_over_tls_moves_10_mib(self):
        self.transfer("tls")

    def test_untrusted_turns_certificate_is_refused(self):
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock")]
        offer = self.start("offer", *sig, *LOOPBACK, "--turn", self.server.url("tls"), "--ice-transport-policy",
                           "relay")
        self.assertExit(offer, 5, timeout=30, message=f"rtcpeer: ice: no relay candidate: "
                                                      f"turns:127.0.0.1:{self.server.tls_port}: ")
        self.assertIn("certificate", offer.stderr)

    def test_check_json_shows_the_relay(self):
        offer, answer = self.relay_pair("tcp", offer_extra=["--check"], answer_extra=["--check"])
        self.assertExit(answer, 0, timeout=60)
        self.assertExit(offer, 0, timeout=10)
        with open(self.path("offer.out")) as f:
            result = json.loads(f.read())
        print(f"\ncheck JSON through TURN-TCP: {json.dumps(result)}")
        self.assertEqual(result["result"], "ok")
        local = result["selected_pair"]["local"]
        self.assertEqual(local["type"], "relay")
        self.assertEqual(local["relay_protocol"], "tcp")
        self.assertEqual(result["selected_pair"]["remote"]["type"], "relay")
        self.assertEqual(result["rtt_ms"]["count"], 5)

    def test_wrong_password_says_so_and_exits_5(self):
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock")]
        url = f"turn:{turn.USER}:wrong@127.0.0.1:{self.server.port}?transport=udp"
        offer = self.start("offer", *sig, *LOOPBACK, "--turn", url, "--ice-transport-policy", "relay", "--check",
                           stdout=self.path("offer.out"))
        self.assertExit(offer, 5, timeout=30,
                        message=f"rtcpeer: ice: no relay candidate: turn:127.0.0.1:{self.server.port}?transport=udp "
                                "gave no allocation (wrong user name or password, or unreachable)")
        self.assertNotIn("wrong@", offer.stderr)
        with open(self.path("offer.out")) as f:
            result = json.loads(f.read())
        self.assertEqual(result["failure"]["stage"], "ice")
        self.assertEqual(result["exit_code"], 5)
        self.assertIn("check_stun_auth", self.server.log_text())  # the server did refuse it

    def test_password_from_the_environment(self):
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock")]
        env = dict(os.environ, RTCPEER_TURN_PASSWORD=turn.PASSWORD)
        common = [*LOOPBACK, "--turn", f"turn:127.0.0.1:{self.server.port}", "--turn-user", turn.USER,
                  "--ice-transport-policy", "relay", "--check", "--count", "1"]
        offer = self.start("offer", *sig, *common, env=env, stdout=self.path("o.json"))
        answer = self.start("answer", *sig, *common, env=env, stdout=self.path("a.json"))
        self.assertExit(answer, 0, timeout=60)
        self.assertExit(offer, 0, timeout=10)
        with open(self.path("a.json")) as f:
            self.assertEqual(json.loads(f.read())["selected_pair"]["local"]["relay_protocol"], "udp")


if __name__ == "__main__":
    reason = turn.available()
    if reason:
        print(f"SKIP: {reason}")
        sys.exit(77)
    main()
