#!/usr/bin/env python3
"""The Debian package: `dpkg-buildpackage -b -us -uc` on a copy of the source
tree builds rtcpeer_<version>_<arch>.deb, lintian finds nothing to report in
it or in the source package, and once installed with dpkg the program runs,
`man rtcpeer` shows its page and two installed binaries move data over
loopback.

Usage: test_package.py SOURCE_DIR

Needs root (dpkg -i) and dpkg-buildpackage; exits 77 (skipped) without them.
The package is removed again at the end unless it was installed before. The
build's own tests never run rtcpeer from PATH ($RTCPEER names the binary they
test), so an installed /usr/bin/rtcpeer does not change what they test.
"""

import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

SOURCE = None
# A fixed place: one run at a time (see LOCK), and the same compiler command
# lines on every run, so that ccache, where present, can serve them.
WORK = "/var/tmp/rtcpeer-package-test"
LOCK = "/run/lock/rtcpeer-package-test.lock"
PACKAGE = "rtcpeer"
SIZE = 4 << 20


def run(args, timeout=120, check=True, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def is_installed():
    done = run(["dpkg-query", "-W", "-f=${Status}", PACKAGE], check=False)
    return done.returncode == 0 and done.stdout.endswith("install ok installed")


def dpkg(*args):
    """dpkg, waiting while another apt-get or dpkg holds the lock."""
    deadline = time.monotonic() + 300
    while True:
        done = run(["dpkg", *args], timeout=300, check=False)
        if done.returncode == 0:
            return done
        if "lock" not in done.stderr or time.monotonic() > deadline:
            raise AssertionError(f"dpkg {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
        time.sleep(2)


def copy_source(source, target):
    """The source tree without build directories, VCS data or fetched wraps."""
    def ignore(directory, names):
        skipped = {".git", "__pycache__"}
        for name in names:
            path = os.path.join(directory, name)
            if os.path.isdir(path) and os.path.exists(os.path.join(path, "meson-private")):
                skipped.add(name)  # a meson build directory, wherever it is
            if os.path.basename(directory) == "subprojects" and os.path.isdir(path):
                skipped.add(name)  # unpacked or cached wraps
        return skipped
    shutil.copytree(source, target, symlinks=True, ignore=ignore)


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.installed_before = None
        cls._lock = open(LOCK, "w")
        fcntl.flock(cls._lock, fcntl.LOCK_EX)
        # Runs even when this set-up fails half-way (after dpkg -i, say).
        cls.addClassCleanup(cls.clean_up)
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        cls.tree = os.path.join(WORK, PACKAGE)
        copy_source(SOURCE, cls.tree)
        cls.version = run(["dpkg-parsechangelog", "-S", "Version"], cwd=cls.tree).stdout.strip()
        # The source package too (from the clean tree), so that lintian also
        # checks debian/control, debian/copyright and the rest of debian/.
        run(["dpkg-source", "-b", PACKAGE], cwd=WORK)
        cls.dsc = os.path.join(WORK, f"{PACKAGE}_{cls.version}.dsc")

        env = dict(os.environ)
        if shutil.which("ccache") and "CCACHE_DIR" not in env:
            # debhelper gives the build a HOME of its own; keep the usual cache.
            env["CCACHE_DIR"] = run(["ccache", "-k", "cache_dir"]).stdout.strip()
        # This checks the packaging, not the optimiser: -O0 (noopt) compiles
        # in about half the time, on both cores.
        options = env.get("DEB_BUILD_OPTIONS", "").split()
        options += ["noopt", f"parallel={os.cpu_count() or 1}"]
        env["DEB_BUILD_OPTIONS"] = " ".join(options)
        started = time.monotonic()
        build = run(["dpkg-buildpackage", "-b", "-us", "-uc"], timeout=1000, check=False,
                    cwd=cls.tree, env=env)
        cls.build_seconds = time.monotonic() - started
        if build.returncode != 0:
            raise AssertionError(f"dpkg-buildpackage: exit {build.returncode}\n"
                                 f"{build.stdout[-6000:]}\n{build.stderr[-6000:]}")
        print(f"dpkg-buildpackage took {cls.build_seconds:.1f} s", file=sys.stderr)

        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        cls.deb = os.path.join(WORK, f"{PACKAGE}_{cls.version}_{arch}.deb")
        cls.changes = os.path.join(WORK, f"{PACKAGE}_{cls.version}_{arch}.changes")
        if not os.path.exists(cls.deb):
            raise AssertionError(f"no {cls.deb} after the build: {sorted(os.listdir(WORK))}")

        cls.installed_before = is_installed()
        # Minimal images may exclude /usr/share/man from every package.
        dpkg("--path-include=/usr/share/man/man1/rtcpeer.1.gz", "-i", cls.deb)

    @classmethod
    def clean_up(cls):
        try:
            if cls.installed_before is False and is_installed():
                dpkg("-r", PACKAGE)
                if is_installed() or os.path.exists("/usr/bin/rtcpeer"):
                    raise AssertionError("rtcpeer still installed after dpkg -r")
        finally:
            shutil.rmtree(WORK, ignore_errors=True)
            cls._lock.close()

    def test_package_contents(self):
        listed = run(["dpkg-deb", "-c", self.deb]).stdout
        for path in ("./usr/bin/rtcpeer", "./usr/share/man/man1/rtcpeer.1.gz",
                     "./usr/share/bash-completion/completions/rtcpeer",
                     "./usr/share/doc/rtcpeer/copyright"):
            self.assertIn(" " + path + "\n", listed)
        depends = run(["dpkg-deb", "-f", self.deb, "Depends"]).stdout
        for library in ("libnice", "libgnutls", "libusrsctp", "libglib2.0"):
            self.assertIn(library, depends)

    def test_lintian(self):
        if not shutil.which("lintian"):
            self.skipTest("lintian is not installed")
        done = run(["lintian", "--pedantic", "--fail-on", "error,warning,pedantic", self.changes, self.dsc],
                   timeout=300, check=False)
        tags = [line for line in done.stdout.splitlines() if line[:2] in ("E:", "W:", "P:")]
        self.assertEqual((done.returncode, tags), (0, []), done.stdout + done.stderr)

    def test_installed_version(self):
        done = run(["/usr/bin/rtcpeer", "--version"])
        self.assertEqual(done.stdout, f"rtcpeer {self.version}\n")

    def test_man_page(self):
        env = dict(os.environ, MANPATH="/usr/share/man", MANPAGER="cat", MANWIDTH="80", LC_ALL="C.UTF-8")
        where = run(["man", "-w", "rtcpeer"], env=env).stdout.strip()
        self.assertEqual(where, "/usr/share/man/man1/rtcpeer.1.gz")
        page = run(["man", "rtcpeer"], env=env).stdout
        self.assertRegex(page, r"(?m)^NAME$")
        self.assertRegex(page, r"rtcpeer \S+ WebRTC data.channel peer for the shell")
        self.assertRegex(page, r"(?m)^EXIT STATUS$")

    def test_completion_installed(self):
        with open("/usr/share/bash-completion/completions/rtcpeer") as installed, \
                open(os.path.join(SOURCE, "completions", "rtcpeer.bash")) as source:
            self.assertEqual(installed.read(), source.read())

    def test_transfer_between_installed_binaries(self):
        data = os.path.join(WORK, "data")
        received = os.path.join(WORK, "received")
        with open(data, "wb") as f:
            f.write(os.urandom(SIZE))
        port = str(free_tcp_port())
        common = ["-s", "tcp-socket", "--signaling-port", port, "--host-address", "127.0.0.1"]
        with open(data, "rb") as stdin, open(os.path.join(WORK, "offer.err"), "wb") as err:
            offer = subprocess.Popen(["/usr/bin/rtcpeer", "offer", *common], stdin=stdin,
                                     stdout=subprocess.DEVNULL, stderr=err)
        with open(received, "wb") as stdout, open(os.path.join(WORK, "answer.err"), "wb") as err:
            answer = subprocess.Popen(["/usr/bin/rtcpeer", "answer", *common], stdin=subprocess.DEVNULL,
                                      stdout=stdout, stderr=err)
        try:
            codes = (offer.wait(timeout=120), answer.wait(timeout=120))
        finally:
            for p in (offer, answer):
                if p.poll() is None:
                    p.kill()
                    p.wait()
        errors = "".join(open(os.path.join(WORK, n)).read() for n in ("offer.err", "answer.err"))
        self.assertEqual(codes, (0, 0), errors)
        self.assertEqual(os.path.getsize(received), SIZE)
        self.assertEqual(sha256(received), sha256(data))


def main():
    global SOURCE
    SOURCE = os.path.abspath(sys.argv.pop(1))
    if os.geteuid() != 0:
        print("SKIP: installing a package needs root")
        return 77
    if not shutil.which("dpkg-buildpackage"):
        print("SKIP: dpkg-buildpackage is missing (dpkg-dev)")
        return 77
    result = unittest.main(verbosity=2, exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
