"""A signaling relay for tests: listens where the answerer connects, connects
to the offerer, and forwards JSON lines both ways, letting a test rewrite them
(a man in the middle that swaps fingerprints, or drops candidates)."""

import json
import socket
import threading


class Relay:
    def __init__(self, offer_port, rewrite):
        """rewrite(direction, message) returns the message to forward, None to
        drop it, or a list of messages to send instead (injection)."""
        self.offer_port = offer_port
        self.rewrite = rewrite  # rewrite(direction, message_dict) -> dict or None (drop)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._run, daemon=True).start()

    def _pump(self, src, dst, direction):
        buffer = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    message = self.rewrite(direction, json.loads(line))
                    # None drops the message; a list sends several (injection).
                    for m in message if isinstance(message, list) else [message] if message else []:
                        dst.sendall(json.dumps(m, sort_keys=True).encode() + b"\n")
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _run(self):
        answerer, _ = self.server.accept()
        self.server.close()
        offerer = socket.create_connection(("127.0.0.1", self.offer_port))
        back = threading.Thread(target=self._pump, args=(offerer, answerer, "to-answerer"), daemon=True)
        back.start()
        self._pump(answerer, offerer, "to-offerer")
        back.join(timeout=60)
        answerer.close()
        offerer.close()


def swap_fingerprint(sdp):
    """Changes the first hex digit of the fingerprint: a certificate nobody has."""
    lines = sdp.split("\r\n")
    for i, line in enumerate(lines):
        if line.startswith("a=fingerprint:"):
            algorithm, digest = line.split(" ", 1)
            digest = ("0" if digest[0] != "0" else "1") + digest[1:]
            lines[i] = algorithm + " " + digest
    return "\r\n".join(lines)


def main():
    """relay.py OFFER_PORT LISTEN_PORT ADDRESS NAME: forwards signaling and
    replaces ADDRESS in every candidate by the mDNS host name NAME."""
    import sys
    import time

    offer_port, listen_port, address, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

    def hide(text):
        return text.replace(f" {address} ", f" {name} ")

    def rewrite(direction, message):
        if "sdp" in message:
            message["sdp"] = "\r\n".join(hide(l) if l.startswith("a=candidate:") else l
                                         for l in message["sdp"].split("\r\n"))
        if message.get("type") == "candidate":
            message["candidate"] = hide(message["candidate"])
        return message

    relay = Relay.__new__(Relay)
    relay.offer_port = offer_port
    relay.rewrite = rewrite
    relay.server = socket.socket()
    relay.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    relay.server.bind(("127.0.0.1", listen_port))
    relay.server.listen(1)
    relay._run()
    time.sleep(0.2)


if __name__ == "__main__":
    main()
