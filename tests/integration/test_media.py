"""Audio and video through two rtcpeer processes on loopback: ffmpeg encodes a
test pattern and a tone and sends them as RTP to --send-video/--send-audio of
one rtcpeer; the other forwards the remote's tracks with --recv-* and writes
an SDP (--sdp-file) that a second ffmpeg records from; ffprobe then counts
the frames that decode (audio: the seconds that decode). Both directions,
trickle and not, tcp-socket and copy-and-paste signaling; every codec of the
command line (VP9 put together from the forwarded RTP, since ffmpeg 5.1 does
not read its own VP9 RTP back; AV1 as RTP that no Debian 12 tool packetizes);
a source restarted mid-stream; --duration with the data channel incomplete;
a remote killed without a bye."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

from harness import (LOOPBACK, SYSTEM_PYTHON, Proc, TestCase, free_tcp_port, main, random_file,
                     sha256_file, wait_for)
from netns import TwoHostsTestCase, available
from ports import free_block

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "sdp")

MiB = 1 << 20
SECONDS = 5
FPS = 30
VIDEO_FRAMES = SECONDS * FPS

VIDEO_ENCODERS = {
    "vp8": ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k"],
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
             "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-b:v", "400k"],
    # ffmpeg 5.1 calls its VP9 packetizer experimental (the draft it
    # follows became RFC 9628).
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k",
            "-strict", "experimental"],
}
# The encoder, and the RTP packet size that makes 20 ms packets (ffmpeg packs
# PCM and G.722 to the packet size: 160 bytes + 12 of header).
AUDIO_ENCODERS = {
    "opus": (["-c:a", "libopus", "-b:a", "64k"], 1200),
    "pcmu": (["-c:a", "pcm_mulaw", "-ar", "8000", "-ac", "1"], 172),
    "pcma": (["-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1"], 172),
    "g722": (["-c:a", "g722", "-ar", "16000", "-ac", "1"], 172),
}


def count_frames(path, stream, errors=None):
    done = subprocess.run([FFPROBE, "-v", "error", "-count_frames", "-select_streams", stream,
                           "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path],
                          capture_output=True, text=True, timeout=60)
    if errors is not None:
        errors.append(done.stderr)
    text = done.stdout.strip()
    return int(text) if text.isdigit() else 0


def audio_seconds(path):
    """The seconds of audio that decode from the recording."""
    done = subprocess.run([FFPROBE, "-v", "error", "-select_streams", "a:0", "-show_entries",
                           "frame=nb_samples:stream=sample_rate", "-of", "csv=p=0", path],
                          capture_output=True, text=True, timeout=60)
    values = [int(v) for v in done.stdout.split() if v.isdigit()]
    if not values:
        return 0.0
    # The stream's sample rate comes last.
    return sum(values[:-1]) / values[-1]


def video_source(codec, port, frames, extra_inputs=()):
    """ffmpeg's arguments for a test pattern sent as RTP to port."""
    return ["-re", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate={FPS}", *extra_inputs,
            "-map", "0:v", "-frames:v", str(frames), *VIDEO_ENCODERS[codec], "-g", str(FPS),
            "-f", "rtp", "-pkt_size", "1200", f"rtp://127.0.0.1:{port}"]


@unittest.skipUnless(FFMPEG and FFPROBE, "ffmpeg and ffprobe are needed (Debian: ffmpeg)")
class MediaTest(TestCase):
    def ffmpeg(self, *args, name):
        p = Proc([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", *args],
                 stdout=self.path(name + ".out"))
        self.procs.append(p)
        return p

    def forward(self, sender_role="offer", trickle=True, codec="vp8", audio=True,
                extra_sender=(), extra_receiver=(), offer_stdin=None, answer_stdout=None,
                audio_codec="opus", seconds=SECONDS, signaling="tcp-socket", source=None,
                errors=None):
        """Sends `seconds` of video (and audio) from the sender's ffmpeg to the
        receiver's recorder; returns the frames counted and both stats.
        `source(send_video_port)` replaces the video-only source and returns
        the number of frames it sent."""
        ports = free_block(6)
        send_video, send_audio, recv_video, recv_audio = ports, ports + 1, ports + 2, ports + 4
        sdp_file = self.path("recv.sdp")
        if signaling == "copy-and-paste":
            # Each side's message goes to the other through a FIFO.
            to_answer, to_offer = self.path("o2a"), self.path("a2o")
            os.mkfifo(to_answer)
            os.mkfifo(to_offer)
            backend = {"offer": ["-s", signaling, "--signaling-output", to_answer,
                                 "--signaling-input", to_offer],
                       "answer": ["-s", signaling, "--signaling-output", to_offer,
                                  "--signaling-input", to_answer]}
        else:
            port = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
            backend = {"offer": port, "answer": port}
        if not trickle:
            backend = {role: [*args, "--no-trickle"] for role, args in backend.items()}
        sender_media = ["--send-video", f"127.0.0.1:{send_video}", "--video-codec", codec]
        receiver_media = ["--recv-video", f"127.0.0.1:{recv_video}", "--video-codec", codec,
                          "--sdp-file", sdp_file]
        if audio:
            sender_media += ["--send-audio", f"127.0.0.1:{send_audio}",
                             "--audio-codec", audio_codec]
            receiver_media += ["--recv-audio", f"127.0.0.1:{recv_audio}",
                               "--audio-codec", audio_codec]
        receiver_role = "answer" if sender_role == "offer" else "offer"
        # The sender's --duration ends the run: it says bye, and the
        # receiver ends on it.
        duration = seconds + 6 if source is None else 2 * seconds + 8
        args = {
            sender_role: [sender_role, *backend[sender_role], *LOOPBACK, "-v", *sender_media,
                          "--duration", str(duration), "--stats", self.path("sender.json"),
                          *extra_sender],
            receiver_role: [receiver_role, *backend[receiver_role], *LOOPBACK, "-v",
                            *receiver_media, "--stats", self.path("receiver.json"),
                            *extra_receiver],
        }
        offer = self.start(*args["offer"], stdin=offer_stdin)
        time.sleep(0.2)
        answer = self.start(*args["answer"], stdout=answer_stdout)
        sender, receiver = (offer, answer) if sender_role == "offer" else (answer, offer)

        wait_for(lambda: os.path.exists(sdp_file), 15, "the SDP file")
        recording = self.path("recorded.mkv")
        recorder = self.ffmpeg("-protocol_whitelist", "file,udp,rtp", "-i", sdp_file, "-c", "copy", "-y", recording, name="recorder")
        wait_for(lambda: "SRTP keyed" in sender.stderr and "SRTP keyed" in receiver.stderr, 15,
                 "SRTP on both sides")
        time.sleep(1.0)  # the recorder is listening
        video_frames = seconds * FPS
        if source is not None:
            video_frames = source(send_video)
        else:
            inputs, outputs = [], []
            if audio:
                encoder, packet_size = AUDIO_ENCODERS[audio_codec]
                inputs = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
                outputs = ["-map", "1:a", "-t", str(seconds), *encoder, "-f", "rtp",
                           "-pkt_size", str(packet_size), f"rtp://127.0.0.1:{send_audio}"]
            ffmpeg = self.ffmpeg(*video_source(codec, send_video, video_frames, inputs),
                                 *outputs, name="source")
            self.assertEqual(ffmpeg.wait(seconds + 30), 0, ffmpeg.stderr)
        self.assertExit(sender, 0, timeout=duration + 25)
        self.assertExit(receiver, 0, timeout=15)
        time.sleep(0.5)
        recorder.signal(signal.SIGINT)
        recorder.wait(15)
        with open(self.path("sender.json")) as f:
            sender_stats = json.load(f)
        with open(self.path("receiver.json")) as f:
            receiver_stats = json.load(f)
        video = count_frames(recording, "v:0", errors)
        self.recording = recording
        sound = audio_seconds(recording) if audio else None
        self.video_frames, self.audio_seconds = video_frames, seconds
        print(f"\n{sender_role} sends {codec}: {video}/{video_frames} video frames"
              + (f", {audio_codec} {sound:.2f}/{seconds} s of audio" if audio else "")
              + f"; RTP {self.track(sender_stats, 'video')['sent']['packets']} sent, "
              f"{self.track(receiver_stats, 'video')['received']['packets']} received")
        return video, sound, sender_stats, receiver_stats, sender, receiver

    @staticmethod
    def track(stats, kind):
        return next(t for t in stats["media"]["tracks"] if t["kind"] == kind)

    def check(self, video, sound, sender_stats, receiver_stats):
        self.assertGreaterEqual(video, 0.9 * self.video_frames)
        if sound is not None:
            self.assertGreaterEqual(sound, 0.9 * self.audio_seconds)
            self.assertLessEqual(sound, 1.1 * self.audio_seconds)
        sent = self.track(sender_stats, "video")["sent"]
        received = self.track(receiver_stats, "video")["received"]
        self.assertEqual(sent["source_malformed"], 0)
        self.assertGreater(sent["packets"], self.video_frames)
        self.assertEqual(received["packets"], sent["packets"])
        self.assertEqual(received["ssrc"], sent["ssrc"])
        self.assertGreaterEqual(received["plis_sent"], 1)  # when the stream started
        self.assertEqual(receiver_stats["media"]["unknown_rtp"], 0)

    def test_offerer_sends_vp8_and_opus(self):
        video, sound, s, r, sender, receiver = self.forward("offer")
        self.check(video, sound, s, r)
        # -v shows each track starting.
        self.assertRegex(sender.stderr, r"video track \(mid \d\): VP8/90000 pt \d+, sendonly, "
                                        r"sending SSRC [0-9a-f]{8}")
        self.assertIn("video stream started: SSRC", receiver.stderr)
        # The data channel runs alongside (stdin empty: both EOFs).
        self.assertIn("channel", sender.stderr)

    def test_answerer_sends_without_trickle(self):
        video, sound, s, r, _, _ = self.forward("answer", trickle=False)
        self.check(video, sound, s, r)

    def test_data_alongside_video(self):
        # 20 MB at 2.5 MB/s: the data flows for the whole of the video.
        data = random_file(self.path("data"), 20 * MiB)
        feeder = self.feeder(data, rate=2.5 * MiB, hold_open=False)
        video, sound, s, r, sender, receiver = self.forward(
            "offer", audio=False, offer_stdin=feeder.read_fd, answer_stdout=self.path("received"))
        feeder.release_read_end()
        self.check(video, sound, s, r)
        self.assertEqual(sha256_file(self.path("received")), sha256_file(data))
        self.assertEqual(s["sent"]["bytes"], 20 * MiB)
        self.assertEqual(r["received"]["bytes"], 20 * MiB)

    def test_media_only_h264_and_pcma(self):
        video, sound, s, r, sender, receiver = self.forward(
            "offer", codec="h264", audio_codec="pcma", extra_sender=["--no-data"])
        self.check(video, sound, s, r)
        self.assertRegex(sender.stderr, r"audio track \(mid \d\): PCMA/8000 pt 8,")
        self.assertIn("open for media only", receiver.stderr)
        self.assertIsNone(s["sctp"])

    # The other codecs of the command line, 3 s each, media only.

    def test_pcmu_over_copy_and_paste(self):
        # Copy-and-paste signaling (one line each way, no trickle) carries
        # a media run as well; the answerer sends.
        video, sound, s, r, sender, _ = self.forward(
            "answer", audio_codec="pcmu", seconds=3, signaling="copy-and-paste",
            extra_sender=["--no-data"])
        self.check(video, sound, s, r)
        self.assertIn("over copy-and-paste", sender.stderr)
        self.assertRegex(sender.stderr, r"audio track \(mid \d\): PCMU/8000 pt 0,")

    def test_g722(self):
        video, sound, s, r, sender, _ = self.forward(
            "offer", audio_codec="g722", seconds=3, extra_sender=["--no-data"])
        self.check(video, sound, s, r)
        self.assertRegex(sender.stderr, r"audio track \(mid \d\): G722/8000 pt 9,")

    def test_restarted_source_continues_the_stream(self):
        # ffmpeg is killed mid-stream and a new one (its own SSRC, sequence
        # numbers and timestamps) sends to the same port: the remote gets
        # one stream, and the recorder decodes both parts.
        parts = []

        def source(port):
            # The first part also sends each packet here: its frames (RTP
            # packets with the marker bit) are counted until SIGKILL.
            copy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.addCleanup(copy.close)
            copy.bind(("127.0.0.1", 0))
            copy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MiB)
            copy.settimeout(0.1)
            first = self.ffmpeg("-re", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate={FPS}",
                                "-frames:v", str(10 * FPS), *VIDEO_ENCODERS["vp8"], "-g",
                                str(FPS), "-map", "0:v", "-f", "tee",
                                f"[f=rtp]rtp://127.0.0.1:{port}?pkt_size=1200|"
                                f"[f=rtp]rtp://127.0.0.1:{copy.getsockname()[1]}?pkt_size=1200",
                                name="part1")
            sent = 0

            def drain(until):
                nonlocal sent
                try:
                    while sent < until:
                        packet = copy.recv(2048)
                        if len(packet) >= 12 and packet[1] & 0x80:
                            sent += 1
                except (socket.timeout, BlockingIOError):
                    pass

            deadline = time.monotonic() + 30
            while sent < 2 * FPS and time.monotonic() < deadline:
                drain(2 * FPS)
            self.assertIsNone(first.popen.poll(), f"the first source ended early: {first.stderr}")
            first.signal(signal.SIGKILL)
            first.popen.wait(10)
            drain(10 * FPS)
            parts.append(sent)
            time.sleep(0.5)
            second = self.ffmpeg(*video_source("vp8", port, 2 * FPS), name="part2")
            self.assertEqual(second.wait(30), 0, second.stderr)
            parts.append(2 * FPS)
            return sum(parts)

        errors = []
        video, _, s, r, sender, _ = self.forward(
            "offer", audio=False, seconds=3, source=source, errors=errors,
            extra_sender=["--no-data"])
        sent = self.track(s, "video")["sent"]
        received = self.track(r, "video")["received"]
        print(f"restart: parts of {parts[0]} + {parts[1]} frames, {video} recorded; "
              f"{sent['source_restarts']} restart(s), {sent['source_dropped']} dropped; "
              f"ffprobe: {errors[0].strip() or 'no errors'}")
        self.assertGreater(parts[0], FPS)  # the first part ran for a while
        self.assertGreaterEqual(video, 0.9 * sum(parts))
        self.assertGreaterEqual(sent["source_restarts"], 1)
        self.assertEqual(received["packets"], sent["packets"])
        self.assertEqual(received["lost"], 0)
        self.assertEqual(r["media"]["unknown_rtp"], 0)
        self.assertEqual(errors[0].strip(), "")

    def raw_video(self, codec, seconds, send):
        """rtcpeer -> rtcpeer with --video-codec codec, the remote's track read
        here from the --recv-video port; send(port) feeds the source. Returns
        the RTP packets forwarded, in order, and both rtcpeers."""
        ports = free_block(4)
        send_video, recv_video = ports, ports + 2
        signaling = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sink.close)
        sink.bind(("127.0.0.1", recv_video))
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MiB)
        offer = self.start("offer", *signaling, *LOOPBACK, "-v", "--no-data", "--video-codec",
                           codec, "--send-video", f"127.0.0.1:{send_video}", "--duration",
                           str(seconds + 6))
        time.sleep(0.2)
        answer = self.start("answer", *signaling, *LOOPBACK, "-v", "--video-codec", codec,
                            "--recv-video", f"127.0.0.1:{recv_video}")
        wait_for(lambda: "SRTP keyed" in offer.stderr and "SRTP keyed" in answer.stderr, 15,
                 "SRTP on both sides")
        send(send_video)
        self.assertExit(offer, 0, timeout=seconds + 30)
        self.assertExit(answer, 0, timeout=15)
        got = []
        sink.setblocking(False)
        while True:
            try:
                got.append(sink.recv(65536))
            except BlockingIOError:
                return got, offer, answer

    def test_vp9_from_ffmpeg(self):
        # ffmpeg 5.1 packetizes VP9 but its own RTP input does not take it
        # back: the forwarded packets are put together here (the 1-byte
        # payload descriptor ffmpeg writes: B 0x08 starts a frame, E 0x04
        # ends it) into an IVF file, and ffprobe decodes that.
        frames = 3 * FPS

        def send(port):
            source = self.ffmpeg(*video_source("vp9", port, frames), name="source")
            self.assertEqual(source.wait(30), 0, source.stderr)

        packets, offer, answer = self.raw_video("vp9", 3, send)
        ivf = bytearray(struct.pack("<4sHH4sHHIIII", b"DKIF", 0, 32, b"VP90", 320, 240, FPS, 1,
                                    0, 0))
        frame, written = None, 0
        for p in packets:
            descriptor, payload = p[12], p[13:]
            if descriptor & 0x08:
                frame = bytearray()
            if frame is not None:
                frame += payload
            if frame is not None and descriptor & 0x04:
                ivf += struct.pack("<IQ", len(frame), written) + frame
                written, frame = written + 1, None
        path = self.path("vp9.ivf")
        with open(path, "wb") as f:
            f.write(ivf)
        errors = []
        video = count_frames(path, "v:0", errors)
        print(f"\nvp9: {len(packets)} RTP packets forwarded, {written} frames put together, "
              f"{video}/{frames} decoded")
        self.assertRegex(offer.stderr, r"video track \(mid \d\): VP9/90000 pt \d+,")
        self.assertGreaterEqual(video, 0.9 * frames)
        self.assertEqual(errors[0].strip(), "")

    def test_av1_forwarded_as_rtp(self):
        # No encoder of Debian 12 packetizes AV1 for RTP (ffmpeg 5.1 has no
        # AV1 RTP muxer): this shows the negotiation and that AV1 RTP is
        # forwarded unchanged but for the header, not that a player decodes it.
        payloads = [os.urandom(100 + i) for i in range(60)]

        def send(port):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
                for i, payload in enumerate(payloads):
                    # PT 96 from the source; the negotiated one on the wire.
                    marker = 0x80 if i % 3 == 2 else 0
                    header = struct.pack("!BBHII", 0x80, 96 | marker, 1000 + i, 3000 * (i // 3),
                                         0x1234)
                    out.sendto(header + payload, (LOOPBACK[1], port))
                    time.sleep(0.01)

        got, offer, answer = self.raw_video("av1", 1, send)
        self.assertRegex(offer.stderr, r"video track \(mid \d\): AV1/90000 pt 45,")
        self.assertRegex(answer.stderr, r"video track \(mid \d\): AV1/90000 pt 45,")
        self.assertEqual([g[12:] for g in got], payloads)
        self.assertEqual([g[1] for g in got], [45 | (0x80 if i % 3 == 2 else 0)
                                              for i in range(len(payloads))])

    def test_av1_answered_to_chromium(self):
        # Chromium's real offer lists AV1 (profile 0 at pt 45): rtcpeer answers with it.
        with open(os.path.join(FIXTURES, "chromium-av-sendrecv-offer.sdp")) as f:
            offer_sdp = f.read()
        server = socket.socket()
        self.addCleanup(server.close)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        answer = self.start("answer", "-s", "tcp-socket", "--signaling-port",
                            str(server.getsockname()[1]), *LOOPBACK, "-v", "--video-codec", "av1",
                            "--recv-video", "127.0.0.1:9", "--no-data")
        server.settimeout(15)
        conn, _ = server.accept()
        self.addCleanup(conn.close)
        conn.sendall((json.dumps({"sdp": offer_sdp, "type": "offer"}, sort_keys=True) + "\n")
                     .encode())
        reply = json.loads(conn.makefile().readline())
        self.assertEqual(reply["type"], "answer")
        video = reply["sdp"].split("m=video")[1].split("m=")[0]
        self.assertRegex(video, r"^ 9 UDP/TLS/RTP/SAVPF 45\r\n")
        self.assertIn("a=rtpmap:45 AV1/90000", video)
        self.assertIn("a=recvonly", video)
        answer.signal(signal.SIGTERM)
        self.assertExit(answer, 143, timeout=10)

    # --duration and the data channel; a remote that is killed.

    def media_and_data(self, offer_args=(), answer_args=(), offer_stdin=None,
                       answer_stdin=None, answer_stdout=None):
        """A media run with its data channel: the offerer sends video from
        --send-video, the answerer forwards it to a port nobody reads."""
        ports = free_block(4)
        self.send_video = ports
        signaling = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        offer = self.start("offer", *signaling, *LOOPBACK, "-v", "--send-video",
                           f"127.0.0.1:{ports}", *offer_args, stdin=offer_stdin)
        time.sleep(0.2)
        answer = self.start("answer", *signaling, *LOOPBACK, "-v", "--recv-video",
                            f"127.0.0.1:{ports + 2}", *answer_args, stdin=answer_stdin,
                            stdout=answer_stdout)
        return offer, answer

    def test_duration_with_the_data_complete(self):
        data = random_file(self.path("data"), 300 * 1024)
        offer, answer = self.media_and_data(["--duration", "3"], offer_stdin=data,
                                            answer_stdout=self.path("received"))
        self.assertExit(offer, 0, timeout=20)
        self.assertExit(answer, 0, timeout=10)
        self.assertEqual(sha256_file(self.path("received")), sha256_file(data))

    def assert_duration_cuts_data_short(self, size, held_stdin, message):
        """--duration 3 on the offerer while `held_stdin` ("offer_stdin" or
        "answer_stdin") is a feeder of `size` bytes that stays open: the
        offerer exits 3 with `message`, the remote sees the transfer cut
        short (exit 5)."""
        feeder = self.feeder(random_file(self.path("data"), size), hold_open=True)
        offer, answer = self.media_and_data(["--duration", "3"], **{held_stdin: feeder.read_fd})
        feeder.release_read_end()
        self.assertExit(offer, 3, timeout=20, message=message)
        self.assertExit(answer, 5, timeout=10)

    def test_duration_with_stdin_not_ended(self):
        # stdin still open when the time is up: exit 3, the remote sees the
        # transfer cut short.
        self.assert_duration_cuts_data_short(100 * 1024, "offer_stdin", (
            "rtcpeer: duration: 3 s passed before the data was complete: stdin had not ended "
            "(102400 bytes sent; the rest of stdin was not delivered)\n"))

    def test_duration_without_the_remotes_end_of_file(self):
        self.assert_duration_cuts_data_short(1024, "answer_stdin", (
            "rtcpeer: duration: 3 s passed before the data was complete: the remote's end of "
            "file had not come (1024 bytes to stdout)\n"))

    def test_killed_remote_noticed_by_a_media_run(self):
        # The answerer is killed: its signaling connection closes without a
        # bye and its RTCP stops. The offerer, whose data is all delivered,
        # does not wait for the 15 s of silence.
        self.kill_remote(kill_offerer=False)

    def test_killed_sender_noticed_without_data(self):
        # Media only: the receiving answerer notices the sending offerer gone.
        self.kill_remote(kill_offerer=True, extra=["--no-data"])

    def kill_remote(self, kill_offerer, extra=()):
        offer, answer = self.media_and_data(extra, extra)
        wait_for(lambda: "SRTP keyed" in offer.stderr and "SRTP keyed" in answer.stderr, 15,
                 "SRTP on both sides")
        stop = threading.Event()

        def source():
            # RTP at 50 packets a second (the payload is not looked at).
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
                n = 0
                while not stop.wait(0.02):
                    out.sendto(struct.pack("!BBHII", 0x80, 0xe0, n, n * 1800, 7) + bytes(200),
                               ("127.0.0.1", self.send_video))
                    n += 1

        thread = threading.Thread(target=source, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(stop.set)
        wait_for(lambda: "video stream started" in answer.stderr, 15, "the video at the answerer")
        time.sleep(1)
        killed_one, survivor = (offer, answer) if kill_offerer else (answer, offer)
        killed_one.signal(signal.SIGKILL)
        killed = time.monotonic()
        self.assertExit(survivor, 5, timeout=20, message=(
            "rtcpeer: connection: the remote left (its signaling connection closed without a "
            "bye, then no RTP, RTCP or data for 4 s)\n"))
        noticed = time.monotonic() - killed
        print(f"\nkilled remote noticed after {noticed:.1f} s")
        self.assertLess(noticed, 8)


EXAMPLES = "/usr/share/doc/python3-aiortc/examples"
VIDEOSTREAM = os.path.join(EXAMPLES, "videostream-cli", "cli.py")


def aiortc_examples_missing():
    if not os.path.exists(VIDEOSTREAM):
        return "needs aiortc's examples (Debian: python3-aiortc)"
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import cv2, av"], capture_output=True)
    if done.returncode != 0:
        return "needs python3-opencv and python3-av"
    return None


@unittest.skipUnless(FFMPEG and FFPROBE, "ffmpeg and ffprobe are needed (Debian: ffmpeg)")
@unittest.skipIf(available(), available() or "")
class NamespaceMediaTest(TwoHostsTestCase):
    """Between two network namespaces joined by a veth pair with no route out:
    aiortc's videostream-cli example run unchanged (it looks up a public STUN
    server, which it cannot reach here), and random loss repaired by NACK."""

    tag = "m"

    def on(self, ns, argv, name=None, **kwargs):
        kwargs.setdefault("stdout", self.path(name + ".out") if name else None)
        return super().on(ns, argv, **kwargs)

    def ffmpeg(self, ns, *args, name):
        return self.on(ns, [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", *args],
                       name=name)

    def rtcpeer(self, ns, *args):
        from harness import RTCPEER
        return self.on(ns, [RTCPEER, *args])

    def udp_bound(self, ns, port):
        out = subprocess.run(self.hosts.wrap(ns, ["ss", "-Hnlu", f"sport = :{port}"]),
                             capture_output=True, text=True)
        return bool(out.stdout.strip())

    def record(self, ns, sdp_file, name="recorded.mkv", reorder=()):
        wait_for(lambda: os.path.exists(sdp_file), 20, "the SDP file")
        recording = self.path(name)
        recorder = self.ffmpeg(ns, "-protocol_whitelist", "file,udp,rtp", *reorder, "-i", sdp_file,
                               "-c", "copy", "-y", recording, name="recorder")
        return recorder, recording

    def stop(self, recorder):
        time.sleep(0.5)
        recorder.signal(signal.SIGINT)
        recorder.wait(15)

    def test_aiortc_offers_video_to_rtcpeer(self):
        reason = aiortc_examples_missing()
        if reason:
            self.skipTest(reason)
        # The recorder opens the SDP file and starts listening a moment
        # after aiortc starts its clip (the answer carries both): then
        # rtcpeer's PLI gets a key frame. 10 s, so that the frames missed
        # before that are few.
        frames = 2 * VIDEO_FRAMES
        clip = self.path("clip.mp4")
        subprocess.run([FFMPEG, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                        f"testsrc=size=320x240:rate={FPS}", "-frames:v", str(frames),
                        "-c:v", "libx264", "-pix_fmt", "yuv420p", clip], check=True, timeout=60)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        sdp_file = self.path("recv.sdp")
        aiortc = self.on(self.hosts.a, [SYSTEM_PYTHON, VIDEOSTREAM, "offer", "--play-from", clip,
                                        "--signaling", "tcp-socket", "--signaling-host",
                                        self.hosts.addr_a, "--signaling-port", "4322"],
                         name="aiortc", env=env)
        time.sleep(2)  # it gathers, then listens
        answer = self.rtcpeer(self.hosts.b, "answer", "-s", "tcp-socket", "--signaling-host",
                              self.hosts.addr_a, "--signaling-port", "4322", "--recv-video",
                              "127.0.0.1:5004", "--sdp-file", sdp_file, "--duration",
                              str(2 * SECONDS + 8), "-v", "--stats", self.path("stats.json"))
        recorder, recording = self.record(self.hosts.b, sdp_file)
        self.assertExit(answer, 0, timeout=2 * SECONDS + 30)
        self.assertEqual(aiortc.wait(20), 0, aiortc.stderr)
        self.stop(recorder)
        with open(self.path("stats.json")) as f:
            stats = json.load(f)
        video = count_frames(recording, "v:0")
        received = stats["media"]["tracks"][0]["received"]
        print(f"\naiortc videostream-cli offer -> rtcpeer answer: {video}/{frames} frames "
              f"recorded, {received['packets']} RTP packets, {received['lost']} lost")
        self.assertGreaterEqual(video, 0.9 * frames)
        self.assertIn("video stream started", answer.stderr)
        self.assertIn("PLI sent for the video (the sink started listening)", answer.stderr)

    def test_rtcpeer_offers_video_to_aiortc(self):
        reason = aiortc_examples_missing()
        if reason:
            self.skipTest(reason)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        offer = self.rtcpeer(self.hosts.a, "offer", "-s", "tcp-socket", "--signaling-host",
                             self.hosts.addr_a, "--signaling-port", "4323", "--send-video",
                             "127.0.0.1:5006", "--no-data", "--duration", str(SECONDS + 8),
                             "-v", "--stats", self.path("stats.json"))
        time.sleep(0.5)
        out = self.path("out.mp4")
        aiortc = self.on(self.hosts.b, [SYSTEM_PYTHON, VIDEOSTREAM, "answer", "--record-to", out,
                                        "--signaling", "tcp-socket", "--signaling-host",
                                        self.hosts.addr_a, "--signaling-port", "4323"],
                         name="aiortc", env=env)
        wait_for(lambda: "SRTP keyed" in offer.stderr, 20, "SRTP")
        time.sleep(0.5)
        source = self.ffmpeg(self.hosts.a, "-re", "-f", "lavfi", "-i",
                             f"testsrc=size=320x240:rate={FPS}", "-frames:v", str(VIDEO_FRAMES),
                             *VIDEO_ENCODERS["vp8"], "-g", str(FPS), "-f", "rtp", "-pkt_size",
                             "1200", "rtp://127.0.0.1:5006", name="source")
        self.assertEqual(source.wait(SECONDS + 30), 0, source.stderr)
        self.assertExit(offer, 0, timeout=30)
        self.assertEqual(aiortc.wait(30), 0, aiortc.stderr)
        with open(self.path("stats.json")) as f:
            stats = json.load(f)
        sent = stats["media"]["tracks"][0]["sent"]
        video = count_frames(out, "v:0")
        print(f"\nrtcpeer offer -> aiortc videostream-cli answer: {video}/{VIDEO_FRAMES} frames "
              f"decoded from its recording; {sent['packets']} RTP packets sent, "
              f"{sent['plis_received']} PLIs and {sent['nacks_received']} NACKs from aiortc")
        self.assertGreaterEqual(video, 0.9 * VIDEO_FRAMES)

    def lossy(self, percent, block_nacks):
        """Random loss of `percent` of the UDP datagrams each host receives
        on the veth (not on loopback, where ffmpeg talks to rtcpeer); with
        block_nacks, the sender also drops every datagram whose second byte
        is 205 (RTCP transport feedback, the generic NACK: SRTCP leaves the
        header in clear), so that nothing is resent."""
        rules = []
        for ns in (self.hosts.a, self.hosts.b):
            chain = (f'iifname "{ns}v" meta l4proto udp numgen random mod 100 < {percent} drop; ')
            if block_nacks and ns == self.hosts.a:
                chain = f'iifname "{ns}v" udp length > 12 @th,72,8 205 drop; ' + chain
            rules.append((ns, "table inet rtcpeer_media {\n  chain input { type filter hook "
                              f"input priority 0; {chain}}}\n}}\n"))
        for ns, text in rules:
            subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=text.encode(),
                           check=True)

    def clear_lossy(self):
        for ns in (self.hosts.a, self.hosts.b):
            subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet",
                            "rtcpeer_media"], capture_output=True)

    def forward_with_loss(self, block_nacks):
        self.hosts.segment_in_software()
        self.lossy(5, block_nacks)
        self.addCleanup(self.clear_lossy)
        self.addCleanup(self.hosts.segment_in_software, False)
        frames = 2 * VIDEO_FRAMES
        sdp_file = self.path("recv.sdp")
        signaling = ["-s", "tcp-socket", "--signaling-host", self.hosts.addr_a,
                     "--signaling-port", "4324"]
        # --duration ends the sender: with room for a source that starts late
        # and encodes slower than real time on a loaded machine (cut short,
        # its last frames were counted as lost).
        offer = self.rtcpeer(self.hosts.a, "offer", *signaling, "--send-video",
                             "127.0.0.1:5008", "--no-data", "--duration", str(2 * SECONDS + 20),
                             "-v", "--stats", self.path("sender.json"))
        time.sleep(0.3)
        answer = self.rtcpeer(self.hosts.b, "answer", *signaling, "--recv-video",
                              "127.0.0.1:5010", "--sdp-file", sdp_file, "-v", "--stats",
                              self.path("receiver.json"))
        # A packet repaired by NACK comes one round trip and a little late:
        # the player must wait for it rather than skip it (ffmpeg's RTP
        # input reorders within -max_delay).
        recorder, recording = self.record(self.hosts.b, sdp_file,
                                          reorder=("-max_delay", "500000"))
        wait_for(lambda: "SRTP keyed" in offer.stderr and "SRTP keyed" in answer.stderr, 30,
                 "SRTP on both sides")
        # The frames counted are the recorder's: on a loaded machine ffmpeg
        # may take seconds to open its port, and what comes before is lost
        # to it, not to the network.
        wait_for(lambda: self.udp_bound(self.hosts.b, 5010), 30, "the recorder's port")
        time.sleep(0.5)
        source = self.ffmpeg(self.hosts.a, "-re", "-f", "lavfi", "-i",
                             f"testsrc=size=640x480:rate={FPS}", "-frames:v", str(frames),
                             *VIDEO_ENCODERS["vp8"][:-2], "-b:v", "1M", "-g", str(FPS), "-f",
                             "rtp", "-pkt_size", "1200", "rtp://127.0.0.1:5008", name="source")
        self.assertEqual(source.wait(2 * SECONDS + 30), 0, source.stderr)
        self.assertExit(offer, 0, timeout=30)
        self.assertExit(answer, 0, timeout=15)
        self.stop(recorder)
        with open(self.path("sender.json")) as f:
            sent = json.load(f)["media"]["tracks"][0]["sent"]
        with open(self.path("receiver.json")) as f:
            received = json.load(f)["media"]["tracks"][0]["received"]
        video = count_frames(recording, "v:0")
        print(f"\n5% loss, NACK {'blocked' if block_nacks else 'on'}: {video}/{frames} frames; "
              f"{sent['packets']} RTP sent, {received['packets']} received, "
              f"{received['nacks_sent']} NACKs ({received['nacked_packets']} packets asked), "
              f"{sent['retransmissions']} resent, {received['recovered']} recovered, "
              f"{received['unrepaired']} unrepaired, {received['plis_sent']} PLIs")
        return video, frames, sent, received

    def test_loss_repaired_by_nack(self):
        video, frames, sent, received = self.forward_with_loss(block_nacks=False)
        self.assertGreaterEqual(video, 0.9 * frames)
        self.assertGreater(sent["retransmissions"], 0)
        self.assertGreater(received["recovered"], 0)

    def test_loss_without_nack(self):
        # The figure to compare with: the same loss, and no NACK reaches the sender.
        video, frames, sent, received = self.forward_with_loss(block_nacks=True)
        self.assertGreater(received["nacks_sent"], 0)
        self.assertEqual(sent["nacks_received"], 0)
        self.assertEqual(sent["retransmissions"], 0)
        self.assertGreater(received["unrepaired"], 0)


if __name__ == "__main__":
    main()
