// One WebRTC peer connection: the one place where the layers are wired
// together, ICE -> RFC 7983 demultiplexer -> DTLS -> SCTP -> data channel,
// and beside DTLS, SRTP keyed by it for RTP and RTCP (docs/ARCHITECTURE.md,
// "The path of a byte", "The path of an RTP packet"). With media
// (Config::media) it negotiates audio and video tracks and hands their
// packets up unprotected; forwarding them is media::Engine's.
//
// The Connection owns its certificate (or takes one), the ICE transport (made
// by the factory its owner passes), the mDNS resolver for the remote's
// ".local" candidates, DTLS, the SCTP association and the data channel; the
// sctp::Stack is its owner's and outlives it. It negotiates: it builds the
// local offer or answer, takes the remote's description and candidates
// (trickled or not, early, bounded, ".local" names resolved), and reports
// what is to be sent through callbacks; it never touches signaling. It bounds
// the connect time (naming the stage that did not complete) and watches
// liveness once DTLS is up. What the owner does with the open channel, and
// when a run is finished, is the owner's (app/run.hpp).
//
// Errors are Error (base/error.hpp), thrown from the calls the owner makes
// and reported through on_failure from the layers' callbacks; the Connection
// picks no exit code and names no command-line flag.
//
// Threading: one thread, the one that drives its Scheduler (the GLib main
// loop in the program).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "base/error.hpp"
#include "base/loop.hpp"
#include "base/scheduler.hpp"
#include "datachannel/registry.hpp"
#include "dtls/certificate.hpp"
#include "dtls/transport.hpp"
#include "ice/mdns.hpp"
#include "ice/transport.hpp"
#include "sctp/association.hpp"
#include "sctp/stack.hpp"
#include "sdp/description.hpp"
#include "sdp/media.hpp"
#include "srtp/session.hpp"

namespace rtcpeer::peer {

// Where the connection is. It moves down this list, except that kClosing,
// kClosed and kFailed may come from any state. The remote's end (an ABORT, a
// SHUTDOWN, DTLS close_notify) is reported through on_ended, and the state
// moves when the owner then closes or aborts: whether that end was orderly
// is the owner's finishing rules' to say.
enum class State {
    kNew,               // made; nothing sent
    kWaitingForRemote,  // started (the offerer gathers); no remote description yet
    kConnectingIce,     // the remote's description is in: ICE checks run
    kHandshakingDtls,   // a pair is selected: the DTLS handshake runs
    kConnectingSctp,    // DTLS is up (fingerprint verified): SCTP associates
    kOpeningChannel,    // SCTP is up: data channels may open (DCEP)
    kOpen,              // a data channel is open
    kClosing,           // the owner is ending the connection
    kClosed,            // closed in order (channel and DTLS closed)
    kFailed,            // a failure was reported, or the owner aborted
};
const char* to_string(State state);

enum class DescriptionType { kOffer, kAnswer };
const char* to_string(DescriptionType type);

struct Config {
    // The offerer controls ICE (its owner configures the transport so) and
    // sends the offer. Which channels open, and which of the remote's are
    // taken, is the owner's to say (channels(), Callbacks::accept_channel).
    bool offerer = true;
    // Trickle ICE: the description goes out at once and each candidate
    // follows; without, the description waits for gathering and carries all.
    bool trickle = true;
    // Only relay candidates are gathered: none at all is a failure.
    bool relay_only = false;
    // The local SCTP port (a=sctp-port); a test gives each pair its own.
    std::uint16_t sctp_port = sdp::kDefaultSctpPort;
    // From the remote's description to the open channel.
    std::chrono::milliseconds connect_timeout{30000};
    // Without a datagram from the remote for this long, once DTLS is up,
    // the connection has failed (consent, RFC 7675).
    std::chrono::milliseconds silence_limit{15000};
    // Audio and video: what to send and receive, with which codecs, and
    // whether the data channel is offered or accepted. Without it the
    // offerer offers the data channel alone. The answerer answers every
    // offer through sdp::build_media_answer (this description, or one that
    // wants nothing but the data channel). SSRCs, CNAME and stream id left
    // empty are chosen at random.
    std::optional<sdp::LocalMedia> media;
};

// What the receive path did with the datagrams that were not DTLS.
struct DemuxCounters {
    std::uint64_t dtls = 0;
    std::uint64_t rtp = 0;      // RTP and RTCP, given to SRTP (SrtpCounters)
    std::uint64_t stun = 0;     // the ICE agent consumes STUN; any that reach us are dropped
    std::uint64_t dropped = 0;  // anything else
};

// What SRTP did with RTP and RTCP, both ways.
struct SrtpCounters {
    std::uint64_t rtp_received = 0;   // unprotected and handed up
    std::uint64_t rtcp_received = 0;  // likewise
    std::uint64_t auth_failures = 0;  // tag mismatch: corrupted, forged
    std::uint64_t replays = 0;        // an index seen already
    std::uint64_t malformed = 0;      // too short, or anything else libsrtp refused
    std::uint64_t unkeyed = 0;        // arrived before DTLS gave keys (or without SRTP)
    std::uint64_t rtp_sent = 0;
    std::uint64_t rtcp_sent = 0;
    std::uint64_t send_failures = 0;  // not keyed, protect refused, or ICE refused
};

class Connection {
  public:
    struct Callbacks {
        // The local description and each trickled candidate, to be signaled.
        std::function<void(DescriptionType type, const std::string& sdp)> on_local_description;
        std::function<void(const std::string& candidate, const std::string& mid, int index)>
            on_local_candidate;
        // Every state change, after it happened.
        std::function<void(State state)> on_state;
        std::function<void()> on_gathering_done;
        // No more remote candidates are needed (end of candidates, or open).
        std::function<void()> on_remote_candidates_done;
        // A remote candidate the transport refused (the connection says so on -v).
        std::function<std::string(const sdp::Candidate& candidate, const std::string& why)>
            explain_unused_candidate;
        // Once a second while DTLS is up, with the silence so far, before the
        // connection's own rule; may throw to end the connection earlier.
        std::function<void(std::int64_t silent_ms)> on_silence;

        // The data channels: whether to take a channel the remote opens
        // (absent: refuse all), and each one taken, before its on_open (set
        // its callbacks there; datachannel/registry.hpp).
        std::function<bool(const datachannel::IncomingChannel& incoming)> accept_channel;
        std::function<void(datachannel::DataChannel& channel)> on_channel;
        // The association ended (graceful: a clean shutdown or DTLS closed by
        // the remote after everything held back was read).
        std::function<void(const std::string& why, bool graceful)> on_ended;
        // Media. SRTP is keyed (DTLS is up): send_rtp and send_rtcp work
        // from here, and the negotiated tracks are final.
        std::function<void()> on_media_ready;
        // An unprotected RTP or RTCP packet from the remote (RTCP may be
        // compound); valid during the call.
        std::function<void(std::span<const std::uint8_t> packet)> on_rtp;
        std::function<void(std::span<const std::uint8_t> packet)> on_rtcp;
        // What media negotiation could not give (a track asked for and
        // rejected, ...); logged as a warning when not set.
        std::function<void(const std::string& warning)> on_media_warning;

        // Anything that failed inside the layers' callbacks.
        std::function<void(const Error&)> on_failure;
    };

    // The process's sctp::Stack, asked for when DTLS is up and the
    // association is made (so that usrsctp's 10 ms timer runs only from
    // then); it outlives the connection.
    using StackProvider = std::function<sctp::Stack&()>;

    // transport makes the ICE transport; timers wait on scheduler, whose
    // clock the connection reads.
    Connection(Config config, ice::TransportFactory transport, StackProvider stack,
               Callbacks callbacks, Scheduler& scheduler = glib_scheduler(),
               std::optional<dtls::Certificate> certificate = std::nullopt);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // The offerer gathers and (with trickle) sends its offer; the answerer
    // waits for the offer.
    void start();
    // The remote's offer or answer. Throws Error when it is unexpected or
    // malformed; a second one is ignored with a warning.
    void set_remote_description(DescriptionType type, const std::string& sdp);
    // One remote candidate line ("candidate:..."); empty: end of candidates.
    // Before the description, up to 64 are held.
    void add_remote_candidate(const std::string& candidate);

    State state() const { return state_; }
    // The stage that the connect time-out names: "ice", "dtls", "sctp" or "channel".
    const char* stage() const;
    bool has_remote_description() const { return remote_.has_value(); }
    const sdp::SessionDescription& remote_description() const { return *remote_; }
    const std::optional<ice::SelectedPair>& selected_pair() const { return pair_; }
    const DemuxCounters& demux_counters() const { return demux_; }
    const SrtpCounters& srtp_counters() const { return srtp_counters_; }

    // Media: the tracks negotiated (known once the answer is sent or
    // received), the local description they came from, whether a data
    // channel runs at all (false: media only, no SCTP).
    const std::vector<sdp::NegotiatedTrack>& tracks() const { return tracks_; }
    const std::optional<sdp::LocalMedia>& local_media() const { return config_.media; }
    bool data_channel_negotiated() const { return data_channel_; }
    bool media_ready() const { return srtp_ != nullptr; }
    // Protects one RTP or RTCP packet and sends it on the ICE pair; false
    // (counted) before SRTP is keyed, or when it could not be sent.
    bool send_rtp(std::span<const std::uint8_t> packet);
    bool send_rtcp(std::span<const std::uint8_t> packet);

    // Opens a data channel (from kOpeningChannel on; on_open runs before
    // this returns). Throws Error (datachannel::Registry::open).
    datachannel::DataChannel& open_channel(std::string label, datachannel::ChannelOptions options,
                                           datachannel::DataChannel::Callbacks callbacks);
    // The owner needs no channel of its own for the connection to count as
    // open (from kOpeningChannel on): it opens channels on demand.
    void open_without_channel() { on_channel_open(); }
    // The association's channels (from kConnectingSctp until release_data_path()).
    datachannel::Registry& channels() { return *registry_; }
    bool has_association() const { return sctp_ != nullptr; }
    // Messages PR-SCTP abandoned on this association (partially reliable channels).
    std::uint64_t abandoned_messages() const;

    // For the owner's finishing rules.
    std::int64_t last_packet_ms() const { return last_packet_ms_; }    // any datagram
    std::int64_t last_message_ms() const { return last_message_ms_; }  // an SCTP message
    bool up() const;                                                   // the association is up
    bool all_acknowledged() const;  // nothing of ours unacknowledged (true without association)
    bool has_unread();              // received data held back by back-pressure
    std::optional<std::string> remote_abort_reason() const;  // empty reasons are none
    bool ended_unacknowledged() const;
    void set_receiving(bool receiving);

    // The owner is ending the connection: ICE and DTLS failures are no
    // longer reported and the connect time-out stops (liveness is watched
    // until close or abort).
    void closing();
    // Orderly: the channels close (stream reset), then DTLS (close_notify).
    void close();
    // Aborts the association (with the reason in a User-Initiated Abort
    // cause, if any): the remote learns that the connection failed.
    void abort(std::string_view reason = {});
    // close_notify without closing the channels (after abort, an orderly leave).
    void close_dtls();
    // The owner has taken the remote's leave otherwise (a bye): a DTLS close
    // still waiting for held-back data to be read is not reported.
    void cancel_pending_end() { dtls_drain_.reset(); }
    // Destroys timers, channels, association and DTLS now; ICE and mDNS stay
    // until destruction (the owner tears its signaling down in between).
    void release_data_path();

  private:
    void set_state(State state);
    // Runs f, turning a thrown Error into fail(): the layers' callbacks go through it.
    template <typename F>
    void guarded(F&& f) {
        try {
            f();
        } catch (const Error& failure) {
            fail(failure);
        }
    }
    void fail(const Error& failure);

    // Negotiation.
    void send_local_description();
    void send_candidate(const sdp::Candidate& candidate);
    void on_local_candidate(const sdp::Candidate& candidate);
    void on_gathering_done();
    void use_remote_candidate(const sdp::Candidate& candidate);
    void resolve_remote_candidate(const sdp::Candidate& candidate);
    void remote_gathering_done();

    // The data path, layer by layer.
    void on_datagram(const std::uint8_t* data, std::size_t size);        // RFC 7983
    void on_rtp(const std::uint8_t* data, std::size_t size, bool rtcp);  // SRTP unprotects
    void start_srtp();
    bool send_protected(std::span<const std::uint8_t> packet, bool rtcp);
    void media_warning(const std::string& warning);
    bool offers_media() const;
    // Negotiation with media (negotiation.cpp).
    std::string local_answer(sdp::LocalParameters& local);
    sdp::SessionDescription take_remote_offer(const std::string& text,
                                              sdp::SessionDescription description);
    void take_remote_answer_media(const std::string& text,
                                  const sdp::SessionDescription& description);
    void create_dtls();
    void on_ice_connected(const ice::SelectedPair& pair);
    void on_dtls_connected();
    void on_sctp_up();
    void check_liveness();

    // The data channel layer (connection.cpp, "The channels").
    void create_registry();
    void on_channel_open();

    Config config_;
    Callbacks callbacks_;
    Scheduler& scheduler_;
    const Clock& clock_;
    StackProvider stack_;
    dtls::Certificate certificate_;
    State state_ = State::kNew;
    State reached_ = State::kNew;  // the furthest state on the way to kOpen

    std::optional<sdp::SessionDescription> remote_;
    std::vector<sdp::Candidate> local_candidates_;
    std::vector<std::string> early_candidates_;  // arrived before the description
    bool local_description_sent_ = false;
    int pending_resolutions_ = 0;
    unsigned remote_candidates_ = 0;
    unsigned bad_candidates_ = 0;
    bool remote_end_of_candidates_ = false;  // held back while names resolve
    std::optional<ice::SelectedPair> pair_;
    DemuxCounters demux_;
    SrtpCounters srtp_counters_;
    std::vector<sdp::NegotiatedTrack> tracks_;
    bool data_channel_ = true;               // an SCTP association runs
    std::string offer_text_;                 // the remote's offer, for the answer
    std::vector<std::uint8_t> srtp_buffer_;  // what arrives, unprotected in place
    std::vector<std::uint8_t> send_buffer_;  // what leaves, protected
    std::int64_t last_packet_ms_ = 0;
    std::int64_t last_message_ms_ = 0;

    loop::Timer connect_deadline_;
    loop::Timer liveness_;
    loop::Timer dtls_drain_;  // DTLS closed: waiting for SCTP's buffer to be read

    // Destroyed in reverse: the channel uses the association, the
    // association sends through DTLS, DTLS through ICE.
    std::unique_ptr<ice::Transport> ice_;
    std::unique_ptr<ice::mdns::Resolver> mdns_;  // made when a ".local" candidate comes
    std::unique_ptr<dtls::Transport> dtls_;
    std::unique_ptr<srtp::Session> srtp_;
    std::unique_ptr<sctp::Association> sctp_;
    std::unique_ptr<datachannel::Registry> registry_;
};

}  // namespace rtcpeer::peer
