"""Shared helpers for rtcpeer's integration tests: real processes, loopback only."""

import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
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
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.popen.pid, os.WNOHANG)
            if pid != 0:
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                self.returncode = self.popen.returncode
                self.maxrss_kib = usage.ru_maxrss
                self.cpu_seconds = usage.ru_utime + usage.ru_stime
                self.elapsed = time.monotonic() - self._started
                for f in (self._stdin, self._stdout):
                    if hasattr(f, "close"):
                        f.close()
                return self.returncode
            if time.monotonic() > deadline:
                self.popen.kill()
                self.popen.wait()
                raise AssertionError(f"{self.args} still running after {timeout} s (killed)\n{self.stderr}")
            time.sleep(0.02)

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


def rtcpeer(*args, **kwargs):
    return Proc([RTCPEER, *args], **kwargs)


def interop_peer(*args, **kwargs):
    return Proc([SYSTEM_PYTHON, os.path.join(INTEROP, "aiortc_peer.py"), *args], **kwargs)


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    def tearDown(self):
        for p in self.procs:
            p.close()
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp, name)

    def start(self, *args, **kwargs):
        p = rtcpeer(*args, **kwargs)
        self.procs.append(p)
        return p

    def start_interop(self, *args, **kwargs):
        p = interop_peer(*args, **kwargs)
        self.procs.append(p)
        return p

    def assertExit(self, proc, code, timeout=60, message=None):
        rc = proc.wait(timeout)
        self.assertEqual(rc, code, f"{proc.args} exited {rc}, expected {code}\n--- stderr:\n{proc.stderr}")
        if message is not None:
            self.assertIn(message, proc.stderr)


def main():
    unittest.main(verbosity=2)
