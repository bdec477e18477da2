"""aiortc's own example programs against rtcpeer, run unchanged from where
Debian's python3-aiortc installs them: datachannel-filexfer and
datachannel-cli, over tcp-socket, unix-socket and copy-and-paste; and aiortc's
ICE answering rtcpeer's own checks on a working pair (RecheckTest).

The examples use aiortc's default configuration, which looks up a public STUN
server; so every process runs inside one of two network namespaces joined by a
veth pair with no route out (root only; otherwise the whole file is skipped).
The namespaces share the file system, so a unix socket, FIFOs and files work
between them. Every process gets a deadline, and its whole process group is
killed when the test ends."""

import fcntl
import json
import os
import pty
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import dtls_capture  # noqa: E402
from harness import RTCPEER, SYSTEM_PYTHON, main, random_file, sha256_file  # noqa: E402
from netns import TwoHostsTestCase, available  # noqa: E402

EXAMPLES = "/usr/share/doc/python3-aiortc/examples"
FILEXFER = os.path.join(EXAMPLES, "datachannel-filexfer", "filexfer.py")
CLI = os.path.join(EXAMPLES, "datachannel-cli", "cli.py")
MiB = 1 << 20
PORT = "4321"


class Group:
    """A process in a session (and process group) of its own, inside a
    namespace; output to files or pipes. wait() kills the group at its
    deadline; close() kills what is left of it."""

    def __init__(self, argv, stdin=None, stdout=None, stderr=None, env=None, preexec_fn=None):
        """stdin/stdout: None (/dev/null), a path, a descriptor or subprocess.PIPE."""
        self.args = [str(a) for a in argv]
        self.stderr_file = tempfile.TemporaryFile() if stderr is None else None
        opened = []

        def target(spec, mode):
            if spec is None:
                return subprocess.DEVNULL
            if isinstance(spec, str):
                opened.append(open(spec, mode))
                return opened[-1]
            return spec

        self.popen = subprocess.Popen(self.args, stdin=target(stdin, "rb"), stdout=target(stdout, "wb"),
                                      stderr=self.stderr_file if stderr is None else stderr, env=env,
                                      start_new_session=preexec_fn is None, preexec_fn=preexec_fn)
        for f in opened:
            f.close()
        self.returncode = None

    def kill_group(self):
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout):
        try:
            self.returncode = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_group()
            self.popen.wait()
            raise AssertionError(f"{' '.join(self.args[3:])} still running after {timeout} s (killed)\n"
                                 f"--- stderr:\n{self.stderr}")
        return self.returncode

    @property
    def stderr(self):
        if self.stderr_file is None:
            return ""
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf-8", "replace")

    def close(self):
        self.kill_group()
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        for f in (self.popen.stdin, self.popen.stdout):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        if self.stderr_file is not None:
            self.stderr_file.close()


def example_env():
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # their prints are read while they run
    return env


class Shuttle:
    """Carries signaling lines from a reader to a writer, as a user copying
    and pasting would: only the JSON lines, not the prompts around them."""

    def __init__(self, source, sink_opener, seen=None, owns_sink=False):
        """source: a file, or a function that opens one (closed at the end);
        sink_opener: gives the file to write to, when the first line is due."""
        self.lines = []
        self.seen = seen if seen is not None else []
        self._source = source
        self._sink_opener = sink_opener
        self._owns_sink = owns_sink
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        sink = None
        source = self._source() if callable(self._source) else self._source
        try:
            for raw in source:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                self.seen.append(line)
                if not line.startswith("{"):
                    continue
                self.lines.append(json.loads(line)["type"])
                if sink is None:
                    sink = self._sink_opener()
                sink.write((line + "\n").encode())
                sink.flush()
        except (OSError, ValueError):
            pass  # the reader is gone: the run is ending
        finally:
            if callable(self._source):
                source.close()
            if self._owns_sink and sink is not None:
                try:
                    sink.close()
                except OSError:
                    pass


class Keyboard:
    """Types into a pseudo-terminal (its master side)."""

    def __init__(self, fd):
        self.fd = fd

    def write(self, data):
        os.write(self.fd, data)

    def flush(self):
        pass


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class ExamplesTestCase(TwoHostsTestCase):
    tag = "x"

    def setUp(self):
        super().setUp()
        self.sig_path = self.path("sig.sock")

    def rtcpeer(self, ns, *args, **kwargs):
        p = Group(self.hosts.wrap(ns, [RTCPEER, *args]), **kwargs)
        self.procs.append(p)
        return p

    def example(self, ns, script, *args, **kwargs):
        kwargs.setdefault("env", example_env())
        p = Group(self.hosts.wrap(ns, [SYSTEM_PYTHON, script, *args]), **kwargs)
        self.procs.append(p)
        return p

    def signaling(self, kind):
        """Arguments for both sides: host A listens (the offerer's side)."""
        if kind == "tcp-socket":
            return ["-s", "tcp-socket", "--signaling-host", self.hosts.addr_a, "--signaling-port", PORT]
        return ["-s", "unix-socket", "--signaling-path", self.sig_path]

    def wait_listening(self, kind):
        """aiortc's examples connect once, without retrying."""
        if kind == "unix-socket":
            wait_for(lambda: os.path.exists(self.sig_path), 10, "the unix socket")
            return
        wait_for(lambda: f":{PORT} " in subprocess.run(self.hosts.wrap(self.hosts.a, ["ss", "-Hltn"]),
                                                        capture_output=True, text=True).stdout,
                 10, "the tcp-socket listener")

    def assertExit(self, proc, code, timeout):
        rc = proc.wait(timeout)
        self.assertEqual(rc, code, f"{' '.join(proc.args[3:])} exited {rc}, expected {code}\n"
                                   f"--- stderr:\n{proc.stderr}")


class FilexferTest(ExamplesTestCase):
    """datachannel-filexfer: `send` is the offerer (it sends the offer first,
    so it listens); `receive` is the answerer and waits for a bye after the
    file is in, whatever the remote does."""

    def example_sends(self, kind):
        src = random_file(self.path("in"), 3 * MiB + 11)
        sig = self.signaling(kind)
        sender = self.example(self.hosts.a, FILEXFER, "send", src, *sig)
        receiver = self.rtcpeer(self.hosts.b, "answer", *sig, "-v", stdout=self.path("out"))
        self.assertExit(receiver, 0, timeout=60)
        self.assertExit(sender, 0, timeout=20)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        self.assertIn('channel "filexfer" opened by the remote', receiver.stderr)
        self.assertIn("bye sent", receiver.stderr)

    def example_receives(self, kind):
        src = random_file(self.path("in"), 3 * MiB + 11)
        sig = self.signaling(kind)
        sender = self.rtcpeer(self.hosts.a, "offer", *sig, "-v", stdin=src)
        self.wait_listening(kind)
        receiver = self.example(self.hosts.b, FILEXFER, "receive", self.path("out"), *sig,
                                stdout=self.path("receiver.out"))
        self.assertExit(sender, 0, timeout=60)
        # It loops until a bye comes: rtcpeer answers its bye with one.
        self.assertExit(receiver, 0, timeout=20)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        self.assertIn("bye received", sender.stderr)
        self.assertIn("bye sent", sender.stderr)
        with open(self.path("receiver.out")) as f:
            printed = f.read()
        self.assertIn(f"received {3 * MiB + 11} bytes", printed)
        self.assertIn("Exiting", printed)

    def test_example_sends_tcp_socket(self):
        self.example_sends("tcp-socket")

    def test_example_sends_unix_socket(self):
        self.example_sends("unix-socket")

    def test_example_receives_tcp_socket(self):
        self.example_receives("tcp-socket")

    def test_example_receives_unix_socket(self):
        self.example_receives("unix-socket")


def stun_messages(pcap):
    """(source address, message type, transaction id) of each STUN message
    (RFC 5389 §6: the magic cookie at bytes 4-8) over IPv4, in capture order."""
    for (src, _), _, payload in dtls_capture.udp_payloads(pcap):
        if len(src) == 8 and len(payload) >= 20 and payload[4:8] == b"\x21\x12\xa4\x42":
            yield socket.inet_ntoa(bytes.fromhex(src)), struct.unpack("!H", payload[:2])[0], payload[8:20]


class RecheckTest(ExamplesTestCase):
    """rtcpeer's own connectivity checks (ice/binding_request.hpp), sent on
    its working pair while the remote is silent, as aiortc's ICE sees them.
    Host B drops every Binding success response until rtcpeer has asked
    again for 2 s: the example's checks go unanswered until one of its
    retransmissions, while rtcpeer's pair works at once and rtcpeer asks
    again every 0.5 s. aioice checks each request's USERNAME,
    MESSAGE-INTEGRITY and FINGERPRINT, and answers a good one with a success
    response, a bad one with an error."""

    BINDING_REQUEST, BINDING_SUCCESS, BINDING_ERROR = 0x0001, 0x0101, 0x0111

    def test_example_answers_rtcpeers_rechecks(self):
        src = random_file(self.path("in"), MiB)
        sig = self.signaling("tcp-socket")
        pcap = self.path("a.pcap")
        capture = dtls_capture.Capture(self.hosts.a, f"{self.hosts.a}v", pcap)
        self.hosts.drop_stun_answers(self.hosts.b)
        try:
            sender = self.rtcpeer(self.hosts.a, "offer", *sig, "-v", stdin=src)
            self.wait_listening("tcp-socket")
            receiver = self.example(self.hosts.b, FILEXFER, "receive", self.path("out"), *sig,
                                    stdout=self.path("receiver.out"))
            # The answers come back once rtcpeer has asked again a few times,
            # in time for one of the example's retransmissions (its last goes
            # 15.5 s after its first).
            wait_for(lambda: "checking it again" in sender.stderr, 30, "rtcpeer's own checks")
            time.sleep(2)
            self.hosts.allow_stun_answers(self.hosts.b)
            self.assertExit(sender, 0, timeout=60)
            self.assertExit(receiver, 0, timeout=20)
        finally:
            self.hosts.allow_stun_answers(self.hosts.b)
            capture.stop()
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        messages = list(stun_messages(pcap))
        from_example = [(kind, tid) for source, kind, tid in messages if source == self.hosts.addr_b]
        errors = [tid for kind, tid in from_example if kind == self.BINDING_ERROR]
        self.assertEqual(len(errors), 0, "aioice refused some of rtcpeer's Binding requests")
        answered = {tid for kind, tid in from_example if kind == self.BINDING_SUCCESS}
        # libnice stops checking once its pair works: the requests sent
        # after rtcpeer's first success response are rtcpeer's own.
        rechecks, working = [], False
        for source, kind, tid in messages:
            if source == self.hosts.addr_b and kind == self.BINDING_SUCCESS:
                working = True
            elif source == self.hosts.addr_a and kind == self.BINDING_REQUEST and working:
                rechecks.append(tid)
        print(f"{len(messages)} STUN messages captured; rtcpeer's rechecks: {len(rechecks)}, "
              f"answered {sum(tid in answered for tid in rechecks)}", flush=True)
        self.assertGreaterEqual(len(rechecks), 3, f"{len(messages)} STUN messages captured")
        unanswered = [tid.hex() for tid in rechecks if tid not in answered]
        self.assertFalse(unanswered, f"{len(unanswered)} of {len(rechecks)} rechecks got no success response")
        dtls_capture.remove(pcap)


class CopyAndPasteTest(ExamplesTestCase):
    """The examples' copy-and-paste reads the remote's messages on stdin and
    prints its own, between prompts, on stdout; rtcpeer goes through FIFOs
    (--signaling-input/--signaling-output). The test carries the JSON lines
    across as a user would."""

    def fifos(self):
        to_rtcpeer, from_rtcpeer = self.path("to-rtcpeer"), self.path("from-rtcpeer")
        os.mkfifo(to_rtcpeer)
        os.mkfifo(from_rtcpeer)
        return to_rtcpeer, from_rtcpeer, ["--signaling-input", to_rtcpeer, "--signaling-output", from_rtcpeer]

    def connect(self, example, to_rtcpeer, from_rtcpeer):
        """Example stdout -> rtcpeer's input FIFO; rtcpeer's output FIFO -> example stdin."""
        out = Shuttle(example.popen.stdout, lambda: open(to_rtcpeer, "wb"), owns_sink=True)
        back = Shuttle(lambda: open(from_rtcpeer, "rb"), lambda: example.popen.stdin)
        return out, back

    def test_example_sends_copy_and_paste(self):
        src = random_file(self.path("in"), 2 * MiB + 3)
        to_rtcpeer, from_rtcpeer, fifo_args = self.fifos()
        sender = self.example(self.hosts.a, FILEXFER, "send", src, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        receiver = self.rtcpeer(self.hosts.b, "answer", *fifo_args, "-v", stdout=self.path("out"))
        out, back = self.connect(sender, to_rtcpeer, from_rtcpeer)
        self.assertExit(receiver, 0, timeout=60)
        self.assertExit(sender, 0, timeout=20)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        self.assertEqual(back.lines, ["answer", "bye"])
        self.assertEqual(out.lines[0], "offer")

    def test_example_receives_copy_and_paste(self):
        src = random_file(self.path("in"), 2 * MiB + 3)
        to_rtcpeer, from_rtcpeer, fifo_args = self.fifos()
        sender = self.rtcpeer(self.hosts.a, "offer", *fifo_args, "-v", stdin=src)
        receiver = self.example(self.hosts.b, FILEXFER, "receive", self.path("out"), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        out, back = self.connect(receiver, to_rtcpeer, from_rtcpeer)
        self.assertExit(sender, 0, timeout=60)
        self.assertExit(receiver, 0, timeout=20)
        self.assertEqual(sha256_file(self.path("out")), sha256_file(src))
        # The example says bye once the file is in; rtcpeer answers with its own.
        self.assertEqual(out.lines[:2], ["answer", "bye"])
        self.assertEqual(back.lines, ["offer", "bye"])


class CliTest(ExamplesTestCase):
    """datachannel-cli: the offerer opens channel "chat" and sends "ping
    <stamp>" every second; the answerer answers "pong <stamp>". Neither ever
    sends an end of file: they leave on a bye."""

    def test_example_pings_rtcpeer_lines(self):
        sig = self.signaling("unix-socket")
        cli = self.example(self.hosts.a, CLI, "offer", *sig, stdout=self.path("cli.out"))
        peer = self.rtcpeer(self.hosts.b, "answer", *sig, "--lines", "--eof-wait", "1", "-v",
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        pings = []
        for _ in range(3):
            line = peer.popen.stdout.readline().decode().rstrip("\n")
            self.assertRegex(line, r"^ping \d+$")
            pings.append(line)
            peer.popen.stdin.write(("pong" + line[4:] + "\n").encode())
            peer.popen.stdin.flush()
        peer.popen.stdin.close()
        self.assertExit(peer, 0, timeout=30)
        self.assertExit(cli, 0, timeout=20)
        with open(self.path("cli.out")) as f:
            printed = f.read()
        self.assertEqual(len(re.findall(r"^ RTT [0-9.]+ ms$", printed, re.M)), 3, printed)
        self.assertIn("Exiting", printed)

    def test_rtcpeer_lines_pings_example(self):
        sig = self.signaling("tcp-socket")
        peer = self.rtcpeer(self.hosts.a, "offer", *sig, "--lines", "--eof-wait", "1", "-v",
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.wait_listening("tcp-socket")
        cli = self.example(self.hosts.b, CLI, "answer", *sig, stdout=self.path("cli.out"))
        for n in range(1, 4):
            peer.popen.stdin.write(f"ping {n}\n".encode())
            peer.popen.stdin.flush()
            self.assertEqual(peer.popen.stdout.readline().decode(), f"pong {n}\n")
        peer.popen.stdin.close()
        self.assertExit(peer, 0, timeout=30)
        self.assertExit(cli, 0, timeout=20)
        with open(self.path("cli.out")) as f:
            printed = f.read()
        self.assertIn("channel(rtcpeer) < ping 3", printed)
        self.assertIn("Exiting", printed)

    def test_rtcpeer_check_against_example_answer(self):
        sig = self.signaling("tcp-socket")
        peer = self.rtcpeer(self.hosts.a, "offer", *sig, "--check", "--count", "3", "-v",
                            stdout=self.path("check.json"))
        self.wait_listening("tcp-socket")
        cli = self.example(self.hosts.b, CLI, "answer", *sig, stdout=self.path("cli.out"))
        # The example answers every ping and never sends an end of file.
        self.assertExit(peer, 0, timeout=30)
        self.assertExit(cli, 0, timeout=20)
        with open(self.path("check.json")) as f:
            result = json.loads(f.read())
        self.assertEqual(result["result"], "ok")
        self.assertEqual(result["exit_code"], 0)
        self.assertTrue(result["remote_answered"])
        self.assertEqual(result["rtt_ms"]["count"], 3)
        self.assertEqual(result["selected_pair"]["local"]["address"], self.hosts.addr_a)
        with open(self.path("cli.out")) as f:
            self.assertIn("Exiting", f.read())

    def test_rtcpeer_check_answers_example_offer(self):
        """The example's channel is no check channel: the set-up is measured."""
        sig = self.signaling("unix-socket")
        cli = self.example(self.hosts.a, CLI, "offer", *sig, stdout=self.path("cli.out"))
        peer = self.rtcpeer(self.hosts.b, "answer", *sig, "--check", "-v",
                            stdout=self.path("check.json"))
        self.assertExit(peer, 0, timeout=30)
        self.assertExit(cli, 0, timeout=20)
        with open(self.path("check.json")) as f:
            result = json.loads(f.read())
        self.assertEqual(result["result"], "ok")
        self.assertFalse(result["remote_answered"])
        self.assertIsNotNone(result["timings_ms"]["channel_open"])
        self.assertIn("only the set-up is measured", peer.stderr)


class TerminalTest(ExamplesTestCase):
    """Interactive copy-and-paste: rtcpeer's stdin, stderr and signaling are
    one terminal (a pseudo-terminal here, without echo), and the example's
    messages are pasted into it. Once the example's answer is in, what is
    typed is data; once stdin ended (Ctrl-D), a bye may be pasted again."""

    def rtcpeer_on_terminal(self, *args):
        master, slave = pty.openpty()
        slave_name = os.ttyname(slave)
        # No echo: what is pasted must not come back as if rtcpeer printed it.
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(slave, termios.TCSANOW, attrs)

        def controlling_terminal():
            os.setsid()
            fd = os.open(slave_name, os.O_RDWR)  # the session's controlling terminal
            fcntl.ioctl(fd, termios.TIOCSCTTY, 0)
            os.close(fd)

        self.addCleanup(os.close, master)
        peer = self.rtcpeer(self.hosts.a, "offer", *args, stdin=slave, stdout=subprocess.PIPE, stderr=slave,
                            preexec_fn=controlling_terminal)
        os.close(slave)
        return peer, master

    def paste_between(self, master, example):
        """What rtcpeer prints on the terminal goes to the example's stdin;
        what the example prints is typed into the terminal."""
        terminal_seen, example_seen = [], []
        keyboard = Keyboard(master)
        to_example = Shuttle(os.fdopen(master, "rb", buffering=0, closefd=False), lambda: example.popen.stdin,
                             seen=terminal_seen)
        from_example = Shuttle(example.popen.stdout, lambda: keyboard, seen=example_seen)
        return keyboard, to_example, from_example, terminal_seen, example_seen

    def test_typed_line_after_the_answer_is_data(self):
        peer, master = self.rtcpeer_on_terminal("--lines", "--eof-wait", "1", "-v")
        cli = self.example(self.hosts.b, CLI, "answer", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        keyboard, to_cli, from_cli, terminal_seen, cli_seen = self.paste_between(master, cli)
        wait_for(lambda: any("created by remote party" in l for l in cli_seen), 30,
                 "the example's channel to open")
        keyboard.write(b"ping 7\n")
        self.assertEqual(peer.popen.stdout.readline().decode(), "pong 7\n", "\n".join(terminal_seen))
        keyboard.write(b"\x04")  # Ctrl-D: the end of stdin
        self.assertExit(peer, 0, timeout=20)
        self.assertExit(cli, 0, timeout=20)
        self.assertIn("Signaling complete; the terminal is yours", "\n".join(terminal_seen))
        self.assertEqual(to_cli.lines, ["offer", "bye"])
        self.assertEqual(from_cli.lines[0], "answer")
        self.assertIn("channel(rtcpeer) < ping 7", "\n".join(cli_seen))

    def test_typed_file_to_example_ends_with_pasted_byes(self):
        """filexfer receive says bye once the file is in and waits for one:
        after Ctrl-D its bye is pasted into rtcpeer, and rtcpeer's back."""
        peer, master = self.rtcpeer_on_terminal("-v")
        receiver = self.example(self.hosts.b, FILEXFER, "receive", self.path("out"), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        keyboard, to_example, from_example, terminal_seen, _ = self.paste_between(master, receiver)
        wait_for(lambda: any("the terminal is yours" in l for l in terminal_seen), 30, "the end of signaling")
        keyboard.write(b"typed, not pasted\n")
        keyboard.write(b"\x04")
        self.assertExit(peer, 0, timeout=30)
        self.assertExit(receiver, 0, timeout=20)
        with open(self.path("out"), "rb") as f:
            self.assertEqual(f.read(), b"typed, not pasted\n")
        # Its own bye, then one more as it closes (aiortc's signaling does).
        self.assertEqual(from_example.lines[:2], ["answer", "bye"])
        self.assertEqual(to_example.lines, ["offer", "bye"])
        self.assertIn("a bye from the remote party may be pasted", "\n".join(terminal_seen))


if __name__ == "__main__":
    reason = available()
    if reason is None and not (os.path.exists(FILEXFER) and os.path.exists(CLI)):
        reason = "aiortc's examples are not installed (Debian's python3-aiortc)"
    if reason:
        print(f"SKIP: {reason}")
        sys.exit(77)
    main()
