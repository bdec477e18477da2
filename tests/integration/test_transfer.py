"""Data through real rtcpeer processes on loopback: every signaling backend,
trickle and not, large and full-duplex transfers, --lines, empty input, a slow
consumer with bounded memory, and the failures a user must be told about."""

import os
import re
import signal
import subprocess
import time

from harness import LOOPBACK, TestCase, free_tcp_port, main, random_file, sha256_file, wait_for
from relay import Relay, swap_fingerprint

MiB = 1 << 20


class Pair:
    """Starts an offerer and an answerer on one signaling backend."""

    def __init__(self, test, kind="unix-socket", offer_extra=(), answer_extra=(),
                 offer_stdin=None, answer_stdin=None, offer_stdout=None, answer_stdout=None):
        if kind == "tcp-socket":
            port = free_tcp_port()
            backend = ["-s", "tcp-socket", "--signaling-port", str(port)]
            offer_backend = answer_backend = backend
        elif kind == "unix-socket":
            backend = ["-s", "unix-socket", "--signaling-path", test.path("sig.sock")]
            offer_backend = answer_backend = backend
        else:
            to_answer, to_offer = test.path("o2a"), test.path("a2o")
            os.mkfifo(to_answer)
            os.mkfifo(to_offer)
            offer_backend = ["--signaling-output", to_answer, "--signaling-input", to_offer]
            answer_backend = ["--signaling-output", to_offer, "--signaling-input", to_answer]
        self.offer = test.start("offer", *offer_backend, *LOOPBACK, "-v", *offer_extra,
                                stdin=offer_stdin, stdout=offer_stdout)
        self.answer = test.start("answer", *answer_backend, *LOOPBACK, "-v", *answer_extra,
                                 stdin=answer_stdin, stdout=answer_stdout)


class TransferTest(TestCase):
    def one_way(self, kind, size=MiB, extra=()):
        src = random_file(self.path("in"), size)
        pair = Pair(self, kind, extra, extra, offer_stdin=src, answer_stdout=self.path("out"))
        self.assertExit(pair.offer, 0, timeout=120)
        self.assertExit(pair.answer, 0, timeout=120)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        self.assertIn("EOF sent (%d bytes from stdin)" % size, pair.offer.stderr)
        self.assertIn("EOF received (%d bytes to stdout)" % size, pair.answer.stderr)
        return pair

    def test_tcp_socket_trickle(self):
        self.one_way("tcp-socket")

    def test_tcp_socket_no_trickle(self):
        self.one_way("tcp-socket", extra=["--no-trickle"])

    def test_unix_socket_trickle(self):
        self.one_way("unix-socket")

    def test_unix_socket_no_trickle(self):
        self.one_way("unix-socket", extra=["--no-trickle"])

    def test_copy_and_paste_no_trickle(self):
        self.one_way("copy-and-paste")

    def test_copy_and_paste_trickle(self):
        self.one_way("copy-and-paste", extra=["--trickle"])

    def test_library_debug_output_stays_off_stdout(self):
        # GLib prints debug messages on stdout unless told otherwise: with
        # libnice's debugging on, its lines would land in the received file.
        saved = {k: os.environ.get(k) for k in ("G_MESSAGES_DEBUG", "NICE_DEBUG")}
        os.environ.update(G_MESSAGES_DEBUG="all", NICE_DEBUG="all")
        try:
            pair = self.one_way("unix-socket", 256 * 1024)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.assertIn("libnice", pair.offer.stderr)
        self.assertIn("STUN", pair.answer.stderr)

    def test_256_mib(self):
        pair = self.one_way("unix-socket", 256 * MiB)
        print(f"\n256 MiB: offer {pair.offer.elapsed:.2f} s, answer {pair.answer.elapsed:.2f} s, "
              f"{256 * MiB / 1e6 / pair.answer.elapsed:.1f} MB/s, RSS {pair.offer.maxrss_kib} / "
              f"{pair.answer.maxrss_kib} KiB")

    def test_small_messages(self):
        self.one_way("unix-socket", 3 * MiB + 17, extra=["--message-size", "1000"])

    def test_full_duplex_64_mib(self):
        a = random_file(self.path("a"), 64 * MiB)
        b = random_file(self.path("b"), 64 * MiB)
        pair = Pair(self, "unix-socket", offer_stdin=a, answer_stdin=b,
                    offer_stdout=self.path("b.out"), answer_stdout=self.path("a.out"))
        self.assertExit(pair.offer, 0, timeout=120)
        self.assertExit(pair.answer, 0, timeout=120)
        self.assertEqual(sha256_file(self.path("a.out")), sha256_file(a))
        self.assertEqual(sha256_file(self.path("b.out")), sha256_file(b))

    def test_empty_stdin_both_sides(self):
        pair = Pair(self, "unix-socket", offer_stdout=self.path("o"), answer_stdout=self.path("a"))
        self.assertExit(pair.offer, 0, timeout=30)
        self.assertExit(pair.answer, 0, timeout=30)
        self.assertEqual(os.path.getsize(self.path("o")), 0)
        self.assertEqual(os.path.getsize(self.path("a")), 0)

    def test_empty_stdin_on_the_sending_side_only(self):
        b = random_file(self.path("b"), 100000)
        pair = Pair(self, "unix-socket", answer_stdin=b, offer_stdout=self.path("b.out"))
        self.assertExit(pair.offer, 0, timeout=30)
        self.assertExit(pair.answer, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("b.out")), sha256_file(b))

    def test_lines_chat(self):
        with open(self.path("o.txt"), "w") as f:
            f.write("hello\n\nsecond line\nno newline at the end")
        with open(self.path("a.txt"), "w") as f:
            f.write("hi back\n")
        pair = Pair(self, "unix-socket", ["--lines"], ["--lines"], offer_stdin=self.path("o.txt"),
                    answer_stdin=self.path("a.txt"), offer_stdout=self.path("o.out"),
                    answer_stdout=self.path("a.out"))
        self.assertExit(pair.offer, 0, timeout=30)
        self.assertExit(pair.answer, 0, timeout=30)
        with open(self.path("a.out")) as f:
            self.assertEqual(f.read(), "hello\n\nsecond line\nno newline at the end\n")
        with open(self.path("o.out")) as f:
            self.assertEqual(f.read(), "hi back\n")

    def test_eof_wait_bounds_the_wait_for_the_remote_eof(self):
        src = random_file(self.path("in"), MiB)
        # The answerer's stdin stays open without data: its EOF never comes.
        idle_read, idle_write = os.pipe()
        self.addCleanup(os.close, idle_write)
        pair = Pair(self, "unix-socket", offer_extra=["--eof-wait", "1"], offer_stdin=src,
                    answer_stdin=idle_read, answer_stdout=self.path("out"))
        os.close(idle_read)
        self.assertExit(pair.offer, 0, timeout=30)
        self.assertLess(pair.offer.elapsed, 10)
        self.assertIn("--eof-wait expired", pair.offer.stderr)
        # The answerer hears the channel close; its stdin holds nothing unsent.
        self.assertExit(pair.answer, 0, timeout=30)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))

    def test_interactive_receiver_does_not_wait_for_ctrl_d(self):
        import pty
        src = random_file(self.path("in"), MiB)
        controller, terminal = pty.openpty()
        try:
            pair = Pair(self, "unix-socket", offer_stdin=src, answer_stdin=terminal,
                        answer_stdout=self.path("out"))
            # The offerer waits for the answerer's EOF; the answerer's stdin is a
            # terminal nobody types into, so it finishes on the remote's EOF.
            self.assertExit(pair.answer, 0, timeout=30)
            self.assertExit(pair.offer, 0, timeout=30)
        finally:
            os.close(controller)
            os.close(terminal)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))

    def test_slow_consumer_keeps_memory_bounded(self):
        size = 48 * MiB
        src = random_file(self.path("in"), size)
        pair = Pair(self, "unix-socket", offer_stdin=src, answer_stdout=subprocess.PIPE)
        # Read 1 MB/s for 4 s, then the rest at full speed.
        reader = pair.answer.popen.stdout
        received = bytearray()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 4:
            received += reader.read(100_000)
            time.sleep(0.1)
        slow = len(received)
        # How far the sender got into its stdin (a file: its offset) while
        # the consumer dawdled. Back-pressure holds it to what was consumed
        # plus the buffers on the way (socket buffers of 2 MiB each way,
        # the channel's high-water mark, pipes); without it the sender takes
        # all 48 MiB in well under a second.
        taken = stdin_offset(pair.offer.pid)
        if taken is None:
            taken = size  # the sender had read all of stdin and left
        while True:
            chunk = reader.read(1 << 20)
            if not chunk:
                break
            received += chunk
        self.assertExit(pair.offer, 0, timeout=120)
        self.assertExit(pair.answer, 0, timeout=120)
        print(f"\nwhile 4 s of slow reading took {slow} bytes, the sender had read {taken} bytes of stdin")
        self.assertLess(taken - slow, 8 * MiB, "the sender read on although the consumer did not keep up")
        self.assertEqual(len(received), size)
        with open(src, "rb") as f:
            self.assertEqual(bytes(received), f.read())
        # Without back-pressure the receiver (or the sender) would hold most
        # of the 48 MiB while the consumer dawdled.
        self.assertLess(pair.answer.maxrss_kib, 32 * 1024, "receiver memory grew")
        self.assertLess(pair.offer.maxrss_kib, 32 * 1024, "sender memory grew")


def stdin_offset(pid):
    """The file offset of a process's stdin, read from /proc; None once the
    process has ended."""
    try:
        with open(f"/proc/{pid}/fdinfo/0") as f:
            for line in f:
                if line.startswith("pos:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    raise AssertionError("no offset for stdin")


def assert_prefix(test, out, src):
    """out holds a proper beginning of src: nothing invented, something missing."""
    with open(out, "rb") as f:
        got = f.read()
    with open(src, "rb") as f:
        whole = f.read()
    test.assertLess(len(got), len(whole), "the whole stream arrived: nothing was cut short")
    test.assertTrue(whole.startswith(got), "the output is not a beginning of the input")
    return len(got)


class FailureTest(TestCase):
    SIZE = 8 * MiB

    def start_transfer_in_flight(self, rate=4 * MiB):
        """The offerer's stdin gets SIZE bytes at `rate` bytes/s and stays open
        after them; returns once the answerer has written 1 MiB, with the
        feeder (how much stdin got so far in feeder.fed)."""
        src = random_file(self.path("in"), self.SIZE)
        feeder = self.feeder(src, rate=rate)
        out = self.path("out")
        pair = Pair(self, "unix-socket", offer_stdin=feeder.read_fd, answer_stdout=out)
        feeder.release_read_end()
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > MiB, 60, "1 MiB at the receiver")
        return pair, src, feeder

    def kill_mid_transfer(self, victim):
        """SIGKILLs one side while data flows (stdin is fed at 4 MiB/s)."""
        pair, src, feeder = self.start_transfer_in_flight()
        self.assertLess(feeder.fed, self.SIZE, "stdin was complete before the kill")
        killed, survivor = (pair.answer, pair.offer) if victim == "receiver" else (pair.offer, pair.answer)
        killed.popen.kill()
        t0 = time.monotonic()
        self.assertExit(survivor, 5, timeout=40)
        self.assertLess(time.monotonic() - t0, 30)
        self.assertRegex(survivor.stderr.splitlines()[-1], r"^rtcpeer: [a-z]+: .+")
        assert_prefix(self, self.path("out"), src)

    def test_receiver_killed_mid_transfer(self):
        self.kill_mid_transfer("receiver")

    def test_sender_killed_mid_transfer(self):
        self.kill_mid_transfer("sender")

    def test_disk_full_on_stdout(self):
        src = random_file(self.path("in"), 20 * MiB)
        pair = Pair(self, "unix-socket", offer_stdin=src, answer_stdout="/dev/full")
        self.assertExit(pair.answer, 1, timeout=30,
                        message="rtcpeer: stdout: write failed: No space left on device")
        # The sender learns that the remote failed, rather than calling it a success.
        self.assertExit(pair.offer, 5, timeout=30, message="rtcpeer: sctp: ")

    def fingerprint_relay(self, direction):
        offer_port = free_tcp_port()

        def rewrite(d, message):
            if d in direction and "sdp" in message:
                message["sdp"] = swap_fingerprint(message["sdp"])
            return message

        src = random_file(self.path("in"), MiB)
        offer = self.start("offer", "-s", "tcp-socket", "--signaling-port", str(offer_port), *LOOPBACK, "-v",
                           stdin=src, stdout=self.path("offer.out"))
        wait_for(lambda: "started as offer" in offer.stderr, 10, "the offerer listening")
        relay = Relay(offer_port, rewrite)
        answer = self.start("answer", "-s", "tcp-socket", "--signaling-port", str(relay.port), *LOOPBACK,
                            stdout=self.path("answer.out"))
        self.assertExit(offer, 6, timeout=40, message="rtcpeer: dtls:")
        self.assertExit(answer, 6, timeout=40, message="rtcpeer: dtls:")
        self.assertEqual(os.path.getsize(self.path("answer.out")), 0)
        self.assertEqual(os.path.getsize(self.path("offer.out")), 0)

    def test_fingerprint_swapped_in_the_offer(self):
        self.fingerprint_relay(["to-answerer"])

    def test_fingerprint_swapped_in_the_answer(self):
        self.fingerprint_relay(["to-offerer"])

    def test_fingerprint_swapped_both_ways(self):
        self.fingerprint_relay(["to-answerer", "to-offerer"])

    def test_no_reachable_candidate(self):
        offer_port = free_tcp_port()

        def rewrite(d, message):
            if "sdp" in message:
                lines = [l for l in message["sdp"].split("\r\n") if not l.startswith("a=candidate:")]
                # Nothing listens on the discard port of loopback.
                lines.insert(-1, "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host")
                message["sdp"] = "\r\n".join(lines)
            return None if message["type"] == "candidate" else message

        offer = self.start("offer", "-s", "tcp-socket", "--signaling-port", str(offer_port), *LOOPBACK,
                           "--no-trickle", "--connect-timeout", "5", "-v")
        wait_for(lambda: "started as offer" in offer.stderr, 10, "the offerer listening")
        relay = Relay(offer_port, rewrite)
        answer = self.start("answer", "-s", "tcp-socket", "--signaling-port", str(relay.port), *LOOPBACK,
                            "--no-trickle", "--connect-timeout", "5")
        for p in (offer, answer):
            rc = p.wait(timeout=30)
            self.assertIn(rc, (3, 5), p.stderr)
            self.assertRegex(p.stderr, r"rtcpeer: ice: ")

    def test_sigterm_mid_transfer_exits_143(self):
        self.interrupt_mid_transfer(signal.SIGTERM, 143)

    def test_sigint_mid_transfer_exits_130(self):
        self.interrupt_mid_transfer(signal.SIGINT, 130)

    def interrupt_mid_transfer(self, signum, code):
        """Interrupts the sender while data flows: it leaves in order (bye,
        its exit code), and the receiver, whose stream was cut short, does
        not exit 0 (man page, EXIT STATUS)."""
        pair, src, feeder = self.start_transfer_in_flight()
        self.assertLess(feeder.fed, self.SIZE, "stdin was complete before the signal")
        pair.offer.signal(signum)
        self.assertExit(pair.offer, code, timeout=10)
        self.assertIn("bye sent", pair.offer.stderr)
        # The receiver hears of it at once (ABORT, bye), not after a time-out.
        t0 = time.monotonic()
        self.assertExit(pair.answer, 5, timeout=10)
        self.assertLess(time.monotonic() - t0, 5)
        name = signal.Signals(signum).name
        last = pair.answer.stderr.splitlines()[-1]
        match = re.fullmatch(rf"rtcpeer: channel: the remote was interrupted by {name} after (\d+) bytes to stdout;"
                             r" the output is incomplete", last)
        self.assertIsNotNone(match, last)
        written = assert_prefix(self, self.path("out"), src)
        self.assertGreater(written, MiB)
        self.assertLessEqual(written, int(match.group(1)))

    def test_sigterm_after_the_whole_stream_leaves_the_receiver_whole(self):
        """Interrupted once its end of file was delivered (waiting for the
        remote's), the sender cut nothing short: the receiver exits 0."""
        src = random_file(self.path("in"), MiB)
        idle_read, idle_write = os.pipe()  # the answerer's stdin: open, no data
        self.addCleanup(os.close, idle_write)
        pair = Pair(self, "unix-socket", offer_stdin=src, answer_stdin=idle_read, answer_stdout=self.path("out"))
        os.close(idle_read)
        wait_for(lambda: "EOF received" in pair.answer.stderr, 30, "the end of file at the receiver")
        pair.offer.signal(signal.SIGTERM)
        self.assertExit(pair.offer, 143, timeout=10)
        self.assertExit(pair.answer, 0, timeout=10)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))


if __name__ == "__main__":
    main()
