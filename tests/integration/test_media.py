"""Audio and video through two rtcpeer processes on loopback: ffmpeg encodes a
test pattern and a tone and sends them as RTP to --send-video/--send-audio of
one rtcpeer; the other forwards the remote's tracks with --recv-* and writes
an SDP (--sdp-file) that a second ffmpeg records from; ffprobe then counts
the frames that decode. Both directions, trickle and not, VP8 and H.264."""

import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from harness import LOOPBACK, Proc, TestCase, free_tcp_port, main, wait_for
from ports import free_block

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")

SECONDS = 5
FPS = 30
VIDEO_FRAMES = SECONDS * FPS
AUDIO_FRAMES = SECONDS * 50  # Opus, 20 ms frames

VIDEO_ENCODERS = {
    "vp8": ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k"],
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
             "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-b:v", "400k"],
}


def count_frames(path, stream):
    done = subprocess.run([FFPROBE, "-v", "error", "-count_frames", "-select_streams", stream,
                           "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path],
                          capture_output=True, text=True, timeout=60)
    text = done.stdout.strip()
    return int(text) if text.isdigit() else 0


@unittest.skipUnless(FFMPEG and FFPROBE, "ffmpeg and ffprobe are needed (Debian: ffmpeg)")
class MediaTest(TestCase):
    def ffmpeg(self, *args, name):
        p = Proc([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", *args],
                 stdout=self.path(name + ".out"))
        self.procs.append(p)
        return p

    def forward(self, sender_role="offer", trickle=True, codec="vp8", audio=True,
                extra_sender=(), extra_receiver=()):
        """Sends SECONDS of video (and audio) from the sender's ffmpeg to the
        receiver's recorder; returns the frames counted and both stats."""
        ports = free_block(6)
        send_video, send_audio, recv_video, recv_audio = ports, ports + 1, ports + 2, ports + 4
        sdp_file = self.path("recv.sdp")
        signaling = ["-s", "tcp-socket", "--signaling-port", str(free_tcp_port())]
        if not trickle:
            signaling.append("--no-trickle")
        sender_media = ["--send-video", f"127.0.0.1:{send_video}", "--video-codec", codec]
        receiver_media = ["--recv-video", f"127.0.0.1:{recv_video}", "--video-codec", codec,
                          "--sdp-file", sdp_file]
        if audio:
            sender_media += ["--send-audio", f"127.0.0.1:{send_audio}"]
            receiver_media += ["--recv-audio", f"127.0.0.1:{recv_audio}"]
        receiver_role = "answer" if sender_role == "offer" else "offer"
        # The sender's --duration ends the run: it says bye, and the
        # receiver ends on it.
        args = {
            sender_role: [sender_role, *signaling, *LOOPBACK, "-v", *sender_media,
                          "--duration", str(SECONDS + 6), "--stats", self.path("sender.json"),
                          *extra_sender],
            receiver_role: [receiver_role, *signaling, *LOOPBACK, "-v", *receiver_media,
                            "--stats", self.path("receiver.json"), *extra_receiver],
        }
        offer = self.start(*args["offer"])
        time.sleep(0.2)
        answer = self.start(*args["answer"])
        sender, receiver = (offer, answer) if sender_role == "offer" else (answer, offer)

        wait_for(lambda: os.path.exists(sdp_file), 15, "the SDP file")
        recording = self.path("recorded.mkv")
        recorder = self.ffmpeg("-protocol_whitelist", "file,udp,rtp", "-reorder_queue_size", "0",
                               "-i", sdp_file, "-c", "copy", "-y", recording, name="recorder")
        wait_for(lambda: "SRTP keyed" in sender.stderr and "SRTP keyed" in receiver.stderr, 15,
                 "SRTP on both sides")
        time.sleep(1.0)  # the recorder is listening
        inputs = ["-re", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate={FPS}"]
        outputs = ["-map", "0:v", "-frames:v", str(VIDEO_FRAMES), *VIDEO_ENCODERS[codec],
                   "-g", str(FPS), "-f", "rtp", "-pkt_size", "1200",
                   f"rtp://127.0.0.1:{send_video}"]
        if audio:
            inputs += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
            outputs += ["-map", "1:a", "-t", str(SECONDS), "-c:a", "libopus", "-b:a", "64k",
                        "-f", "rtp", "-pkt_size", "1200", f"rtp://127.0.0.1:{send_audio}"]
        source = self.ffmpeg(*inputs, *outputs, name="source")
        self.assertEqual(source.wait(SECONDS + 30), 0, source.stderr)
        self.assertExit(sender, 0, timeout=30)
        self.assertExit(receiver, 0, timeout=15)
        time.sleep(0.5)
        recorder.signal(signal.SIGINT)
        recorder.wait(15)
        with open(self.path("sender.json")) as f:
            sender_stats = json.load(f)
        with open(self.path("receiver.json")) as f:
            receiver_stats = json.load(f)
        video = count_frames(recording, "v:0")
        sound = count_frames(recording, "a:0") if audio else None
        print(f"\n{sender_role} sends {codec}: {video}/{VIDEO_FRAMES} video frames"
              + (f", {sound}/{AUDIO_FRAMES} audio frames" if audio else "")
              + f"; RTP {self.track(sender_stats, 'video')['sent']['packets']} sent, "
              f"{self.track(receiver_stats, 'video')['received']['packets']} received")
        return video, sound, sender_stats, receiver_stats, sender, receiver

    @staticmethod
    def track(stats, kind):
        return next(t for t in stats["media"]["tracks"] if t["kind"] == kind)

    def check(self, video, sound, sender_stats, receiver_stats):
        self.assertGreaterEqual(video, 0.9 * VIDEO_FRAMES)
        if sound is not None:
            self.assertGreaterEqual(sound, 0.9 * AUDIO_FRAMES)
        sent = self.track(sender_stats, "video")["sent"]
        received = self.track(receiver_stats, "video")["received"]
        self.assertEqual(sent["source_malformed"], 0)
        self.assertGreater(sent["packets"], VIDEO_FRAMES)
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

    def test_media_only_h264(self):
        video, sound, s, r, _, receiver = self.forward(
            "offer", codec="h264", audio=False, extra_sender=["--no-data"])
        self.check(video, sound, s, r)
        self.assertIn("open for media only", receiver.stderr)
        self.assertIsNone(s["sctp"])


if __name__ == "__main__":
    main()
