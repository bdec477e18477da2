// Media forwarding for one connection: RTP from local UDP ports out as the
// local tracks, the remote's tracks out to local UDP ports, and the RTCP
// that keeps both going (RFC 3550 reports, RFC 4585 generic NACK and PLI).
// rtcpeer does not encode or decode: packets are forwarded, their headers
// rewritten on the way out.
//
// Sending (a track with a source): every datagram read from the bound
// socket is parsed (malformed ones counted and dropped), mapped by the
// rtp::Rewriter onto one stable SSRC, sequence number and timestamp space
// with the negotiated payload type, kept in a send history and handed to
// Output::send_rtp (the connection protects it with SRTP). The remote's
// NACKs are answered from the history, at most kRetransmitBudget packets
// a second whatever it asks; its PLIs and FIRs are counted and logged (a
// source like ffmpeg cannot be asked for a key frame: its key frame
// interval decides).
//
// Receiving (a track with a sink): the remote's packets, told apart by
// SSRC (from its description, the mid header extension or the payload
// type), go out unchanged as plain RTP to the sink, and its RTCP to the
// sink's port + 1. Receive statistics give receiver reports; missing
// packets are asked for with NACKs (when negotiated), and a PLI goes out
// when a stream starts, when NACK could not repair a loss, and when the
// sink, refusing packets so far (nobody listening), takes them: a player
// started after the stream needs a key frame to begin. PLIs are at least
// 300 ms apart; one asked for sooner goes out when that has passed.
//
// engine.cpp holds the set-up and both RTP paths, engine_feedback.cpp the
// RTCP; engine_track.hpp the state of one track, private to the two.
//
// The layer sits beside peer/: it knows rtp/ and sdp/ (the negotiated
// tracks) but not the Connection; app/ wires the two together. Errors are
// Error, thrown from the constructor only (a port taken, a host unknown);
// the packet paths never throw. One thread: the GLib main loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/loop.hpp"
#include "base/scheduler.hpp"
#include "media/udp.hpp"
#include "rtp/receive_statistics.hpp"
#include "rtp/rewriter.hpp"
#include "rtp/rtcp.hpp"
#include "rtp/send_history.hpp"
#include "sdp/media.hpp"

namespace rtcpeer::media {

// What one track did, for --stats and the end-of-run summary.
struct TrackCounters {
    // Sending.
    std::uint64_t source_packets = 0;    // datagrams read from the source port
    std::uint64_t source_malformed = 0;  // not RTP: too short, wrong version, ...
    std::uint64_t source_dropped = 0;    // before media was up, or stale after a restart
    std::uint64_t source_restarts = 0;   // a new SSRC or numbering from the source
    std::uint64_t packets_sent = 0;
    std::uint64_t bytes_sent = 0;          // RTP packets, headers included
    std::uint64_t nacks_received = 0;      // NACK packets
    std::uint64_t retransmissions = 0;     // packets sent again for them
    std::uint64_t retransmit_missed = 0;   // asked for and no longer in the history
    std::uint64_t retransmit_refused = 0;  // over the budget
    std::uint64_t plis_received = 0;
    std::uint64_t firs_received = 0;
    std::uint32_t remote_fraction_lost = 0;  // the remote's last report, in 1/256
    std::int64_t remote_lost = 0;            // cumulative, as the remote reports it
    std::optional<double> rtt_ms;            // from the remote's report blocks
    // Receiving.
    std::uint64_t packets_received = 0;
    std::uint64_t bytes_received = 0;
    std::int64_t lost = 0;  // expected minus received (RFC 3550)
    std::uint64_t duplicates = 0;
    std::uint64_t recovered = 0;       // arrived after being missing (reordered or resent)
    std::uint64_t nacks_sent = 0;      // NACK packets
    std::uint64_t nacked_packets = 0;  // sequence numbers asked for
    std::uint64_t unrepaired = 0;      // given up on after the last NACK
    std::uint64_t plis_sent = 0;
    std::uint64_t forward_failures = 0;  // the sink refused (nobody listening)
    double jitter_ms = 0;
};

struct TrackStatus {
    sdp::NegotiatedTrack track;
    std::optional<Endpoint> source;
    std::optional<Endpoint> sink;
    std::optional<std::uint32_t> remote_ssrc;  // the stream being received
    TrackCounters counters;
};

class Engine {
  public:
    // The local ends, by kind: where a source sends to us, where we send.
    struct Config {
        std::optional<Endpoint> send_audio, send_video;
        std::optional<Endpoint> recv_audio, recv_video;
        std::string cname;  // in SDES of every RTCP packet
        // How often reports go out; NACKs are checked more often.
        std::chrono::milliseconds report_interval{1000};
        std::chrono::milliseconds nack_interval{10};
    };
    struct Output {
        std::function<bool(std::span<const std::uint8_t>)> send_rtp;
        std::function<bool(std::span<const std::uint8_t>)> send_rtcp;
    };

    // At most this many packets a second go out again for NACKs (a hostile
    // NACK asks for thousands), and each sequence number at most once per
    // kMinResendGap.
    static constexpr unsigned kRetransmitBudget = 500;
    static constexpr std::chrono::milliseconds kMinResendGap{20};
    // A missing packet is asked for at most this often, this many times.
    static constexpr int kMaxNacks = 5;

    // Binds the source ports and resolves the sinks (throws Error about
    // "video source" etc. when one cannot be had). Sources are read from
    // now on; what arrives before start() is counted and dropped.
    Engine(Config config, Output output, Scheduler& scheduler = glib_scheduler());
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // The connection is keyed: run the negotiated tracks. A source or sink
    // for a kind without a fitting negotiated track is a warning in the
    // returned list (and stays idle).
    std::vector<std::string> start(const std::vector<sdp::NegotiatedTrack>& tracks);
    bool started() const { return started_; }
    // Sends a BYE for the local SSRCs and stops the timers.
    void stop();

    // From the connection, unprotected.
    void on_rtp(std::span<const std::uint8_t> packet);
    void on_rtcp(std::span<const std::uint8_t> packet);

    std::vector<TrackStatus> status() const;
    std::uint64_t unknown_rtp() const { return unknown_rtp_; }        // no track for its SSRC
    std::uint64_t malformed_rtp() const { return malformed_rtp_; }    // from the remote
    std::uint64_t malformed_rtcp() const { return malformed_rtcp_; }  // from the remote
    // Ports bound (0 when none), for tests that let the kernel pick.
    std::uint16_t source_port(sdp::MediaKind kind) const;
    // Whether the timer that looks for missing packets runs (for tests: it
    // should only while something is missing or a PLI waits).
    bool checking_missing() const { return nack_timer_.active(); }

  private:
    struct Track;
    void read_source(Track& track);
    void forward(Track& track, std::span<std::uint8_t> packet);
    void receive(Track& track, std::span<const std::uint8_t> packet, std::uint32_t ssrc,
                 std::uint16_t sequence, std::uint32_t timestamp);
    Track* route(std::span<const std::uint8_t> packet, std::uint32_t ssrc,
                 std::uint8_t payload_type);
    void on_nack(const rtp::Nack& nack);
    void send_reports();
    // Starts the NACK timer unless it runs; check_missing() says whether
    // it should go on (a packet still missing, a PLI waiting).
    void arm_checks();
    bool check_missing();
    void send_pli(Track& track, const char* why);
    bool send_rtcp(const std::vector<std::uint8_t>& packet);
    std::chrono::microseconds now() const;
    std::uint32_t reporting_ssrc() const;

    Config config_;
    Output output_;
    Scheduler& scheduler_;
    bool started_ = false;
    std::vector<std::unique_ptr<Track>> tracks_;  // audio first, then video
    std::map<std::uint32_t, Track*> by_ssrc_;     // the remote's SSRCs learned
    std::uint32_t receiver_ssrc_ = 0;             // for RTCP when nothing is sent
    std::uint64_t unknown_rtp_ = 0;
    std::uint64_t malformed_rtp_ = 0;
    std::uint64_t malformed_rtcp_ = 0;
    double retransmit_tokens_ = kRetransmitBudget;
    std::chrono::microseconds tokens_at_{0};
    std::vector<std::uint8_t> buffer_;
    loop::Timer report_timer_;
    loop::Timer nack_timer_;
};

// An SDP that ffmpeg, ffplay and VLC open to receive what the sinks get:
// one m= line per receiving track, at its sink's port, with its payload
// type, rtpmap and fmtp; RTCP on port + 1.
std::string player_sdp(const std::vector<sdp::NegotiatedTrack>& tracks,
                       const std::optional<Endpoint>& recv_audio,
                       const std::optional<Endpoint>& recv_video);

}  // namespace rtcpeer::media
