#!/usr/bin/env python3
"""The bash completion offers what `rtcpeer --help` lists: the roles, every
option of each role, and the values of every option with a fixed set of them.

Usage: test_completion.py COMPLETION_SCRIPT  (rtcpeer from $RTCPEER)

The expected sets come from the --help of the binary under test, read now, so
an option added to rtcpeer but not to the completion fails here by name.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

RTCPEER = os.environ.get("RTCPEER", "rtcpeer")
SCRIPT = None
OPTION = re.compile(r"^--?[A-Za-z0-9][A-Za-z0-9-]*$")


def help_text(*args):
    done = subprocess.run([RTCPEER, *args, "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"rtcpeer {' '.join(args)} --help: exit {done.returncode}\n{done.stderr}"
    return done.stdout


def parse_options(text):
    """{option: [choices]} from the option lines of a --help text.

    An option line is indented by a few spaces and starts with '-': its leading
    '-' words are the option's names; a {a,b,c} in the word after them lists
    the values it accepts. Description lines are indented further.
    """
    options = {}
    for line in text.splitlines():
        if not re.match(r"^ {1,8}-", line):
            continue
        words = line.split()
        names = []
        while words and words[0].startswith("-"):
            for name in words.pop(0).split(","):
                name = name.split("=")[0]
                if OPTION.match(name):
                    names.append(name)
        choices = []
        if words:
            found = re.search(r"\{([^{}]*)\}", words[0])
            if found:
                choices = [c.strip() for c in found.group(1).split(",") if c.strip()]
        for name in names:
            options[name] = choices
    return options


def parse_subcommands(text):
    """The names in the Roles: section of the top-level --help."""
    names, inside = [], False
    for line in text.splitlines():
        if re.match(r"^\S.*:\s*$", line):
            inside = line.strip().lower().startswith("roles")
            continue
        if inside and re.match(r"^ {1,8}[a-z]", line):
            names.append(line.split()[0])
    return names


def complete(words, cwd=None):
    """COMPREPLY of the function the script registers for rtcpeer, with
    COMP_WORDS = words and the cursor on the last word."""
    line = " ".join(words)
    program = f"""
set -u
source "$1"
spec=$(complete -p rtcpeer) || exit 3
function=$(sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p' <<<"$spec")
[ -n "$function" ] || exit 4
shift
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE={quote(line)}
COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
"$function" rtcpeer "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD - 1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program, "bash", SCRIPT, *words],
                          capture_output=True, text=True, timeout=30, cwd=cwd)
    assert done.returncode == 0, f"completion of {words}: exit {done.returncode}\n{done.stderr}"
    return {w for w in done.stdout.splitlines() if w}


def quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


class CompletionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.roles = parse_subcommands(help_text())
        cls.options = {role: parse_options(help_text(role)) for role in cls.roles}

    def test_help_is_understood(self):
        # Guards the parser above: if --help changed shape so that nothing is
        # found, the comparisons below would prove nothing.
        self.assertEqual(sorted(self.roles), ["answer", "offer"])
        for role in self.roles:
            self.assertIn("--signaling", self.options[role])
            self.assertGreater(len(self.options[role]), 20, role)

    def test_first_word_is_a_role(self):
        offered = complete(["rtcpeer", ""])
        for role in self.roles:
            self.assertIn(role, offered)
        self.assertEqual(complete(["rtcpeer", "of"]), {"offer"})

    def test_every_option_of_each_role(self):
        for role in self.roles:
            with self.subTest(role=role):
                offered = complete(["rtcpeer", role, ""])
                listed = set(self.options[role])
                self.assertEqual(sorted(listed - offered), [],
                                 f"rtcpeer {role} --help lists options the completion does not offer")
                self.assertEqual(sorted(offered - listed), [],
                                 f"the completion offers options rtcpeer {role} --help does not list")

    def test_options_after_other_options(self):
        offered = complete(["rtcpeer", "answer", "-s", "tcp-socket", "--signaling-p"])
        self.assertEqual(offered, {"--signaling-port", "--signaling-path"})

    def test_choices_of_enumerated_options(self):
        checked = 0
        for role in self.roles:
            for option, choices in self.options[role].items():
                if not choices:
                    continue
                with self.subTest(role=role, option=option):
                    self.assertEqual(complete(["rtcpeer", role, option, ""]), set(choices))
                    if option.startswith("--"):
                        # --option=value: '=' is a word of its own for bash.
                        self.assertEqual(complete(["rtcpeer", role, option, "=", ""]), set(choices))
                    first = choices[0]
                    self.assertIn(first, complete(["rtcpeer", role, option, first[:1]]))
                checked += 1
        # -s and --signaling, --ice-transport-policy, in both roles.
        self.assertGreaterEqual(checked, 6)

    def test_file_options_complete_file_names(self):
        with tempfile.TemporaryDirectory() as tmp:
            open(os.path.join(tmp, "turn-ca.pem"), "w").close()
            self.assertEqual(complete(["rtcpeer", "offer", "--turn-ca", "turn"], cwd=tmp), {"turn-ca.pem"})

    def test_free_values_offer_nothing(self):
        self.assertEqual(complete(["rtcpeer", "offer", "--signaling-port", ""]), set())


if __name__ == "__main__":
    SCRIPT = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
