"""Signaling between real rtcpeer processes: every backend, both trickle modes,
start order, socket-file hygiene, time-outs and hostile signaling peers."""

import os
import socket
import stat
import threading
import time

from harness import LOOPBACK, TestCase, free_tcp_port, main, wait_for


def backend_args(kind, test):
    if kind == "tcp-socket":
        return ["-s", "tcp-socket", "--signaling-port", str(test.port)]
    if kind == "unix-socket":
        return ["-s", "unix-socket", "--signaling-path", test.path("sig.sock")]
    return ["-s", "copy-and-paste"]


class PairTest(TestCase):
    def setUp(self):
        super().setUp()
        self.port = free_tcp_port()

    def run_pair(self, kind, extra=(), answer_first=False):
        offer_args = ["offer", *backend_args(kind, self), *LOOPBACK, "-v", *extra]
        answer_args = ["answer", *backend_args(kind, self), *LOOPBACK, "-v", *extra]
        if kind == "copy-and-paste":
            to_answer, to_offer = self.path("o2a"), self.path("a2o")
            os.mkfifo(to_answer)
            os.mkfifo(to_offer)
            offer_args += ["--signaling-output", to_answer, "--signaling-input", to_offer]
            answer_args += ["--signaling-output", to_offer, "--signaling-input", to_answer]
        if answer_first:
            answer = self.start(*answer_args)
            time.sleep(0.7)
            offer = self.start(*offer_args)
        else:
            offer = self.start(*offer_args)
            answer = self.start(*answer_args)
        self.assertExit(offer, 0, timeout=30)
        self.assertExit(answer, 0, timeout=30)
        for p in (offer, answer):
            self.assertIn("ICE connected: udp 127.0.0.1:", p.stderr)
        return offer, answer

    def test_tcp_socket_trickle(self):
        offer, answer = self.run_pair("tcp-socket")
        self.assertRegex(offer.stderr, r"started as offer over tcp-socket [^\n]*, trickle\n")
        # Trickle: the answer comes without candidates, and each candidate
        # follows as a message of its own.
        self.assertRegex(offer.stderr, r"answer received \(0 candidates\)\n(.*\n)*.*remote candidate 1 1 udp ")

    def test_tcp_socket_no_trickle(self):
        offer, _ = self.run_pair("tcp-socket", ["--no-trickle"])
        self.assertIn("answer received (1 candidates, complete)", offer.stderr)

    def test_unix_socket_trickle_and_file_removed(self):
        self.run_pair("unix-socket")
        self.assertFalse(os.path.exists(self.path("sig.sock")), "the listener left its socket file behind")

    def test_unix_socket_no_trickle(self):
        self.run_pair("unix-socket", ["--no-trickle"])

    def test_copy_and_paste_fifos_no_trickle(self):
        offer, answer = self.run_pair("copy-and-paste")
        self.assertIn("offer received (1 candidates, complete)", answer.stderr)

    def test_copy_and_paste_fifos_trickle(self):
        self.run_pair("copy-and-paste", ["--trickle"])

    def test_answer_started_first_still_connects_tcp(self):
        self.run_pair("tcp-socket", answer_first=True)

    def test_answer_started_first_still_connects_unix(self):
        self.run_pair("unix-socket", answer_first=True)


class FailureTest(TestCase):
    def test_unix_socket_refuses_to_replace_a_regular_file(self):
        path = self.path("not-a-socket")
        with open(path, "w") as f:
            f.write("precious")
        p = self.start("offer", "-s", "unix-socket", "--signaling-path", path)
        self.assertExit(p, 1, timeout=10, message="is not a socket")
        with open(path) as f:
            self.assertEqual(f.read(), "precious")

    def test_unix_socket_replaces_a_stale_socket(self):
        path = self.path("stale.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()  # leaves the file, nobody listening
        self.assertTrue(stat.S_ISSOCK(os.lstat(path).st_mode))
        offer = self.start("offer", "-s", "unix-socket", "--signaling-path", path, *LOOPBACK)
        answer = self.start("answer", "-s", "unix-socket", "--signaling-path", path, *LOOPBACK)
        self.assertExit(offer, 0, timeout=30)
        self.assertExit(answer, 0, timeout=30)

    def test_connecting_side_gives_up_after_signaling_timeout(self):
        t0 = time.monotonic()
        p = self.start("answer", "-s", "tcp-socket", "--signaling-port", str(free_tcp_port()),
                       "--signaling-timeout", "1")
        self.assertExit(p, 3, timeout=10, message="rtcpeer: signaling: could not connect to tcp-socket")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_listening_side_waits_only_when_told(self):
        p = self.start("offer", "-s", "unix-socket", "--signaling-path", self.path("s.sock"),
                       "--signaling-timeout", "0.5")
        self.assertExit(p, 3, timeout=10, message="no peer connected")
        self.assertFalse(os.path.exists(self.path("s.sock")))

    def test_copy_and_paste_without_terminal_says_so(self):
        p = self.start("answer", "-s", "copy-and-paste", "--signaling-input", self.path("missing"))
        self.assertExit(p, 1, timeout=10, message="cannot open")

    def test_sigterm_while_waiting_exits_143(self):
        p = self.start("offer", "-s", "unix-socket", "--signaling-path", self.path("s.sock"), "-v")
        wait_for(lambda: "started as offer" in p.stderr and os.path.exists(self.path("s.sock")), 10,
                 "the offerer listening")
        p.signal()
        self.assertExit(p, 143, timeout=10)
        self.assertFalse(os.path.exists(self.path("s.sock")))


class HostileOfferer:
    """A fake offerer on tcp-socket that sends the given bytes to whoever connects."""

    def __init__(self, payload_chunks):
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.chunks = payload_chunks
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        conn, _ = self.server.accept()
        try:
            for chunk in self.chunks:
                conn.sendall(chunk)
            time.sleep(5)
        except OSError:
            pass
        finally:
            conn.close()
            self.server.close()


GOOD_SDP = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n"
    "a=fingerprint:sha-256 AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:EC:69:B5:71:AE:9A:A6\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n"
)


class HostileInputTest(TestCase):
    def answer_against(self, chunks, code, message, timeout=15):
        fake = HostileOfferer(chunks)
        p = self.start("answer", "-s", "tcp-socket", "--signaling-port", str(fake.port), *LOOPBACK)
        self.assertExit(p, code, timeout=timeout, message=message)
        errors = [l for l in p.stderr.splitlines() if not l.startswith("rtcpeer: warning")]
        self.assertEqual(len(errors), 1, p.stderr)
        return p

    def test_not_json(self):
        self.answer_against([b"hello\n"], 4, "rtcpeer: signaling: malformed message: not valid JSON")

    def test_not_an_object(self):
        self.answer_against([b"[1, 2]\n"], 4, "not a JSON object")

    def test_missing_type(self):
        self.answer_against([b'{"sdp": "v=0"}\n'], 4, 'missing "type"')

    def test_wrong_field_type(self):
        self.answer_against([b'{"sdp": 42, "type": "offer"}\n'], 4, '"sdp" is not a string')

    def test_invalid_utf8(self):
        self.answer_against([b'{"sdp": "\xff\xfe", "type": "offer"}\n'], 4, "not valid JSON")

    def test_sdp_that_does_not_parse(self):
        self.answer_against([b'{"sdp": "garbage", "type": "offer"}\n'], 4, "rtcpeer: sdp:")

    def test_offer_without_fingerprint(self):
        sdp = GOOD_SDP.replace(GOOD_SDP[GOOD_SDP.index("a=fingerprint"):GOOD_SDP.index("a=setup")], "")
        line = ('{"sdp": %s, "type": "offer"}\n' % __import__("json").dumps(sdp)).encode()
        self.answer_against([line], 4, "no a=fingerprint")

    def test_answer_sent_to_the_answerer(self):
        line = ('{"sdp": %s, "type": "answer"}\n' % __import__("json").dumps(GOOD_SDP)).encode()
        self.answer_against([line], 4, "unexpected answer")

    def test_100_mib_line_is_refused_without_buffering_it(self):
        chunk = b"x" * (1 << 20)
        p = self.answer_against([b'{"sdp": "'] + [chunk] * 100, 4, "longer than 1048576 bytes")
        self.assertLess(p.maxrss_kib, 64 * 1024, "rtcpeer buffered the oversized line")

    def test_unknown_type_is_skipped_with_a_warning(self):
        p = self.answer_against([b'{"type": "renegotiate"}\n{"type": "bye"}\n'], 5, "said bye before its description")
        self.assertIn('warning: ignoring a signaling message of unknown type "renegotiate"', p.stderr)

    def test_connection_closed_before_the_offer(self):
        self.answer_against([], 5, "closed the signaling connection")


if __name__ == "__main__":
    main()
