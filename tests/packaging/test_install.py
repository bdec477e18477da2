#!/usr/bin/env python3
"""`meson install --destdir` into a staging directory installs exactly the
program, the man page and the bash completion, where the build's options say.

Usage: test_install.py MESON BUILD_DIR SOURCE_DIR
"""

import filecmp
import json
import os
import subprocess
import sys
import tempfile
import unittest

MESON = BUILD = SOURCE = None


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        done = subprocess.run([MESON, "introspect", "--buildoptions", BUILD],
                              capture_output=True, text=True, check=True, timeout=60)
        options = {o["name"]: o["value"] for o in json.loads(done.stdout)}
        prefix = options["prefix"]

        def under_prefix(name):
            return os.path.join(prefix, options[name]).lstrip("/")

        cls.binary = os.path.join(under_prefix("bindir"), "rtcpeer")
        cls.man = os.path.join(under_prefix("mandir"), "man1", "rtcpeer.1")
        cls.completion = os.path.join(under_prefix("datadir"), "bash-completion", "completions", "rtcpeer")
        cls._tmp = tempfile.TemporaryDirectory(prefix="rtcpeer-install-")
        cls.stage = cls._tmp.name
        done = subprocess.run([MESON, "install", "-C", BUILD, "--no-rebuild", "--destdir", cls.stage],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise AssertionError(f"meson install failed ({done.returncode})\n{done.stdout}\n{done.stderr}")

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def staged(self, path):
        return os.path.join(self.stage, path)

    def test_file_list(self):
        found = set()
        for top, _, files in os.walk(self.stage):
            for name in files:
                found.add(os.path.relpath(os.path.join(top, name), self.stage))
        self.assertEqual(sorted(found), sorted({self.binary, self.man, self.completion}))

    def test_binary_runs(self):
        path = self.staged(self.binary)
        self.assertTrue(os.access(path, os.X_OK), path)
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout, r"^rtcpeer \d+\.\d+\.\d+\n$")

    def test_man_page_and_completion_are_the_sources(self):
        self.assertTrue(filecmp.cmp(self.staged(self.man), os.path.join(SOURCE, "man", "rtcpeer.1"), shallow=False))
        self.assertTrue(filecmp.cmp(self.staged(self.completion),
                                    os.path.join(SOURCE, "completions", "rtcpeer.bash"), shallow=False))


if __name__ == "__main__":
    MESON, BUILD, SOURCE = sys.argv[1:4]
    del sys.argv[1:4]
    unittest.main(verbosity=2)
