"""The command line as a user meets it: what rtcpeer says while it waits, the
-v progress line on a terminal, usage errors, checks made before signaling,
host names that do not resolve, and the man page against --help."""

import os
import re
import shutil
import socket
import subprocess
import time

import netns
from harness import LOOPBACK, RTCPEER, ROOT, TestCase, main, random_file

MAN_PAGE = os.path.join(ROOT, "man", "rtcpeer.1")


class WaitingTest(TestCase):
    """The connecting side tells, once, what it waits for and that it retries."""

    def test_answer_with_nobody_listening_says_so_once(self):
        sock = self.path("nobody.sock")
        answer = self.start("answer", "-s", "unix-socket", "--signaling-path", sock,
                            "--signaling-timeout", "3")
        self.assertExit(answer, 3, timeout=20)
        expected = (f"rtcpeer: waiting for the offerer to listen on unix-socket {sock} "
                    "(No such file or directory); retrying for up to 3 s\n")
        self.assertEqual(answer.stderr.count(expected), 1, answer.stderr)
        # Said about a second in, not at the end.
        self.assertTrue(answer.stderr.startswith(expected), answer.stderr)

    def test_default_limit_is_named_and_quiet_silences_it(self):
        port = str(_closed_port())
        answer = self.start("answer", "-s", "tcp-socket", "--signaling-port", port)
        deadline = time.monotonic() + 10
        while "waiting for" not in answer.stderr and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn(f"rtcpeer: waiting for the offerer to listen on tcp-socket 127.0.0.1:{port} "
                      "(Connection refused); retrying for up to 30 s\n", answer.stderr)
        answer.kill()
        quiet = self.start("answer", "-q", "-s", "tcp-socket", "--signaling-port", port,
                           "--signaling-timeout", "2")
        self.assertExit(quiet, 3, timeout=20)
        self.assertNotIn("waiting for", quiet.stderr)

    def test_no_notice_when_the_offerer_comes_soon(self):
        sock = self.path("sig.sock")
        sig = ["-s", "unix-socket", "--signaling-path", sock, *LOOPBACK]
        answer = self.start("answer", *sig, stdout=self.path("out"))
        time.sleep(0.3)
        offer = self.start("offer", *sig)
        self.assertExit(offer, 0)
        self.assertExit(answer, 0)
        self.assertNotIn("waiting for", answer.stderr)


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProgressLineTest(TestCase):
    """On a terminal, -v's progress line and the log lines never run together."""

    def test_log_lines_do_not_run_into_the_progress_line(self):
        sock = self.path("sig.sock")
        sig = ["-s", "unix-socket", "--signaling-path", sock, *LOOPBACK]
        answer = self.start("answer", *sig, stdout=self.path("out"))
        offer = self.start_on_terminal("offer", *sig, "-v")
        try:
            offer.proc.stdin.write(os.urandom(200_000))
            offer.proc.stdin.flush()
            # The progress line is drawn every second once the channel is open;
            # "EOF sent" comes while it is on screen.
            deadline = time.monotonic() + 20
            while b"rtcpeer: sent" not in offer.screen and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.2)
            offer.proc.stdin.close()
            self.assertEqual(offer.proc.wait(60), 0)
        finally:
            offer.close()
        self.assertExit(answer, 0)
        text = offer.screen.decode("utf-8", "replace")
        self.assertIn("rtcpeer: sent", text)
        self.assertIn("EOF sent", text)
        for match in re.finditer(r"rtcpeer: \[", text):
            before = text[:match.start()]
            self.assertTrue(before == "" or before.endswith("\n") or before.endswith("\r\x1b[K"),
                            f"log line glued to what came before: {text[max(0, match.start() - 80):match.end() + 30]!r}")
        # The screen ends with a finished line.
        self.assertTrue(text.endswith("\n"), repr(text[-120:]))


def usage_line(test, *args, code=2):
    """Runs rtcpeer, expects exit `code` and one line on stderr; returns it."""
    p = test.start(*args)
    test.assertExit(p, code, timeout=10)
    lines = p.stderr.splitlines()
    test.assertEqual(len(lines), 1, p.stderr)
    return lines[0]


class UsageTest(TestCase):
    def run_usage(self, *args):
        return usage_line(self, *args)

    def test_errors_name_the_option_role_or_value(self):
        self.assertEqual(self.run_usage("answer", "--bogus"),
                         "rtcpeer: usage: unknown option --bogus (see rtcpeer answer --help)")
        self.assertEqual(self.run_usage("--bogus"),
                         "rtcpeer: usage: unknown option --bogus (see rtcpeer --help)")
        self.assertEqual(self.run_usage("offre"),
                         "rtcpeer: usage: unknown role offre: expected offer or answer (see rtcpeer --help)")
        self.assertIn("--signaling-port: abc is not a port number (1 to 65535)",
                      self.run_usage("offer", "-s", "tcp-socket", "--signaling-port", "abc"))
        self.assertEqual(self.run_usage("offer", "--signaling-port", "4000"),
                         "rtcpeer: usage: --signaling-port goes with -s tcp-socket, not with copy-and-paste")
        self.assertIn("--signaling-path goes with -s unix-socket",
                      self.run_usage("-s", "tcp-socket", "--signaling-path", "x", "answer"))

    def test_options_before_the_role(self):
        # As aiortc's examples take them: cli.py -s tcp-socket offer.
        sock = self.path("sig.sock")
        data = random_file(self.path("in"), 300_000)
        offer = self.start("-s", "unix-socket", "--signaling-path", sock, *LOOPBACK, "offer",
                           stdin=data)
        answer = self.start("--signaling-path", sock, "answer", "-s", "unix-socket", *LOOPBACK,
                            stdout=self.path("out"))
        self.assertExit(offer, 0)
        self.assertExit(answer, 0)
        with open(data, "rb") as a, open(self.path("out"), "rb") as b:
            self.assertEqual(a.read(), b.read())


class BeforeSignalingTest(TestCase):
    """What can be checked is checked before anything listens or connects."""

    def test_unwritable_stats_path(self):
        sock = self.path("sig.sock")
        started = time.monotonic()
        line = usage_line(self, "offer", "-s", "unix-socket", "--signaling-path", sock,
                                   "--stats", self.path("no/such/dir/stats.json"))
        self.assertEqual(line, f"rtcpeer: usage: --stats {self.path('no/such/dir/stats.json')}: "
                               "No such file or directory")
        self.assertLess(time.monotonic() - started, 5)
        self.assertFalse(os.path.exists(sock), "signaling started")
        line = usage_line(self, "answer", "--stats", self.tmp)
        self.assertIn("is a directory", line)

    def test_stats_file_is_written_at_exit_and_not_left_by_the_check(self):
        sock = self.path("sig.sock")
        sig = ["-s", "unix-socket", "--signaling-path", sock, *LOOPBACK]
        stats = self.path("stats.json")
        offer = self.start("offer", *sig, "--stats", stats, "--signaling-timeout", "1")
        self.assertExit(offer, 3, timeout=20)
        with open(stats) as f:
            self.assertIn('"exit_code":3', f.read().replace(" ", ""))

    def test_directory_as_stdin(self):
        sock = self.path("sig.sock")
        started = time.monotonic()
        p = self.start("offer", "-s", "unix-socket", "--signaling-path", sock,
                       stdin=os.open(self.tmp, os.O_RDONLY | os.O_DIRECTORY))
        self.assertExit(p, 1, timeout=10)
        self.assertEqual(p.stderr, "rtcpeer: stdin: cannot read: is a directory\n")
        self.assertLess(time.monotonic() - started, 5)
        self.assertFalse(os.path.exists(sock), "signaling started")


# A name lookup needs a DNS server; the test runs rtcpeer in a network
# namespace of its own whose resolv.conf names 127.0.0.1 there, so that no
# query leaves the machine. ip netns exec mounts /etc/netns/NS/resolv.conf.
DNS_NXDOMAIN = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    query, peer = s.recvfrom(4096)
    if len(query) < 12:
        continue
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    end += 5  # the root label, QTYPE, QCLASS
    flags = bytes([0x80 | (query[2] & 0x01), 0x83])  # response, RD as asked, RA, NXDOMAIN
    s.sendto(query[:2] + flags + b"\x00\x01\x00\x00\x00\x00\x00\x00" + query[12:end], peer)
"""


class HostNameTest(TestCase):
    """One rule for --signaling-host, --stun and --turn: a name that does not
    exist is a usage error (2); a lookup that cannot be made is exit 1."""

    def setUp(self):
        super().setUp()
        reason = netns.available()
        if reason:
            self.skipTest(reason)
        self.ns = f"rtcli{os.getpid() % 100000}"
        self.etc = f"/etc/netns/{self.ns}"
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        self.dns = None

    def tearDown(self):
        if self.dns is not None:
            self.dns.kill()
            self.dns.wait()
        super().tearDown()
        shutil.rmtree(self.etc, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", self.ns], stderr=subprocess.DEVNULL)

    def run_in_ns(self, *args):
        p = subprocess.run(["ip", "netns", "exec", self.ns, RTCPEER, *args], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        return p.returncode, p.stderr.decode()

    def cases(self):
        return [
            (["answer", "-s", "tcp-socket", "--signaling-host", "nosuch.invalid"],
             "rtcpeer: signaling: cannot resolve --signaling-host nosuch.invalid: "),
            (["offer", "-s", "unix-socket", "--signaling-path", self.path("s.sock"), "--stun",
              "stun:nosuch.invalid"],
             "rtcpeer: ice: cannot resolve --stun stun:nosuch.invalid:3478: "),
            (["offer", "-s", "unix-socket", "--signaling-path", self.path("s.sock"), "--turn",
              "turn:u:p@nosuch.invalid"],
             "rtcpeer: ice: cannot resolve --turn turn:nosuch.invalid:3478"),
        ]

    def test_a_name_that_does_not_exist_is_a_usage_error(self):
        self.dns = subprocess.Popen(["ip", "netns", "exec", self.ns, "python3", "-c", DNS_NXDOMAIN],
                                    stdout=subprocess.PIPE)
        self.assertEqual(self.dns.stdout.readline().strip(), b"ready")
        for args, message in self.cases():
            code, stderr = self.run_in_ns(*args)
            self.assertEqual(code, 2, f"{args}: {stderr}")
            self.assertTrue(stderr.startswith(message), stderr)
            self.assertEqual(len(stderr.splitlines()), 1, stderr)
            self.assertFalse(os.path.exists(self.path("s.sock")), "signaling started")

    def test_a_lookup_that_cannot_be_made_is_a_runtime_failure(self):
        # Nothing answers on 127.0.0.1:53 in the namespace.
        for args, message in self.cases():
            code, stderr = self.run_in_ns(*args)
            self.assertEqual(code, 1, f"{args}: {stderr}")
            self.assertTrue(stderr.startswith(message), stderr)
            self.assertEqual(len(stderr.splitlines()), 1, stderr)


def help_options(text):
    """Each option of --help as the set of its names: {"-s", "--signaling"}."""
    found = []
    for line in text.splitlines():
        m = re.match(r"\s+((?:-[\w-]+,)*-[\w-]+)", line)
        if m:
            found.append(frozenset(m.group(1).split(",")))
    return found


def man_options(text, section):
    """The options a section of the man page names with Fl."""
    body = re.search(rf"^\.Sh {section}\n(.*?)(?=^\.Sh )", text, re.S | re.M).group(1)
    found = set()
    for line in body.splitlines():
        # "Fl s", "Fl \-signaling", and alternatives: ".Op Fl v | q",
        # ".Op Fl \-trickle | \-no-trickle" (not "Cm all | relay").
        for m in re.finditer(r"\bFl (\\?-?[\w-]+(?: \| \\?-?[\w-]+)*)", line):
            for name in m.group(1).split(" | "):
                found.add("-" + name.replace("\\", ""))
    return found


class ManPageTest(TestCase):
    """Every option of --help is in the man page's SYNOPSIS and OPTIONS, and
    every option they name exists."""

    def setUp(self):
        super().setUp()
        self.help = help_options(subprocess.run([RTCPEER, "offer", "--help"], check=True,
                                                capture_output=True, text=True).stdout)
        self.names = set().union(*self.help)
        with open(MAN_PAGE) as f:
            self.man = f.read()
        self.assertIn("--signaling-port", self.names)
        self.assertIn("-4", self.names)

    def test_options_section_matches_help(self):
        documented = man_options(self.man, "OPTIONS")
        self.assertEqual(sorted(self.names - documented), [], "in --help, not in OPTIONS")
        self.assertEqual(sorted(documented - self.names), [], "in OPTIONS, not in --help")

    def test_synopsis_matches_help(self):
        # One name of each option is enough there: -s for -s, --signaling.
        synopsis = man_options(self.man, "SYNOPSIS")
        missing = [sorted(names) for names in self.help
                   if not names & synopsis and names != {"-h", "--help"}]
        self.assertEqual(missing, [], "in --help, not in SYNOPSIS")
        self.assertEqual(sorted(synopsis - self.names), [], "in SYNOPSIS, not in --help")


if __name__ == "__main__":
    main()
