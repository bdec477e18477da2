#include "peer/connection.hpp"

#include <cstdio>
#include <random>
#include <span>

#include "base/log.hpp"
#include "rtp/demux.hpp"
#include "sdp/text.hpp"

namespace rtcpeer::peer {

namespace {

std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", seconds);
    return text;
}

std::uint64_t random_session_id() {
    std::random_device random;
    // RFC 8866 §5.2: a numeric id; keep it below 2^62 like browsers.
    return ((static_cast<std::uint64_t>(random()) << 32) | random()) & ((1ULL << 62) - 1);
}

}  // namespace

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

const char* to_string(DescriptionType type) {
    return type == DescriptionType::kOffer ? "offer" : "answer";
}

Connection::Connection(Config config, ice::TransportFactory transport, sctp::Stack& stack,
                       Callbacks callbacks, Scheduler& scheduler,
                       std::optional<dtls::Certificate> certificate)
    : config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      scheduler_(scheduler),
      clock_(scheduler.clock()),
      stack_(stack),
      certificate_(certificate ? std::move(*certificate) : dtls::Certificate::generate()),
      connect_deadline_(scheduler),
      liveness_(scheduler),
      dtls_drain_(scheduler) {
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
    channel_.reset();
    sctp_.reset();
    dtls_.reset();
}

template <typename F>
void Connection::guarded(F&& f) {
    try {
        f();
    } catch (const Error& failure) {
        fail(failure);
    }
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

// ---- Negotiation ----

void Connection::send_local_description() {
    sdp::LocalParameters local;
    const ice::Credentials credentials = ice_->local_credentials();
    local.ice_ufrag = credentials.ufrag;
    local.ice_pwd = credentials.pwd;
    local.fingerprint = certificate_.fingerprint();
    local.session_id = random_session_id();
    local.sctp_port = config_.sctp_port;
    // Without trickle the description carries every candidate; with trickle
    // it goes out at once and each candidate follows as a message.
    if (!config_.trickle) {
        local.candidates = local_candidates_;
        local.end_of_candidates = true;
    }
    local_description_sent_ = true;
    if (config_.offerer) {
        callbacks_.on_local_description(DescriptionType::kOffer, sdp::build_offer(local));
    } else {
        local.setup = sdp::answer_setup(remote_->setup);
        callbacks_.on_local_description(DescriptionType::kAnswer,
                                        sdp::build_answer(local, *remote_));
    }
    if (config_.trickle) {
        for (const sdp::Candidate& candidate : local_candidates_) send_candidate(candidate);
    }
}

void Connection::send_candidate(const sdp::Candidate& candidate) {
    const std::string mid = remote_ ? remote_->mid : "0";
    const int index = remote_ ? static_cast<int>(remote_->data_index) : 0;
    callbacks_.on_local_candidate(sdp::to_string(candidate), mid, index);
}

void Connection::on_local_candidate(const sdp::Candidate& candidate) {
    log::state("local candidate " + sdp::to_string(candidate));
    local_candidates_.push_back(candidate);
    if (config_.trickle && local_description_sent_) send_candidate(candidate);
}

void Connection::on_gathering_done() {
    if (callbacks_.on_gathering_done) callbacks_.on_gathering_done();
    log::state("gathering done (" + std::to_string(local_candidates_.size()) + " candidates)");
    // libnice does not say why a TURN allocation failed; both usual causes are named.
    std::string silent;
    for (const std::string& url : ice_->silent_relays())
        silent += (silent.empty() ? "" : ", ") + url;
    if (config_.relay_only && local_candidates_.empty()) {
        throw Error(ErrorCategory::kConnection, "ice",
                    "no relay candidate: " + silent +
                        " gave no allocation (wrong user name or password, or unreachable)");
    }
    if (!silent.empty()) {
        log::warn("no relay candidate from " + silent +
                  " (wrong user name or password, or unreachable)");
    }
    if (local_candidates_.empty()) {
        throw Error(ErrorCategory::kRuntime, "ice",
                    "no local candidate (no usable network interface)");
    }
    if (!config_.trickle && !local_description_sent_ && (config_.offerer || remote_))
        send_local_description();
}

void Connection::set_remote_description(DescriptionType type, const std::string& text) {
    const bool expected = config_.offerer == (type == DescriptionType::kAnswer);
    if (!expected) {
        throw protocol_error("signaling", std::string("unexpected ") + to_string(type) +
                                              " (this side is the " +
                                              (config_.offerer ? "offer" : "answer") + "er)");
    }
    if (remote_) {
        log::warn(std::string("ignoring a second ") + to_string(type) +
                  " (renegotiation is not supported)");
        return;
    }
    sdp::SessionDescription description = sdp::parse(text);
    if (type == DescriptionType::kAnswer && description.setup == sdp::Setup::kActpass) {
        throw protocol_error(
            "sdp", "the answer says a=setup:actpass; an answer must pick active or passive");
    }
    if (type == DescriptionType::kAnswer && description.setup == sdp::Setup::kHoldconn) {
        throw protocol_error("sdp", "the answer says a=setup:holdconn");
    }
    for (const std::string& warning : description.warnings)
        log::warn("remote description: " + warning);
    remote_ = std::move(description);
    log::state(std::string(to_string(type)) + " received (" +
               std::to_string(remote_->candidates.size()) + " candidates" +
               (remote_->end_of_candidates ? ", complete)" : ")"));
    set_state(State::kConnectingIce);

    // From here ICE can run: the connect time-out starts. Its text names the
    // setting; the owner may put its own name for it (Error::about).
    const auto timeout = config_.connect_timeout;
    connect_deadline_.start_once(timeout, [this, timeout] {
        const char* stage_name = stage();
        const double seconds = static_cast<double>(timeout.count()) / 1000.0;
        fail(Error(ErrorCategory::kTimeout, stage_name,
                   std::string(stage_name == std::string("ice") ? "not connected" : "not up") +
                       " within " + seconds_text(seconds) + " (connect time-out)")
                 .about("connect time-out"));
    });

    create_dtls();
    ice_->set_remote_credentials({remote_->ice_ufrag, remote_->ice_pwd});
    for (const sdp::Candidate& candidate : remote_->candidates) use_remote_candidate(candidate);
    auto early = std::move(early_candidates_);
    early_candidates_.clear();
    for (const std::string& candidate : early) add_remote_candidate(candidate);
    if (remote_->end_of_candidates) remote_gathering_done();

    if (!config_.offerer) {
        ice_->gather();
        if (config_.trickle) send_local_description();
    }
}

void Connection::add_remote_candidate(const std::string& candidate) {
    if (!remote_) {
        // Messages keep their order on one stream, but be lenient with peers that race.
        if (early_candidates_.size() < 64) early_candidates_.push_back(candidate);
        return;
    }
    if (candidate.empty()) {
        log::state("remote end of candidates");
        remote_gathering_done();
        return;
    }
    try {
        use_remote_candidate(sdp::parse_candidate(candidate));
    } catch (const Error& failure) {
        // Bounded noise: a hostile peer may send thousands.
        constexpr unsigned kMaxWarnings = 10;
        if (bad_candidates_ < kMaxWarnings) log::warn(std::string(failure.what()) + "; ignored");
        if (++bad_candidates_ == kMaxWarnings)
            log::warn("further malformed candidates are ignored without a warning");
    }
}

void Connection::use_remote_candidate(const sdp::Candidate& candidate) {
    if (candidate.component != 1) return;  // RTCP component: rtcp-mux makes it unused
    // A .local name comes back here once resolved (at most 16 wait at a
    // time), and is counted then.
    if (candidate.has_hostname()) return resolve_remote_candidate(candidate);
    // Every remote candidate becomes candidate pairs to check; a peer that
    // sends thousands would make ICE busy for minutes. Real peers send tens.
    constexpr unsigned kMaxRemoteCandidates = 256;
    if (remote_candidates_ >= kMaxRemoteCandidates) {
        if (remote_candidates_++ == kMaxRemoteCandidates) {
            log::warn("the remote sent more than " + std::to_string(kMaxRemoteCandidates) +
                      " candidates; ignoring the rest");
        }
        return;
    }
    ++remote_candidates_;
    std::string why;
    if (!ice_->add_remote_candidate(candidate, why)) {
        if (callbacks_.explain_unused_candidate)
            why = callbacks_.explain_unused_candidate(candidate, why);
        log::state("remote candidate " + sdp::to_string(candidate) + " not used: " + why);
        return;
    }
    log::state("remote candidate " + sdp::to_string(candidate));
}

void Connection::resolve_remote_candidate(const sdp::Candidate& candidate) {
    const std::string& name = candidate.address;
    if (name.size() < 7 || name.compare(name.size() - 6, 6, ".local") != 0) {
        log::warn("remote candidate host name " + sdp::text::printable(name, 80) +
                  " is not an mDNS name; ignored");
        return;
    }
    if (pending_resolutions_ >= 16) {
        log::warn("too many mDNS names to resolve; " + sdp::text::printable(name, 80) + " ignored");
        return;
    }
    if (!mdns_) mdns_ = std::make_unique<ice::mdns::Resolver>(clock_);
    ++pending_resolutions_;
    log::state("resolving " + name + " with mDNS");
    mdns_->resolve(name, [this, candidate](const std::vector<std::string>& addresses) {
        --pending_resolutions_;
        if (addresses.empty()) {
            log::warn("could not resolve " + candidate.address + " with mDNS; candidate ignored");
        } else {
            sdp::Candidate resolved = candidate;
            resolved.address = addresses.front();
            log::state(candidate.address + " is " + resolved.address);
            guarded([&] { use_remote_candidate(resolved); });
        }
        if (pending_resolutions_ == 0 && remote_end_of_candidates_)
            guarded([&] { remote_gathering_done(); });
    });
}

void Connection::remote_gathering_done() {
    remote_end_of_candidates_ = true;
    if (callbacks_.on_remote_candidates_done) callbacks_.on_remote_candidates_done();
    // Only once every name has been resolved, or ICE would give up early.
    if (pending_resolutions_ == 0) ice_->remote_gathering_done();
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
        case rtp::DatagramKind::kRtcp:
            on_rtp(data, size);
            return;
        case rtp::DatagramKind::kStun:
            ++demux_.stun;  // the ICE agent answers STUN itself
            return;
        default:
            ++demux_.dropped;
            return;
    }
}

void Connection::on_rtp(const std::uint8_t*, std::size_t) {
    // SRTP plugs in here (unprotect with the keys DTLS exports); until then
    // no media is negotiated and the packet is dropped.
    ++demux_.rtp;
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
    dtls_->start();
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
    sctp::Config config;
    config.local_port = config_.sctp_port;
    config.remote_port = remote_->sctp_port;
    config.max_message_size = sdp::kLocalMaxMessageSize;
    sctp_ = std::make_unique<sctp::Association>(
        stack_, config,
        [this](const std::uint8_t* data, std::size_t size, int copies) {
            return dtls_->send(data, size, copies);
        },
        sctp::Association::Callbacks{
            [this] { guarded([&] { on_sctp_up(); }); },
            [this](std::uint16_t stream, std::uint32_t ppid, std::string_view data) {
                last_message_ms_ = clock_.now_ms();
                if (channel_) guarded([&] { channel_->on_sctp_message(stream, ppid, data); });
            },
            [this](std::uint16_t stream) {
                if (channel_) guarded([&] { channel_->on_incoming_reset(stream); });
            },
            [this] {
                if (callbacks_.on_writable) guarded([&] { callbacks_.on_writable(); });
            },
            [this](const std::string& why, bool graceful) {
                guarded([&] { callbacks_.on_ended(why, graceful); });
            },
            [this](const std::string& why) { fail(protocol_error("sctp", why)); },
        });
    create_channel();
    sctp_->connect();
}

void Connection::on_sctp_up() {
    log::state("SCTP up (port " + std::to_string(config_.sctp_port) + " -> " +
               std::to_string(remote_->sctp_port) + ")");
    set_state(State::kOpeningChannel);
    open_channel();
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
    if (channel_) channel_->close();
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

// ---- The channel ----
//
// The data channel layer on the association: one channel today. Everything
// that knows datachannel::Channel is in this part.

void Connection::create_channel() {
    const bool dtls_client = dtls_->role() == dtls::Role::kClient;
    channel_ = std::make_unique<datachannel::Channel>(
        *sctp_, dtls_client,
        datachannel::Channel::Callbacks{
            [this] { guarded([&] { on_channel_open(); }); },
            [this](std::string_view data, bool binary) {
                if (callbacks_.on_message) guarded([&] { callbacks_.on_message(data, binary); });
            },
            [this] {
                if (callbacks_.on_remote_close) guarded([&] { callbacks_.on_remote_close(); });
            },
            [this](const Error& failure) { fail(failure); },
        });
}

void Connection::open_channel() {
    if (config_.offerer) channel_->open(config_.label);
}

void Connection::on_channel_open() {
    connect_deadline_.reset();
    // Candidates that still trickle in are not needed.
    if (callbacks_.on_remote_candidates_done) callbacks_.on_remote_candidates_done();
    set_state(State::kOpen);
}

}  // namespace rtcpeer::peer
