#include "peer/connection.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <span>

#include "base/log.hpp"
#include "rtp/demux.hpp"
#include "sdp/text.hpp"
#include "srtp/keying.hpp"

namespace rtcpeer::peer {

const char* to_string(State state) {
    switch (state) {
        case State::kNew:
            return "new";
        case State::kWaitingForRemote:
            return "waiting-for-remote";
        case State::kConnectingIce:
            return "connecting-ice";
        case State::kHandshakingDtls:
            return "handshaking-dtls";
        case State::kConnectingSctp:
            return "connecting-sctp";
        case State::kOpeningChannel:
            return "opening-channel";
        case State::kOpen:
            return "open";
        case State::kClosing:
            return "closing";
        case State::kClosed:
            return "closed";
        case State::kFailed:
            return "failed";
    }
    return "?";
}

namespace {

// What the description leaves to chance: SSRCs, CNAME and ids (RFC 3550
// §8.1, RFC 7022: random, per session).
void fill_in_media(sdp::LocalMedia& media) {
    std::random_device random;
    auto word = [&random] {
        static constexpr char kLetters[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        std::string out;
        for (int i = 0; i < 16; ++i) out += kLetters[random() % (sizeof kLetters - 1)];
        return out;
    };
    while (media.audio.ssrc == 0) media.audio.ssrc = random();
    while (media.video.ssrc == 0 || media.video.ssrc == media.audio.ssrc)
        media.video.ssrc = random();
    if (media.cname.empty()) media.cname = word();
    if (media.stream_id.empty()) media.stream_id = word();
    if (media.audio.track_id.empty()) media.audio.track_id = word();
    if (media.video.track_id.empty()) media.video.track_id = word();
}

}  // namespace

const char* to_string(DescriptionType type) {
    return type == DescriptionType::kOffer ? "offer" : "answer";
}

Connection::Connection(Config config, ice::TransportFactory transport, StackProvider stack,
                       Callbacks callbacks, Scheduler& scheduler,
                       std::optional<dtls::Certificate> certificate)
    : config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      scheduler_(scheduler),
      clock_(scheduler.clock()),
      stack_(std::move(stack)),
      certificate_(certificate ? std::move(*certificate) : dtls::Certificate::generate()),
      connect_deadline_(scheduler),
      liveness_(scheduler),
      dtls_drain_(scheduler) {
    if (config_.media) fill_in_media(*config_.media);
    ice_ = transport(ice::Transport::Callbacks{
        [this](const sdp::Candidate& c) { guarded([&] { on_local_candidate(c); }); },
        [this] { guarded([&] { on_gathering_done(); }); },
        [this](const ice::SelectedPair& pair) { guarded([&] { on_ice_connected(pair); }); },
        [this](const std::string& why) {
            // The remote may leave while we close.
            if (state_ == State::kClosing || state_ == State::kClosed) return;
            fail(Error(ErrorCategory::kConnection, "ice", why));
        },
        [this](const std::uint8_t* data, std::size_t size) { on_datagram(data, size); },
    });
}

Connection::~Connection() {
    release_data_path();
    mdns_.reset();
    ice_.reset();
}

void Connection::release_data_path() {
    connect_deadline_.reset();
    liveness_.reset();
    dtls_drain_.reset();
    registry_.reset();
    sctp_.reset();
    srtp_.reset();
    dtls_.reset();
}

void Connection::fail(const Error& failure) {
    if (state_ != State::kClosing && state_ != State::kClosed) set_state(State::kFailed);
    connect_deadline_.reset();
    liveness_.reset();
    if (callbacks_.on_failure) callbacks_.on_failure(failure);
}

void Connection::set_state(State state) {
    if (state == state_) return;
    state_ = state;
    if (state <= State::kOpen && state > reached_) reached_ = state;
    if (callbacks_.on_state) callbacks_.on_state(state);
}

const char* Connection::stage() const {
    switch (reached_) {
        case State::kHandshakingDtls:
            return "dtls";
        case State::kConnectingSctp:
            return "sctp";
        case State::kOpeningChannel:
        case State::kOpen:
            return "channel";
        default:
            return "ice";
    }
}

void Connection::start() {
    set_state(State::kWaitingForRemote);
    if (config_.offerer) {
        ice_->gather();
        if (config_.trickle) send_local_description();
    }
}

// ---- The data path ----

void Connection::on_datagram(const std::uint8_t* data, std::size_t size) {
    last_packet_ms_ = clock_.now_ms();
    // RFC 7983: one 5-tuple carries STUN, DTLS and SRTP, told apart by the first byte.
    switch (rtp::classify(std::span<const std::uint8_t>(data, size))) {
        case rtp::DatagramKind::kDtls:
            ++demux_.dtls;
            if (dtls_) guarded([&] { dtls_->on_datagram(data, size); });
            return;
        case rtp::DatagramKind::kRtp:
            on_rtp(data, size, false);
            return;
        case rtp::DatagramKind::kRtcp:
            on_rtp(data, size, true);
            return;
        case rtp::DatagramKind::kStun:
            ++demux_.stun;  // the ICE agent answers STUN itself
            return;
        default:
            ++demux_.dropped;
            return;
    }
}

void Connection::on_rtp(const std::uint8_t* data, std::size_t size, bool rtcp) {
    ++demux_.rtp;
    if (!srtp_) {
        ++srtp_counters_.unkeyed;
        return;
    }
    if (size > srtp::Session::kMaxPacket) {
        ++srtp_counters_.malformed;
        return;
    }
    // Unprotected in place, in a buffer of our own (the datagram is libnice's).
    std::copy(data, data + size, srtp_buffer_.begin());
    const std::span<std::uint8_t> buffer(srtp_buffer_.data(), size);
    const srtp::Result result =
        rtcp ? srtp_->unprotect_rtcp(buffer, buffer) : srtp_->unprotect_rtp(buffer, buffer);
    switch (result.status) {
        case srtp::Status::kOk:
            break;
        case srtp::Status::kAuthFailure:
            ++srtp_counters_.auth_failures;
            return;
        case srtp::Status::kReplay:
            ++srtp_counters_.replays;
            return;
        default:
            ++srtp_counters_.malformed;
            return;
    }
    const std::span<const std::uint8_t> packet(srtp_buffer_.data(), result.size);
    if (rtcp) {
        ++srtp_counters_.rtcp_received;
        if (callbacks_.on_rtcp) guarded([&] { callbacks_.on_rtcp(packet); });
    } else {
        ++srtp_counters_.rtp_received;
        if (callbacks_.on_rtp) guarded([&] { callbacks_.on_rtp(packet); });
    }
}

void Connection::start_srtp() {
    // Without a track nothing is keyed: setting up libsrtp runs its
    // self-tests, tens of milliseconds that would hold up the data channel.
    if (tracks_.empty()) return;
    const auto material = dtls_->srtp_keying_material();
    if (!material) {
        media_warning("the remote chose no SRTP profile; no media flows");
        return;
    }
    const auto role =
        dtls_->role() == dtls::Role::kClient ? srtp::DtlsRole::kClient : srtp::DtlsRole::kServer;
    const auto keys = srtp::keys_from_dtls(material->profile, role, material->material);
    if (!keys) {
        media_warning("DTLS settled an SRTP profile rtcpeer cannot use (" +
                      std::to_string(material->profile) + "); no media flows");
        return;
    }
    try {
        srtp_ = std::make_unique<srtp::Session>(keys->profile, keys->keys);
    } catch (const std::exception& failure) {
        throw Error(ErrorCategory::kRuntime, "srtp", failure.what());
    }
    srtp_buffer_.assign(srtp::Session::kMaxPacket + srtp::Session::kMaxOverhead, 0);
    log::state("SRTP keyed (" + std::string(srtp::to_string(keys->profile)) + ", " +
               std::to_string(tracks_.size()) + " track" + (tracks_.size() == 1 ? "" : "s") + ")");
    if (callbacks_.on_media_ready) callbacks_.on_media_ready();
}

bool Connection::send_rtp(std::span<const std::uint8_t> packet) {
    return send_protected(packet, false);
}

bool Connection::send_rtcp(std::span<const std::uint8_t> packet) {
    return send_protected(packet, true);
}

bool Connection::send_protected(std::span<const std::uint8_t> packet, bool rtcp) {
    if (!srtp_ || !ice_ || packet.size() > srtp::Session::kMaxPacket) {
        ++srtp_counters_.send_failures;
        return false;
    }
    std::vector<std::uint8_t>& out = send_buffer_;
    out.resize(packet.size() + srtp::Session::kMaxOverhead);
    const srtp::Result result =
        rtcp ? srtp_->protect_rtcp(packet, out) : srtp_->protect_rtp(packet, out);
    if (!result.ok() || ice_->send(out.data(), result.size) < 0) {
        ++srtp_counters_.send_failures;
        return false;
    }
    ++(rtcp ? srtp_counters_.rtcp_sent : srtp_counters_.rtp_sent);
    return true;
}

void Connection::media_warning(const std::string& warning) {
    if (callbacks_.on_media_warning) {
        callbacks_.on_media_warning(warning);
    } else {
        log::warn(warning);
    }
}

void Connection::create_dtls() {
    // RFC 8842: the side that says active is the DTLS client.
    sdp::Setup local_setup =
        config_.offerer
            ? (remote_->setup == sdp::Setup::kActive ? sdp::Setup::kPassive : sdp::Setup::kActive)
            : sdp::answer_setup(remote_->setup);
    const auto role =
        local_setup == sdp::Setup::kActive ? dtls::Role::kClient : dtls::Role::kServer;
    dtls_ = std::make_unique<dtls::Transport>(
        certificate_, role, remote_->fingerprints,
        [this](const std::uint8_t* data, std::size_t size) { return ice_->send(data, size); },
        dtls::Transport::Callbacks{
            [this] { guarded([&] { on_dtls_connected(); }); },
            [this](const std::uint8_t* data, std::size_t size) {
                if (sctp_) sctp_->on_packet(data, size);
            },
            [this] {
                log::state("DTLS closed by the remote");
                // close_notify overtakes data that back-pressure holds in
                // SCTP's buffer: the end counts once all of it is read.
                dtls_drain_.start_repeating(std::chrono::milliseconds(20), [this] {
                    if (sctp_ && sctp_->has_unread()) return true;
                    guarded([&] { callbacks_.on_ended("the remote closed DTLS", true); });
                    return false;
                });
            },
            [this](const Error& failure) {
                if (state_ != State::kClosing && state_ != State::kClosed) fail(failure);
            },
        },
        scheduler_);
}

void Connection::on_ice_connected(const ice::SelectedPair& pair) {
    pair_ = pair;
    set_state(State::kHandshakingDtls);
    log::state("ICE connected: " + pair.describe());
    if (dtls_) dtls_->start();  // gone only while the owner tears down
}

void Connection::on_dtls_connected() {
    set_state(State::kConnectingSctp);
    // Consent is watched from here: during the handshake GnuTLS backs its
    // retransmissions off to many seconds of silence under heavy loss, and
    // the connect time-out bounds that phase.
    last_packet_ms_ = clock_.now_ms();
    liveness_.start_repeating(std::chrono::milliseconds(1000), [this] {
        guarded([&] { check_liveness(); });
        return true;
    });
    log::state("DTLS connected (" + dtls_->describe() + "; remote fingerprint verified)");
    start_srtp();
    if (!data_channel_) {
        // Media only: no association; the connection is open with DTLS.
        connect_deadline_.reset();
        if (callbacks_.on_remote_candidates_done) callbacks_.on_remote_candidates_done();
        set_state(State::kOpen);
        return;
    }
    sctp::Config config;
    config.local_port = config_.sctp_port;
    config.remote_port = remote_->sctp_port;
    config.max_message_size = sdp::kLocalMaxMessageSize;
    sctp_ = std::make_unique<sctp::Association>(
        stack_(), config,
        [this](const std::uint8_t* data, std::size_t size, int copies) {
            return dtls_->send(data, size, copies);
        },
        sctp::Association::Callbacks{
            [this] { guarded([&] { on_sctp_up(); }); },
            [this](std::uint16_t stream, std::uint32_t ppid, std::string_view data) {
                last_message_ms_ = clock_.now_ms();
                if (registry_) guarded([&] { registry_->on_sctp_message(stream, ppid, data); });
            },
            [this](std::uint16_t stream) {
                if (registry_) guarded([&] { registry_->on_incoming_reset(stream); });
            },
            [this] {
                if (registry_) guarded([&] { registry_->on_writable(); });
            },
            [this](const std::string& why, bool graceful) {
                // The owner judges the end first; its channels then close.
                guarded([&] { callbacks_.on_ended(why, graceful); });
                if (registry_) guarded([&] { registry_->on_association_ended(); });
            },
            [this](const std::string& why) { fail(protocol_error("sctp", why)); },
        });
    create_registry();
    sctp_->connect();
}

void Connection::on_sctp_up() {
    log::state("SCTP up (port " + std::to_string(config_.sctp_port) + " -> " +
               std::to_string(remote_->sctp_port) + ")");
    set_state(State::kOpeningChannel);
}

void Connection::check_liveness() {
    if (state_ == State::kClosed || state_ == State::kFailed) return;
    const std::int64_t silent_ms = clock_.now_ms() - last_packet_ms_;
    if (callbacks_.on_silence) callbacks_.on_silence(silent_ms);
    // Consent freshness on authenticated traffic: SCTP heartbeats (every
    // 5 s) keep even an idle connection audible, so this much silence means
    // the remote is gone or no longer consents (RFC 7675 allows 30 s).
    const std::int64_t limit_ms = config_.silence_limit.count();
    if (silent_ms < limit_ms) return;
    // Without a data channel nothing but media keeps the path audible, and
    // a remote may stay quiet for as long as it has nothing to send (aiortc
    // reports only on streams it has seen). Silence counts once the remote
    // has sent SRTP or SRTCP (rtcpeer sends a report every second, media or
    // not); before that the owner's rules and the user decide
    // (docs/ARCHITECTURE.md, "Where time-outs and finishing rules live").
    if (!data_channel_ && srtp_counters_.rtp_received + srtp_counters_.rtcp_received == 0) return;
    throw Error(ErrorCategory::kConnection, "connection",
                "nothing heard from the remote for " + std::to_string(limit_ms / 1000) + " s");
}

// ---- For the owner ----

bool Connection::up() const { return sctp_ && sctp_->up(); }

bool Connection::all_acknowledged() const { return !sctp_ || sctp_->all_acknowledged(); }

bool Connection::has_unread() { return sctp_ && sctp_->has_unread(); }

std::optional<std::string> Connection::remote_abort_reason() const {
    if (!sctp_) return std::nullopt;
    const std::optional<std::string>& reason = sctp_->remote_abort_reason();
    // An empty reason is what usrsctp puts in any ABORT from a closed
    // socket: it says nothing about why.
    if (!reason || reason->empty()) return std::nullopt;
    return *reason;
}

bool Connection::ended_unacknowledged() const { return sctp_ && sctp_->ended_unacknowledged(); }

void Connection::set_receiving(bool receiving) {
    if (sctp_) sctp_->set_receiving(receiving);
}

void Connection::closing() {
    connect_deadline_.reset();
    if (state_ != State::kFailed && state_ != State::kClosed) set_state(State::kClosing);
}

void Connection::close() {
    closing();
    connect_deadline_.reset();
    liveness_.reset();
    if (registry_) registry_->close_all();
    if (dtls_) dtls_->close();
    if (state_ == State::kClosing) set_state(State::kClosed);
}

void Connection::abort(std::string_view reason) {
    connect_deadline_.reset();
    liveness_.reset();
    if (sctp_) sctp_->abort(reason);
    set_state(State::kFailed);
}

void Connection::close_dtls() {
    if (dtls_) dtls_->close();
}

// ---- The channels ----
//
// The data channel layer on the association: everything that knows the
// registry is in this part. The connection counts as open once the first
// channel is (ours, or one of the remote's that the owner took).

void Connection::create_registry() {
    const bool dtls_client = dtls_->role() == dtls::Role::kClient;
    registry_ = std::make_unique<datachannel::Registry>(
        *sctp_, dtls_client,
        datachannel::Registry::Callbacks{
            [this](const datachannel::IncomingChannel& incoming) {
                return callbacks_.accept_channel && callbacks_.accept_channel(incoming);
            },
            [this](datachannel::DataChannel& channel) {
                // Taken: the ACK is on its way, the connection is open.
                on_channel_open();
                if (callbacks_.on_channel) callbacks_.on_channel(channel);
            },
        });
}

datachannel::DataChannel& Connection::open_channel(std::string label,
                                                   datachannel::ChannelOptions options,
                                                   datachannel::DataChannel::Callbacks callbacks) {
    if (!registry_) {
        throw Error(ErrorCategory::kRuntime, "channel", "no SCTP association to open it on");
    }
    auto on_open = std::move(callbacks.on_open);
    callbacks.on_open = [this, on_open] {
        on_channel_open();
        if (on_open) on_open();
    };
    return registry_->open(std::move(label), std::move(options), std::move(callbacks));
}

std::uint64_t Connection::abandoned_messages() const { return sctp_ ? sctp_->abandoned() : 0; }

void Connection::on_channel_open() {
    if (state_ != State::kOpeningChannel) return;
    connect_deadline_.reset();
    // Candidates that still trickle in are not needed.
    if (callbacks_.on_remote_candidates_done) callbacks_.on_remote_candidates_done();
    set_state(State::kOpen);
}

}  // namespace rtcpeer::peer
