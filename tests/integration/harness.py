"""Shared helpers for rtcpeer's integration tests: real processes, loopback only."""

import hashlib
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RTCPEER = os.environ.get("RTCPEER", os.path.join(ROOT, "build", "rtcpeer"))
# Debian's python3-aiortc lives in the system interpreter.
SYSTEM_PYTHON = "/usr/bin/python3"
INTEROP = os.path.join(ROOT, "tests", "interop")
LOOPBACK = ["--host-address", "127.0.0.1"]


class Proc:
    """A child process with its stderr in a file and its resource usage kept."""

    def __init__(self, args, stdin=None, stdout=None, env=None, cwd=None):
        self.args = [str(a) for a in args]
        self._stderr = tempfile.TemporaryFile()
        self._stdin = self._open(stdin, "rb")
        self._stdout = self._open(stdout, "wb")
        self.popen = subprocess.Popen(self.args, stdin=self._stdin, stdout=self._stdout,
                                      stderr=self._stderr, env=env, cwd=cwd)
        self.returncode = None
        self.maxrss_kib = None
        self.cpu_seconds = None
        self.elapsed = None
        self._started = time.monotonic()

    @staticmethod
    def _open(target, mode):
        if target is None:
            return subprocess.DEVNULL
        if isinstance(target, (str, os.PathLike)):
            return open(target, mode)
        return target

    @property
    def pid(self):
        return self.popen.pid

    def wait(self, timeout=60):
        """Waits for exit; a process that outlives timeout is killed and fails the test."""
        if self.returncode is not None:
            return self.returncode
        if self.popen.returncode is not None:  # already reaped by popen.poll()
            self.returncode = self.popen.returncode
            return self.returncode
        deadline = time.monotonic() + timeout
        while not self.exited(max(0.0, min(1.0, deadline - time.monotonic()))):
            if time.monotonic() > deadline:
                self.popen.kill()
                self.popen.wait()
                raise AssertionError(f"{self.args} still running after {timeout} s (killed)\n{self.stderr}")
        _, status, usage = os.wait4(self.popen.pid, 0)
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        self.returncode = self.popen.returncode
        self.maxrss_kib = usage.ru_maxrss
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.elapsed = time.monotonic() - self._started
        for f in (self._stdin, self._stdout):
            if hasattr(f, "close"):
                f.close()
        return self.returncode

    def exited(self, timeout):
        """Whether the process has exited within timeout seconds, without
        reaping it. Woken by the exit itself (a pidfd), not by polling: a poll
        every 20 ms rounded every short run (a --check pair in scripts/bench)
        up to the next 20 ms."""
        pidfd = os.pidfd_open(self.popen.pid)
        try:
            return bool(select.select([pidfd], [], [], timeout)[0])
        finally:
            os.close(pidfd)

    def signal(self, signum=signal.SIGTERM):
        self.popen.send_signal(signum)

    def kill(self):
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def close(self):
        self.kill()
        self._stderr.close()

    @property
    def stderr(self):
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")


class Terminal:
    """rtcpeer with its stderr on a pseudo-terminal, as an interactive shell
    gives it, its stdin a pipe the test writes (proc.stdin) and its stdout
    discarded. `screen` collects what it draws on the terminal."""

    def __init__(self, args):
        self._master, slave = pty.openpty()
        self.proc = subprocess.Popen([RTCPEER, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        self.screen = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO once the last writer is gone
                return
            if not data:
                return
            self.screen.extend(data)

    def close(self):
        """Kills rtcpeer if it still runs, then reads what is left."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._master >= 0:
            self._reader.join(10)
            os.close(self._master)
            self._master = -1


def rtcpeer(*args, **kwargs):
    return Proc([RTCPEER, *args], **kwargs)


def interop_peer(*args, **kwargs):
    return Proc([SYSTEM_PYTHON, os.path.join(INTEROP, "aiortc_peer.py"), *args], **kwargs)


def wait_for(predicate, timeout=10, what="the condition"):
    """Polls predicate until it returns something true, which is returned;
    fails the test with `what` once timeout seconds pass without it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.02)


class Feeder:
    """A pipe for a child's stdin, written by a thread of the test: the file
    at `rate` bytes per second (None: as fast as the reader takes it), then,
    with hold_open, nothing until close() (an open stdin without data). No
    process of its own, so nothing outlives the test."""

    def __init__(self, path, rate=None, hold_open=True, chunk=64 * 1024):
        self.read_fd, self._write_fd = os.pipe()
        self.fed = 0
        self._stop = threading.Event()
        self._hold_open = hold_open
        self._thread = threading.Thread(target=self._run, args=(path, rate, chunk), daemon=True)
        self._thread.start()

    def _run(self, path, rate, chunk):
        started = time.monotonic()
        try:
            with open(path, "rb") as f:
                while not self._stop.is_set():
                    data = f.read(chunk)
                    if not data:
                        break
                    os.write(self._write_fd, data)  # blocks while the reader is full
                    self.fed += len(data)
                    if rate:
                        ahead = self.fed / rate - (time.monotonic() - started)
                        if ahead > 0:
                            self._stop.wait(ahead)
            if self._hold_open:
                self._stop.wait()
        except OSError:
            pass  # the reader went away
        finally:
            self._close_write_end()

    def _close_write_end(self):
        fd, self._write_fd = self._write_fd, -1
        if fd >= 0:
            os.close(fd)

    def release_read_end(self):
        """Closes the test's copy of the read end once the child has its own."""
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1

    def close(self):
        self._stop.set()
        self.release_read_end()  # a write blocked on a full pipe fails with EPIPE
        self._thread.join(5)


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_json(path):
    """The one JSON line that --check or --stats wrote to `path`."""
    with open(path) as f:
        text = f.read()
    lines = text.splitlines()
    assert len(lines) == 1, f"expected one JSON line, got {text!r}"
    return json.loads(lines[0])


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def random_file(path, size):
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
    return path


class TestCase(unittest.TestCase):
    """Gives each test a scratch folder and kills stray processes."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="rtcpeer-test-")
        self.tmp = self._tmp.name
        self.procs = []
        self.feeders = []

    def tearDown(self):
        for p in self.procs:
            p.close()
        for f in self.feeders:
            f.close()
        self._tmp.cleanup()

    def feeder(self, path, rate=None, hold_open=True):
        f = Feeder(path, rate, hold_open)
        self.feeders.append(f)
        return f

    def path(self, name):
        return os.path.join(self.tmp, name)

    def start(self, *args, **kwargs):
        p = rtcpeer(*args, **kwargs)
        self.procs.append(p)
        return p

    def start_on_terminal(self, *args):
        t = Terminal(args)
        self.procs.append(t)
        return t

    def start_interop(self, *args, **kwargs):
        p = interop_peer(*args, **kwargs)
        self.procs.append(p)
        return p

    def assertFailedAt(self, path, stage, exit_code=3):
        """The JSON line at `path` says the run failed in `stage` with
        `exit_code`; returns it."""
        result = read_json(path)
        self.assertEqual(result["result"], "failed")
        self.assertEqual(result["exit_code"], exit_code)
        self.assertEqual(result["failure"]["stage"], stage)
        return result

    def assertExit(self, proc, code, timeout=60, message=None):
        rc = proc.wait(timeout)
        self.assertEqual(rc, code, f"{proc.args} exited {rc}, expected {code}\n--- stderr:\n{proc.stderr}")
        if message is not None:
            self.assertIn(message, proc.stderr)


def main():
    """Runs the file's tests. Meson's exit-code protocol knows OK, SKIP and
    FAIL for a whole file: a file in which a test was skipped (root or a
    tool missing) reports SKIP (77) rather than OK, so that a partial run is
    never counted as a full one; a failure still reports FAIL."""
    program = unittest.main(verbosity=2, exit=False)
    result = program.result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped:
        reasons = sorted({reason for _, reason in result.skipped})
        print(f"SKIP: {len(result.skipped)} of {result.testsRun} tests skipped ({'; '.join(reasons)})")
        sys.exit(77)
    sys.exit(0)
