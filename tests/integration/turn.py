"""A real TURN/STUN server (Debian's coturn) for the tests: a generated config
with long-term credentials, started on the address the test names (loopback,
or inside a network namespace the test made), stopped afterwards.

On the shared loopback its listening and relay ports come from one block of
free ports below the ephemeral range (ports.py); inside a namespace of the
test's own, nothing else can hold a port, and the standard ones are used."""

import os
import shutil
import subprocess
import time

import ports

USER = "rtcpeer"
PASSWORD = "s3cret-pass"
REALM = "rtcpeer.test"


def available():
    """None when coturn can run here, else the reason it cannot."""
    if shutil.which("turnserver") is None:
        return "needs coturn (turnserver)"
    return None


class Coturn:
    def __init__(self, workdir, address="127.0.0.1", netns=None, tls=False):
        if netns:
            self.port, tls_port, relay_min = 3478, 5349, 49152
        else:
            # port, port+1 (coturn's alternate port, unused with one
            # listening address), TLS on port+2 (and its alternate), relays
            # on port+6 to port+15.
            block = ports.free_block(16, address)
            self.port, tls_port, relay_min = block, block + 2, block + 6
        self.address = address
        self.tls_port = tls_port if tls else None
        port = self.port
        self.log = os.path.join(workdir, f"turnserver-{port}.log")
        lines = ["verbose",
            f"listening-ip={address}",
            f"relay-ip={address}",
            f"listening-port={port}",
            "lt-cred-mech",
            f"user={USER}:{PASSWORD}",
            f"realm={REALM}",
            "no-cli",
            "no-dtls",
            "no-multicast-peers",
            f"min-port={relay_min}",
            f"max-port={relay_min + 9}",
            f"log-file={self.log}",
            "simple-log",
            f"pidfile={os.path.join(workdir, f'turnserver-{port}.pid')}",
        ]
        if address.startswith("127."):
            lines.append("allow-loopback-peers")
        if tls:
            cert, key = self._make_certificate(workdir)
            self.certificate = cert
            lines += [f"tls-listening-port={self.tls_port}", f"cert={cert}", f"pkey={key}"]
        else:
            lines.append("no-tls")
        self.config = os.path.join(workdir, f"turnserver-{port}.conf")
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        argv = ["turnserver", "-c", self.config]
        if netns:
            argv = ["ip", "netns", "exec", netns, *argv]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    @staticmethod
    def _make_certificate(workdir):
        """A self-signed certificate for turns: (certtool from gnutls-bin)."""
        key = os.path.join(workdir, "turn-key.pem")
        cert = os.path.join(workdir, "turn-cert.pem")
        template = os.path.join(workdir, "turn-cert.cfg")
        with open(template, "w") as f:
            f.write('cn = "localhost"\nexpiration_days = 2\ntls_www_server\nip_address = "127.0.0.1"\n')
        subprocess.run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", key],
                       check=True, capture_output=True)
        subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key, "--template", template,
                        "--outfile", cert], check=True, capture_output=True)
        return cert, key

    def _wait_ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"turnserver exited {self.proc.returncode}:\n{self.log_text()}")
            if "Total General servers" in self.log_text():
                time.sleep(0.2)  # the listeners open right after
                return
            time.sleep(0.05)
        raise RuntimeError("turnserver did not start within 10 s:\n" + self.log_text())

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def url(self, transport="udp", credentials=True):
        userinfo = f"{USER}:{PASSWORD}@" if credentials else ""
        if transport == "tls":
            return f"turns:{userinfo}{self.address}:{self.tls_port}"
        return f"turn:{userinfo}{self.address}:{self.port}?transport={transport}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
