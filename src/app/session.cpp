#include "app/session.hpp"

#include <glib-unix.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "app/channel_options.hpp"
#include "base/log.hpp"
#include "sdp/text.hpp"

namespace rtcpeer {

namespace {

std::string seconds_text(double seconds) {
    char text[32];
    std::snprintf(text, sizeof text, "%g s", seconds);
    return text;
}

// Command-line seconds as a timer's delay.
std::chrono::milliseconds milliseconds(double seconds) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// The reason an interrupted rtcpeer gives in its ABORT, followed by the signal.
constexpr const char* kInterruptReasonPrefix = "interrupted by ";

std::uint64_t random_session_id() {
    std::random_device random;
    // RFC 8866 §5.2: a numeric id; keep it below 2^62 like browsers.
    return ((static_cast<std::uint64_t>(random()) << 32) | random()) & ((1ULL << 62) - 1);
}

}  // namespace

Session::Session(Options options) : options_(std::move(options)) {
    loop_ = g_main_loop_new(nullptr, FALSE);
}

Session::~Session() {
    for (guint source : signal_sources_) {
        if (source != 0) g_source_remove(source);
    }
    // No timer of the session may fire while the ICE agent releases its
    // TURN allocations (which runs the loop).
    for (loop::Timer* timer : {&signaling_deadline_, &connect_deadline_, &eof_wait_, &bye_grace_,
                               &dtls_drain_, &abort_grace_, &ack_wait_, &liveness_, &progress_})
        timer->reset();
    // Layers go before the loop they are attached to, top first.
    pipe_.reset();
    forwarder_.reset();
    check_.reset();  // its timers use the channel
    channel_ = nullptr;
    registry_.reset();
    sctp_.reset();
    dtls_.reset();
    signaling_.reset();
    mdns_.reset();
    ice_.reset();
    g_main_loop_unref(loop_);
}

template <typename F>
void Session::guarded(F&& f) {
    try {
        f();
    } catch (const Error& failure) {
        fail(failure);
    }
}

ExitCode Session::run() {
    start_us_ = g_get_monotonic_time();
    guarded([this] { start(); });
    if (!finished_) g_main_loop_run(loop_);
    if (sctp_) sctp_counters_ = sctp::Association::counters();
    if (sctp_) abandoned_ = sctp_->abandoned();
    log::end_progress();
    if (failure_) std::fprintf(stderr, "%s\n", failure_->line().c_str());
    report();
    return result_;
}

void Session::mark(const char* stage) {
    stage_ms_.emplace_back(stage, static_cast<double>(g_get_monotonic_time() - start_us_) / 1000.0);
}

RunSummary Session::summary() const {
    RunSummary s;
    s.role = options_.role;
    s.code = result_;
    s.failure = failure_;
    s.stage_ms = stage_ms_;
    s.duration_s = static_cast<double>(end_us_ - start_us_) / 1e6;
    s.pair = pair_;
    if (forwarder_) {
        s.bytes_sent = forwarder_->bytes_sent();
        s.bytes_received = forwarder_->bytes_received();
        s.connections = forwarder_->connections();
    }
    if (pipe_) {
        s.bytes_sent = pipe_->bytes_sent();
        s.bytes_received = pipe_->bytes_received();
        s.messages_sent = pipe_->messages_sent();
        s.messages_received = pipe_->messages_received();
    }
    if (channel_open_us_ != 0)
        s.data_seconds = static_cast<double>(end_us_ - channel_open_us_) / 1e6;
    s.sctp = sctp_counters_;
    s.abandoned_messages = abandoned_;
    s.channel = channel_summary_;
    if (check_) {
        s.remote_answered = check_->remote_answered();
        s.rtts_ms = check_->rtts_ms();
    }
    return s;
}

void Session::report() const {
    const RunSummary run = summary();
    if (options_.check) {
        std::printf("%s\n", check_json(run).dump().c_str());
        std::fflush(stdout);
    }
    if (options_.stats_file.empty()) return;
    const std::string text = stats_json(run).dump() + "\n";
    if (options_.stats_file == "-") {
        std::fputs(text.c_str(), stderr);
        return;
    }
    FILE* file = std::fopen(options_.stats_file.c_str(), "w");
    if (file == nullptr || std::fputs(text.c_str(), file) < 0 || std::fclose(file) != 0) {
        std::fprintf(stderr, "rtcpeer: warning: cannot write --stats %s\n",
                     options_.stats_file.c_str());
    }
}

void Session::start() {
    log::configure(options_.verbosity, options_.quiet);
    signal_sources_[0] = g_unix_signal_add(
        SIGINT,
        [](gpointer self) -> gboolean {
            static_cast<Session*>(self)->on_interrupt(ExitCode::kInterrupted);
            return G_SOURCE_CONTINUE;
        },
        this);
    signal_sources_[1] = g_unix_signal_add(
        SIGTERM,
        [](gpointer self) -> gboolean {
            static_cast<Session*>(self)->on_interrupt(ExitCode::kTerminated);
            return G_SOURCE_CONTINUE;
        },
        this);

    certificate_.emplace(dtls::Certificate::generate());
    ice::Config ice_config = options_.ice;
    ice_config.controlling =
        options_.role == Role::kOffer;  // the offerer controls (RFC 8445 §6.1.1)
    ice_ = std::make_unique<ice::Agent>(
        ice_config,
        ice::Agent::Callbacks{
            [this](const sdp::Candidate& c) { guarded([&] { on_local_candidate(c); }); },
            [this] { guarded([&] { on_gathering_done(); }); },
            [this](const ice::SelectedPair& pair) { guarded([&] { on_ice_connected(pair); }); },
            [this](const std::string& why) {
                if (finishing_) return;  // the remote may leave while we close
                fail(Error(ErrorCategory::kConnection, "ice", why));
            },
            [this](const std::uint8_t* data, std::size_t size) {
                last_packet_ms_ = clock_.now_ms();
                if (dtls_) guarded([&] { dtls_->on_datagram(data, size); });
            },
        });

    const bool prompts = !options_.quiet;
    signaling_ =
        signaling::create_channel(options_.signaling, options_.role == Role::kOffer, prompts);
    signaling_->start(signaling::Channel::Callbacks{
        [this] {
            mark("signaling_connected");
            log::state("signaling connected (" + signaling_->describe() + ")");
        },
        [this](signaling::Message message) { guarded([&] { on_message(std::move(message)); }); },
        [this] { guarded([&] { on_signaling_closed(); }); },
        [this](const Error& failure) { fail(failure); },
    });
    if (finished_) return;
    log::state(std::string("started as ") + to_string(options_.role) + " over " +
               signaling_->describe() +
               (options_.signaling.trickle ? ", trickle" : ", no trickle"));

    // An explicit --signaling-timeout also bounds the wait for the remote's description.
    if (options_.signaling.timeout_seconds) {
        const double seconds = *options_.signaling.timeout_seconds;
        signaling_deadline_.start_once(milliseconds(seconds), [this, seconds] {
            fail(Error(ErrorCategory::kTimeout, "signaling",
                       std::string("no ") + (options_.role == Role::kOffer ? "answer" : "offer") +
                           " from the remote within " + seconds_text(seconds)));
        });
    }

    if (options_.role == Role::kOffer) {
        ice_->gather();
        if (options_.signaling.trickle) send_local_description();
    }
}

void Session::send_local_description() {
    sdp::LocalParameters local;
    const ice::Credentials credentials = ice_->local_credentials();
    local.ice_ufrag = credentials.ufrag;
    local.ice_pwd = credentials.pwd;
    local.fingerprint = certificate_->fingerprint();
    local.session_id = random_session_id();
    // Without trickle the description carries every candidate; with trickle
    // it goes out at once and each candidate follows as a message (§3).
    const bool trickle = options_.signaling.trickle;
    if (!trickle) {
        local.candidates = local_candidates_;
        local.end_of_candidates = true;
    }
    if (options_.role == Role::kOffer) {
        signaling_->send(signaling::Message::offer(sdp::build_offer(local)));
        log::state("offer sent");
    } else {
        local.setup = sdp::answer_setup(remote_->setup);
        signaling_->send(signaling::Message::answer(sdp::build_answer(local, *remote_)));
        log::state("answer sent");
    }
    local_description_sent_ = true;
    if (trickle) {
        for (const sdp::Candidate& candidate : local_candidates_) send_candidate(candidate);
    }
}

void Session::send_candidate(const sdp::Candidate& candidate) {
    const std::string mid = remote_ ? remote_->mid : "0";
    const int index = remote_ ? static_cast<int>(remote_->data_index) : 0;
    signaling_->send(signaling::Message::ice_candidate(sdp::to_string(candidate), mid, index));
}

void Session::on_local_candidate(const sdp::Candidate& candidate) {
    log::state("local candidate " + sdp::to_string(candidate));
    local_candidates_.push_back(candidate);
    if (options_.signaling.trickle && local_description_sent_) send_candidate(candidate);
}

void Session::on_gathering_done() {
    gathering_done_ = true;
    mark("gathering_done");
    log::state("gathering done (" + std::to_string(local_candidates_.size()) + " candidates)");
    // libnice does not say why a TURN allocation failed; both usual causes are named.
    std::string silent;
    for (const std::string& url : ice_->silent_relays())
        silent += (silent.empty() ? "" : ", ") + url;
    if (options_.ice.relay_only && local_candidates_.empty()) {
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
    if (!options_.signaling.trickle && !local_description_sent_ &&
        (options_.role == Role::kOffer || remote_)) {
        send_local_description();
    }
}

void Session::on_message(signaling::Message message) {
    using Type = signaling::Message::Type;
    switch (message.type) {
        case Type::kOffer:
        case Type::kAnswer:
            return on_remote_description(message);
        case Type::kCandidate:
            return on_remote_candidate(message);
        case Type::kBye:
            log::state("bye received");
            remote_said_bye_ = true;
            // Before its description the remote cannot have sent anything: it left.
            if (!remote_) {
                throw Error(ErrorCategory::kConnection, "signaling",
                            "the remote said bye before its description");
            }
            if (abort_grace_.active()) {
                // The association already ended: this was an orderly leave.
                abort_grace_.reset();
                dtls_drain_.reset();
                notify_remote_closed();
                check_finish();
                return;
            }
            on_remote_bye();
            return;
        case Type::kUnknown:
            log::warn("ignoring a signaling message of unknown type \"" +
                      sdp::text::printable(message.unknown_type, 40) + "\"");
            return;
    }
}

void Session::on_remote_description(const signaling::Message& message) {
    using Type = signaling::Message::Type;
    const bool expected = (options_.role == Role::kOffer) == (message.type == Type::kAnswer);
    if (!expected) {
        throw protocol_error("signaling", std::string("unexpected ") + to_string(message.type) +
                                              " (this side is the " + to_string(options_.role) +
                                              "er)");
    }
    if (remote_) {
        log::warn(std::string("ignoring a second ") + to_string(message.type) +
                  " (renegotiation is not supported)");
        return;
    }
    sdp::SessionDescription description = sdp::parse(message.sdp);
    if (message.type == Type::kAnswer && description.setup == sdp::Setup::kActpass) {
        throw protocol_error(
            "sdp", "the answer says a=setup:actpass; an answer must pick active or passive");
    }
    if (message.type == Type::kAnswer && description.setup == sdp::Setup::kHoldconn) {
        throw protocol_error("sdp", "the answer says a=setup:holdconn");
    }
    for (const std::string& warning : description.warnings)
        log::warn("remote description: " + warning);
    remote_ = std::move(description);
    signaling_deadline_.reset();
    log::state(std::string(to_string(message.type)) + " received (" +
               std::to_string(remote_->candidates.size()) + " candidates" +
               (remote_->end_of_candidates ? ", complete)" : ")"));

    // From here ICE can run: the connect time-out starts (rtcpeer(1), OPTIONS).
    const double seconds = options_.connect_timeout_seconds;
    connect_deadline_.start_once(milliseconds(seconds), [this, seconds] {
        // Name the stage that did not complete: ice, dtls, sctp or channel.
        fail(Error(ErrorCategory::kTimeout, stage_,
                   std::string(stage_ == std::string("ice") ? "not connected" : "not up") +
                       " within " + seconds_text(seconds) + " (--connect-timeout)"));
    });

    create_dtls();
    ice_->set_remote_credentials({remote_->ice_ufrag, remote_->ice_pwd});
    for (const sdp::Candidate& candidate : remote_->candidates) use_remote_candidate(candidate);
    for (const auto& early : early_candidates_) on_remote_candidate(early);
    early_candidates_.clear();
    if (remote_->end_of_candidates) remote_gathering_done();

    if (options_.role == Role::kAnswer) {
        ice_->gather();
        if (options_.signaling.trickle) send_local_description();
    }
}

void Session::on_remote_candidate(const signaling::Message& message) {
    if (!remote_) {
        // Messages keep their order on one stream, but be lenient with peers that race.
        if (early_candidates_.size() < 64) early_candidates_.push_back(message);
        return;
    }
    if (message.candidate.empty()) {
        log::state("remote end of candidates");
        remote_gathering_done();
        return;
    }
    try {
        use_remote_candidate(sdp::parse_candidate(message.candidate));
    } catch (const Error& failure) {
        // Bounded noise: a hostile peer may send thousands.
        constexpr unsigned kMaxWarnings = 10;
        if (bad_candidates_ < kMaxWarnings) log::warn(std::string(failure.what()) + "; ignored");
        if (++bad_candidates_ == kMaxWarnings)
            log::warn("further malformed candidates are ignored without a warning");
    }
}

void Session::use_remote_candidate(const sdp::Candidate& candidate) {
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
        if (!candidate.is_udp() && !options_.ice.tcp) why += "; --ice-tcp allows it";
        log::state("remote candidate " + sdp::to_string(candidate) + " not used: " + why);
        return;
    }
    log::state("remote candidate " + sdp::to_string(candidate));
}

void Session::resolve_remote_candidate(const sdp::Candidate& candidate) {
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
    if (!mdns_) mdns_ = std::make_unique<ice::mdns::Resolver>();
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

void Session::remote_gathering_done() {
    remote_end_of_candidates_ = true;
    signaling_->remote_complete();
    // Only once every name has been resolved, or ICE would give up early.
    if (pending_resolutions_ == 0) ice_->remote_gathering_done();
}

void Session::on_ice_connected(const ice::SelectedPair& pair) {
    ice_connected_ = true;
    pair_ = pair;
    mark("ice_connected");
    log::state("ICE connected: " + pair.describe());
    stage_ = "dtls";
    dtls_->start();
}

void Session::create_dtls() {
    // RFC 8842: the side that says active is the DTLS client.
    sdp::Setup local_setup =
        options_.role == Role::kOffer
            ? (remote_->setup == sdp::Setup::kActive ? sdp::Setup::kPassive : sdp::Setup::kActive)
            : sdp::answer_setup(remote_->setup);
    const auto role =
        local_setup == sdp::Setup::kActive ? dtls::Role::kClient : dtls::Role::kServer;
    dtls_ = std::make_unique<dtls::Transport>(
        *certificate_, role, remote_->fingerprints,
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
                    guarded([&] { on_association_ended("the remote closed DTLS", true); });
                    return false;
                });
            },
            [this](const Error& failure) {
                if (!finishing_) fail(failure);
            },
        });
}

void Session::on_dtls_connected() {
    mark("dtls_connected");
    // Consent is watched from here: during the handshake GnuTLS backs its
    // retransmissions off to many seconds of silence under heavy loss, and
    // the connect time-out bounds that phase.
    last_packet_ms_ = clock_.now_ms();
    liveness_.start_repeating(std::chrono::milliseconds(1000), [this] {
        guarded([&] { check_liveness(); });
        return true;
    });
    log::state("DTLS connected (" + dtls_->describe() + "; remote fingerprint verified)");
    stage_ = "sctp";
    sctp::Config config;
    config.local_port = sdp::kDefaultSctpPort;
    config.remote_port = remote_->sctp_port;
    config.max_message_size = sdp::kLocalMaxMessageSize;
    if (!sctp_stack_) sctp_stack_ = std::make_unique<sctp::Stack>(clock_);
    sctp_ = std::make_unique<sctp::Association>(
        *sctp_stack_, config,
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
                guarded([&] { on_association_ended(why, graceful); });
                association_ended_ = true;
                if (registry_) guarded([&] { registry_->on_association_ended(); });
            },
            [this](const std::string& why) { fail(protocol_error("sctp", why)); },
        });
    create_registry(dtls_->role() == dtls::Role::kClient);
    sctp_->connect();
}

void Session::on_sctp_up() {
    log::state("SCTP up (port " + std::to_string(sdp::kDefaultSctpPort) + " -> " +
               std::to_string(remote_->sctp_port) + ")");
    mark("sctp_up");
    stage_ = "channel";
    if (options_.forwarding()) return start_forwarding();
    open_local_channel();
}

void Session::on_channel_open() {
    connect_deadline_.reset();
    // Candidates that still trickle in are not needed, and stdin is read from here.
    if (signaling_) signaling_->remote_complete();
    mark("channel_open");
    channel_open_us_ = g_get_monotonic_time();
    const bool check_channel = channel_->label() == kCheckLabel;
    if (options_.check || check_channel) {
        start_check(options_.check && check_channel);
        if (remote_said_bye_) on_remote_bye();
        return;
    }
    StreamPipeConfig config;
    config.lines = options_.lines;
    config.message_size = std::min(options_.message_size, remote_->remote_max_message_size());
    if (!channel_->options().ordered)
        config.all_acknowledged = [this] { return !sctp_ || sctp_->all_acknowledged(); };
    if (config.message_size < options_.message_size) {
        log::state("messages capped at " + std::to_string(config.message_size) +
                   (remote_->max_message_size ? " bytes (the remote's a=max-message-size)"
                                              : " bytes (the remote gives no a=max-message-size)"));
    }
    pipe_ = std::make_unique<StreamPipe>(
        config, *channel_,
        StreamPipe::Callbacks{
            [this] {
                // The terminal may take signaling again (a bye).
                if (signaling_) signaling_->stdin_done();
                if (options_.eof_wait_seconds) {
                    const double seconds = *options_.eof_wait_seconds;
                    eof_wait_.start_once(milliseconds(seconds), [this] {
                        log::state("--eof-wait expired");
                        guarded([&] { begin_finish(); });
                    });
                }
                guarded([&] { check_finish(); });
            },
            [this] {
                stdout_done_ = true;
                guarded([&] { check_finish(); });
            },
            [this](const Error& failure) { fail(failure); },
            [this](bool receiving) {
                if (sctp_) sctp_->set_receiving(receiving);
            },
        });
    pipe_->start();
    if (log::verbose() && isatty(STDERR_FILENO)) {
        progress_.start_repeating(std::chrono::milliseconds(1000), [this] {
            show_progress();
            return true;
        });
    }
    // A bye may have come before the channel opened.
    if (remote_said_bye_) on_remote_bye();
}

void Session::start_check(bool measuring) {
    if (options_.check && !measuring) {
        // The remote opened a channel of its own: it is not checking, so
        // only the set-up is measured.
        log::state("the remote's channel \"" + sdp::text::printable(channel_->label(), 60) +
                   "\" is no check channel: only the set-up is measured");
        return begin_finish();
    }
    if (!options_.check) log::state("answering a connectivity check");
    check_ = std::make_unique<ConnectivityCheck>(
        *channel_, measuring ? options_.check_count : 0,
        ConnectivityCheck::Callbacks{[this] { guarded([&] { check_finish(); }); },
                                     [this](const Error& failure) { fail(failure); }});
    check_->start();
}

void Session::notify_remote_closed() {
    if (pipe_) pipe_->on_remote_closed();
    if (check_) check_->on_remote_closed();
}

void Session::show_progress() {
    if (!pipe_ || finished_) return;
    const double seconds = static_cast<double>(g_get_monotonic_time() - channel_open_us_) / 1e6;
    auto amount = [](double bytes) {
        char text[32];
        if (bytes >= 1e9)
            std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
        else if (bytes >= 1e6)
            std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
        else if (bytes >= 1e3)
            std::snprintf(text, sizeof text, "%.1f kB", bytes / 1e3);
        else
            std::snprintf(text, sizeof text, "%.0f B", bytes);
        return std::string(text);
    };
    const auto sent = static_cast<double>(pipe_->bytes_sent());
    const auto received = static_cast<double>(pipe_->bytes_received());
    log::progress("rtcpeer: sent " + amount(sent) + " (" + amount(sent / seconds) +
                  "/s), received " + amount(received) + " (" + amount(received / seconds) + "/s)");
}

void Session::on_association_ended(const std::string& why, bool graceful) {
    remote_closed_ = true;
    if (finishing_) return;
    // A remote that aborts with a reason (rtcpeer when interrupted, browsers
    // when closed) before its end of file (marker or channel close) cut its
    // stream short: what stdout got is not the whole, bye or not.
    // An empty reason is what usrsctp puts in any ABORT from a closed
    // socket: it says nothing about why.
    std::optional<std::string> reason;
    if (sctp_) reason = sctp_->remote_abort_reason();
    if (reason && reason->empty()) reason.reset();
    if (reason && pipe_) {
        const bool interrupted = reason->rfind(kInterruptReasonPrefix, 0) == 0;
        const std::string who =
            interrupted ? "the remote was " + sdp::text::printable(*reason, 60)
                        : "the remote aborted (\"" + sdp::text::printable(*reason, 60) + "\")";
        if (!pipe_->remote_eof()) {
            throw Error(ErrorCategory::kConnection, "channel",
                        who + " after " + std::to_string(pipe_->bytes_received()) +
                            " bytes to stdout; the output is incomplete");
        }
        // Its stream was whole, but ours was not all acknowledged: what
        // was in flight did not arrive, bye or not.
        if (sctp_->ended_unacknowledged()) return fail_undelivered(who);
    }
    // Only a clean shutdown counts as the remote's end of file. An abort or a
    // lost association while data was due is a failure: the output is
    // incomplete and the exit code must say so.
    // A remote that said bye left in order, even if its stack ends with
    // ABORT (aiortc does).
    const bool channel_in_use = channel_user();
    if (channel_in_use && (graceful || remote_said_bye_)) {
        notify_remote_closed();
        return check_finish();
    }
    // An ABORT without a bye means the remote's side failed (a full disk,
    // say), even if every byte was acknowledged. But the ABORT of a remote
    // that leaves in order (aiortc) overtakes its bye on signaling: give the
    // bye a second before calling it a failure.
    const bool signaling_up = signaling_ && signaling_->connected();
    const bool nothing_missing =
        (pipe_ && pipe_->local_eof_sent() && stdout_done_) || (check_ && check_->measured());
    if (channel_in_use && !signaling_up && nothing_missing) {
        notify_remote_closed();  // no way to hear a bye; nothing is missing
        return check_finish();
    }
    if (channel_in_use && signaling_up && !abort_grace_.active()) {
        abort_grace_.start_once(std::chrono::milliseconds(1000), [this, why] {
            fail(Error(ErrorCategory::kConnection, "sctp", why));
        });
        return;
    }
    throw Error(ErrorCategory::kConnection, "sctp", why);
}

void Session::on_remote_bye() {
    if (!channel_user() || finishing_) return;  // the connect time-out still applies
    // A bye cuts nothing off that is in flight: read on until the remote's
    // EOF, a channel close or the association's end, or until the channel
    // has been quiet for a moment (aiortc's receivers say bye without EOF).
    bye_grace_.start_repeating(std::chrono::milliseconds(250), [this] {
        // Quiet means nothing arrived for a second and nothing is held
        // unread by back-pressure: only then is there nothing in flight.
        if (clock_.now_ms() - last_message_ms_ < 1000 || (sctp_ && sctp_->has_unread()))
            return true;
        guarded([&] {
            remote_closed_ = true;
            if (!stdout_done_) notify_remote_closed();
            check_finish();
        });
        return false;
    });
    check_finish();
}

void Session::check_liveness() {
    // Consent freshness on authenticated traffic: SCTP heartbeats (every
    // 5 s) keep even an idle connection audible, so this much silence means
    // the remote is gone or no longer consents (RFC 7675 allows 30 s).
    constexpr std::int64_t kSilenceMs = 15000;
    if (finished_) return;
    const std::int64_t silent_ms = clock_.now_ms() - last_packet_ms_;
    // A remote process that ends without closing its connection (killed,
    // or a program that exits when its channel breaks) drops its signaling
    // socket without a bye. With our data unacknowledged, a live remote
    // answers every retransmission (RTO at most 3 s): 4 s of silence after
    // that means it is gone, and waiting for the full 15 s tells nothing more.
    constexpr std::int64_t kLeftMs = 4000;
    if (silent_ms >= kLeftMs && !remote_said_bye_ && channel_user() &&
        options_.signaling.kind != SignalingKind::kCopyAndPaste && !signaling_->connected() &&
        sctp_ && !sctp_->all_acknowledged()) {
        const std::string why =
            "the remote left (its signaling connection closed without a bye, "
            "then nothing heard for " +
            std::to_string(kLeftMs / 1000) + " s)";
        if (pipe_) return fail_undelivered(why);
        throw Error(ErrorCategory::kConnection, "connection", why);
    }
    if (silent_ms < kSilenceMs) return;
    throw Error(ErrorCategory::kConnection, "connection",
                "nothing heard from the remote for " + std::to_string(kSilenceMs / 1000) + " s");
}

void Session::check_finish() {
    if (finishing_ || finished_) return;
    if (check_) {
        if (check_->complete()) return begin_finish();
        if (remote_closed_ && check_->measured()) return begin_finish();
        if (remote_closed_) {
            return fail(Error(ErrorCategory::kConnection, "check",
                              "the remote closed the channel before the check finished"));
        }
        return;
    }
    if (forwarder_) {
        // Until Ctrl-C or the remote's bye; --once: the first connection's end.
        if (remote_said_bye_ || remote_closed_ || (options_.once && forward_closed_))
            return begin_finish();
        return;
    }
    if (!pipe_) return;
    if (pipe_->local_eof_sent() && stdout_done_) return begin_finish();
    // An interactive receiver does not wait for Ctrl-D (rtcpeer(1), DATA).
    if (stdout_done_ && pipe_->stdin_is_terminal()) return begin_finish();
    if (remote_closed_ && stdout_done_) {
        if (pipe_->local_eof_sent() || !pipe_->stdin_has_unsent_data()) return begin_finish();
        return fail_undelivered("the remote closed the channel");
    }
}

void Session::fail_undelivered(const std::string& what_happened) {
    fail(Error(ErrorCategory::kConnection, "channel",
               what_happened + " after " + std::to_string(pipe_->bytes_sent()) +
                   " bytes from stdin; the rest of stdin was not delivered"));
}

void Session::begin_finish() {
    if (finishing_ || finished_) return;
    finishing_ = true;
    eof_wait_.reset();
    bye_grace_.reset();
    if (pipe_) pipe_->stop_input();
    // Exit 0 promises that everything sent was acknowledged.
    auto done = [this] {
        return !sctp_ || !sctp_->up() || remote_closed_ || sctp_->all_acknowledged();
    };
    if (done()) return finish(ExitCode::kSuccess);
    ack_wait_.start_repeating(std::chrono::milliseconds(5), [this, done] {
        if (!done()) return true;
        finish(ExitCode::kSuccess);
        return false;
    });
}

void Session::on_signaling_closed() {
    log::state("signaling closed by the remote");
    if (!remote_ && options_.signaling.kind != SignalingKind::kCopyAndPaste) {
        throw Error(ErrorCategory::kConnection, "signaling",
                    "the remote closed the signaling connection before the exchange");
    }
    if (!remote_) {
        throw protocol_error("signaling",
                             "the signaling input ended before the remote's description");
    }
    // rtcpeer and aiortc hold the socket connection until they exit, and
    // one that leaves in order says bye first: a remote whose connection
    // ends without a bye before the channel is open is gone (killed, or its
    // host went away), and the connect time-out need not be waited out.
    if (options_.signaling.kind != SignalingKind::kCopyAndPaste && !remote_said_bye_ &&
        channel_open_us_ == 0 && !finishing_) {
        throw Error(ErrorCategory::kConnection, "signaling",
                    std::string("the remote closed the signaling connection without a bye while ") +
                        stage_ + " was not " + (stage_ == std::string("ice") ? "connected" : "up") +
                        " (the remote is gone)");
    }
}

void Session::on_interrupt(ExitCode code) {
    log::state(code == ExitCode::kInterrupted ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    finish(code);
}

void Session::fail(const Error& failure) {
    if (finished_) return;
    failure_ = name_option(failure);
    finish(exit_code(failure));
}

void Session::finish(ExitCode code) {
    if (finished_) return;
    finished_ = true;
    result_ = code;
    end_us_ = g_get_monotonic_time();
    progress_.reset();
    signaling_deadline_.reset();
    connect_deadline_.reset();
    eof_wait_.reset();
    bye_grace_.reset();
    ack_wait_.reset();
    liveness_.reset();
    abort_grace_.reset();
    if (pipe_) pipe_->stop_input();
    // Tell the remote at once rather than through a time-out. Success
    // closes the channel and DTLS; anything else aborts the association, so
    // that the remote can never take what it has for the whole. An
    // interrupt says so in the ABORT (a User-Initiated Abort cause): the
    // remote reports the cut-short stream, and the interrupted side still
    // leaves in order (DTLS close, bye).
    const bool interrupted = code == ExitCode::kInterrupted || code == ExitCode::kTerminated;
    const bool clean = code == ExitCode::kSuccess || interrupted;
    if (code == ExitCode::kSuccess) {
        if (channel_) channel_->close();
        if (dtls_) dtls_->close();
    } else if (interrupted) {
        if (sctp_)
            sctp_->abort(kInterruptReasonPrefix +
                         std::string(code == ExitCode::kInterrupted ? "SIGINT" : "SIGTERM"));
        if (dtls_) dtls_->close();
    } else if (sctp_) {
        sctp_->abort();
    }
    // A bye means an orderly end. After a failure with the channel open it
    // is not sent: the remote must not take what it has for the whole. A
    // remote's bye is answered with one too: aiortc's examples read
    // signaling until a bye comes, whoever said it first.
    const bool orderly = clean || !channel_user();
    if (signaling_ && signaling_->connected()) {
        if (orderly) {
            signaling_->send(signaling::Message::bye());
            log::state("bye sent");
        }
        signaling_->close();
    }
    g_main_loop_quit(loop_);
}

// The data channels ---------------------------------------------------------

void Session::create_registry(bool dtls_client) {
    registry_ = std::make_unique<datachannel::Registry>(
        *sctp_, dtls_client,
        datachannel::Registry::Callbacks{
            [this](const datachannel::IncomingChannel& incoming) {
                if (forwarder_) return forwarder_->accept(incoming);
                return accept_channel(incoming);
            },
            [this](datachannel::DataChannel& channel) {
                if (forwarder_) return forwarder_->on_channel(channel);
                channel_ = &channel;
                auto callbacks = channel_callbacks();
                callbacks.on_open = [this] { guarded([&] { on_channel_open(); }); };
                channel.set_callbacks(std::move(callbacks));
            },
        });
}

void Session::open_local_channel() {
    // The answerer waits for the remote's channel, unless both sides
    // negotiated it (then each opens it on the stream id given).
    if (options_.role != Role::kOffer && !options_.channel.negotiated) return;
    channel_taken_ = true;
    channel_ = &registry_->open(options_.check ? kCheckLabel : options_.label, options_.channel,
                                channel_callbacks());
    log::state("our channel: " + describe(options_.channel));
    channel_summary_ =
        ChannelSummary{channel_->label(), options_.channel, channel_->stream().value(), false};
    on_channel_open();
}

bool Session::accept_channel(const datachannel::IncomingChannel& incoming) {
    // One channel per run: the first the remote opens; the rest are refused.
    if (options_.role == Role::kOffer || channel_taken_) return false;
    channel_taken_ = true;
    channel_summary_ =
        ChannelSummary{incoming.label, incoming.options, incoming.stream.value(), true};
    log::state("the remote's channel \"" + sdp::text::printable(incoming.label, 60) +
               "\" asks for: " + describe(incoming.options) + ", stream " +
               incoming.stream.to_string());
    if (!incoming.options.ordered || !incoming.options.reliable()) {
        log::warn(
            "the remote's channel is not reliable and ordered; bytes may be lost or reordered");
    }
    return true;
}

datachannel::DataChannel::Callbacks Session::channel_callbacks() {
    datachannel::DataChannel::Callbacks callbacks;
    callbacks.on_message = [this](std::string_view data, bool binary) {
        if (check_) guarded([&] { check_->on_message(data, binary); });
        if (pipe_) guarded([&] { pipe_->on_message(data, binary); });
    };
    callbacks.on_buffered_amount_low = [this] {
        if (pipe_) guarded([&] { pipe_->on_buffered_amount_low(); });
    };
    callbacks.on_queue_drained = [this] {
        if (pipe_) guarded([&] { pipe_->on_queue_drained(); });
    };
    callbacks.on_closed = [this] { on_channel_closed(); };
    return callbacks;
}

void Session::on_channel_closed() {
    // The channel object goes away after this: nobody may keep it.
    if (pipe_) pipe_->on_channel_closed();
    if (check_) check_->on_channel_closed();
    channel_ = nullptr;
    // The association's end is on_association_ended's to judge; our own
    // close at the end of the run needs nothing more.
    if (association_ended_ || finished_) return;
    remote_closed_ = true;
    notify_remote_closed();
    guarded([&] { check_finish(); });
}

void Session::start_forwarding() {
    connect_deadline_.reset();
    if (signaling_) signaling_->remote_complete();
    mark("channel_open");
    channel_open_us_ = g_get_monotonic_time();
    Forwarder::Config config;
    config.listen = options_.listen;
    config.connect = options_.connect;
    config.max_channels = options_.max_channels;
    config.message_size = std::min(options_.message_size, remote_->remote_max_message_size());
    forwarder_ = std::make_unique<Forwarder>(std::move(config), *registry_,
                                             Forwarder::Callbacks{
                                                 [this] {
                                                     forward_closed_ = true;
                                                     guarded([&] { check_finish(); });
                                                 },
                                                 [this](bool receiving) {
                                                     if (sctp_) sctp_->set_receiving(receiving);
                                                 },
                                             });
    forwarder_->start();
    if (remote_said_bye_) on_remote_bye();
}

}  // namespace rtcpeer
