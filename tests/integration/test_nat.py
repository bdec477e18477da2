"""NAT traversal: two hosts behind their own NATs (tests/integration/nat.py),
a coturn on the public segment. Host candidates alone cannot connect; with a
STUN server the peers connect through server-reflexive candidates; behind a
symmetric NAT they need TURN (over UDP); with a NAT that blocks all UDP, TURN
over TCP still relays. Reported skipped (exit 77)
when not root or without coturn."""

import json
import os
import sys
import tempfile

from harness import RTCPEER, Proc, TestCase, main, random_file, sha256_file
import nat
import netns
import turn

MiB = 1 << 20


class NatTest(TestCase):
    @classmethod
    def setUpClass(cls):
        cls.net = nat.NatTopology(str(os.getpid() % 1000))
        cls.workdir = tempfile.mkdtemp(prefix="rtcpeer-nat-")
        cls.server = turn.Coturn(cls.workdir, nat.SERVER, netns=cls.net.ns["pub"])

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.net.close()
        __import__("shutil").rmtree(cls.workdir, ignore_errors=True)

    def on(self, host, argv, **kwargs):
        p = Proc(self.net.wrap(host, argv), **kwargs)
        self.procs.append(p)
        return p

    def run_pair(self, a_args, b_args, data=None, offer_code=0, answer_code=0, timeout=60):
        sig = ["-s", "unix-socket", "--signaling-path", self.path("s.sock"), "-v"]
        offer = self.on("ha", [RTCPEER, "offer", *sig, *a_args], stdin=data, stdout=self.path("a.out"))
        answer = self.on("hb", [RTCPEER, "answer", *sig, *b_args], stdout=self.path("b.out"))
        self.assertExit(answer, answer_code, timeout=timeout)
        self.assertExit(offer, offer_code, timeout=10)
        return offer, answer

    def check_json(self, name):
        with open(self.path(name)) as f:
            return json.loads(f.read())

    def test_host_candidates_alone_cannot_connect(self):
        self.run_pair(["--check", "--connect-timeout", "4"], ["--check", "--connect-timeout", "4"],
                      offer_code=3, answer_code=3, timeout=30)
        for name in ("a.out", "b.out"):
            result = self.check_json(name)
            self.assertEqual(result["failure"]["stage"], "ice")
            self.assertEqual(result["exit_code"], 3)

    def test_stun_gives_server_reflexive_candidates_that_connect(self):
        stun = ["--stun", f"stun:{nat.SERVER}:3478"]
        offer, answer = self.run_pair([*stun, "--check"], [*stun, "--check"])
        result = self.check_json("a.out")
        print(f"\ncheck JSON through two NATs (STUN): {json.dumps(result)}")
        self.assertEqual(result["result"], "ok")
        pair = result["selected_pair"]
        # Both sides are seen at their NAT's public address.
        self.assertEqual((pair["local"]["type"], pair["local"]["address"]), ("srflx", nat.NAT_A_OUTSIDE))
        self.assertIn(pair["remote"]["type"], ("srflx", "prflx"))
        self.assertEqual(pair["remote"]["address"], nat.NAT_B_OUTSIDE)
        self.assertRegex(offer.stderr, rf"local candidate \S+ 1 udp \d+ {nat.NAT_A_OUTSIDE.replace('.', '[.]')} "
                                       r"\d+ typ srflx")
        # And data moves.
        data = random_file(self.path("in"), 8 * MiB)
        self.run_pair(stun, stun, data=data)
        self.assertEqual(sha256_file(self.path("b.out")), sha256_file(data))

    def test_turn_over_tcp_when_the_nat_blocks_udp(self):
        self.net.block_udp_through("na")
        try:
            turn_tcp = ["--turn", f"turn:{turn.USER}:{turn.PASSWORD}@{nat.SERVER}:3478?transport=tcp"]
            stun = ["--stun", f"stun:{nat.SERVER}:3478"]
            offer, answer = self.run_pair([*turn_tcp, "--check"], [*stun, "--check"])
            result = self.check_json("a.out")
            print(f"\ncheck JSON, UDP blocked at NAT A (TURN-TCP): {json.dumps(result)}")
            self.assertEqual(result["result"], "ok")
            local = result["selected_pair"]["local"]
            self.assertEqual(local["type"], "relay")
            self.assertEqual(local["relay_protocol"], "tcp")
            self.assertEqual(local["address"], nat.SERVER)
            data = random_file(self.path("in"), 8 * MiB)
            self.run_pair(turn_tcp, stun, data=data)
            self.assertEqual(sha256_file(self.path("b.out")), sha256_file(data))
        finally:
            self.net.unblock_udp_through("na")

    def test_symmetric_nat_falls_back_to_turn_over_udp(self):
        self.net.make_symmetric("na")
        try:
            stun = ["--stun", f"stun:{nat.SERVER}:3478"]
            # Server-reflexive candidates alone no longer connect...
            self.run_pair([*stun, "--check", "--connect-timeout", "5"], [*stun, "--check", "--connect-timeout", "5"],
                          offer_code=3, answer_code=3, timeout=30)
            self.assertEqual(self.check_json("a.out")["failure"]["stage"], "ice")
            # ...with a TURN server (over UDP, through the symmetric NAT)
            # the relay carries the data.
            turn_udp = [*stun, "--turn", f"turn:{turn.USER}:{turn.PASSWORD}@{nat.SERVER}:3478?transport=udp"]
            self.run_pair([*turn_udp, "--check"], [*stun, "--check"])
            result = self.check_json("a.out")
            print(f"\ncheck JSON, symmetric NAT A (TURN-UDP): {json.dumps(result)}")
            self.assertEqual(result["result"], "ok")
            local = result["selected_pair"]["local"]
            self.assertEqual((local["type"], local["relay_protocol"], local["address"]), ("relay", "udp", nat.SERVER))
            data = random_file(self.path("in"), 8 * MiB)
            offer, _ = self.run_pair(turn_udp, stun, data=data)
            self.assertEqual(sha256_file(self.path("b.out")), sha256_file(data))
            self.assertRegex(offer.stderr, r"ICE connected: udp \S+ relay \(TURN over udp\) -> ")
        finally:
            self.net.make_symmetric("na", False)

    def test_turn_over_udp_through_a_nat(self):
        # Both behind their NATs, relayed only: A's allocation is made
        # through NAT A, B reaches it through NAT B.
        turn_udp = ["--turn", f"turn:{turn.USER}:{turn.PASSWORD}@{nat.SERVER}:3478?transport=udp",
                    "--ice-transport-policy", "relay"]
        data = random_file(self.path("in"), 8 * MiB)
        offer, answer = self.run_pair(turn_udp, turn_udp, data=data)
        self.assertEqual(sha256_file(self.path("b.out")), sha256_file(data))
        for p in (offer, answer):
            self.assertRegex(p.stderr, rf"ICE connected: udp {nat.SERVER.replace('.', '[.]')}:\d+ relay "
                                       r"\(TURN over udp\) -> \S+ relay")
        # The server saw the NATs' public addresses, not the hosts'.
        log = self.server.log_text()
        self.assertIn(nat.NAT_A_OUTSIDE, log)
        self.assertIn(nat.NAT_B_OUTSIDE, log)
        self.assertNotIn(nat.HOST_A, log)


if __name__ == "__main__":
    reason = netns.available() or turn.available()
    if reason:
        print(f"SKIP: {reason}")
        sys.exit(77)
    main()
