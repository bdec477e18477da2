#include "app/session.hpp"

#include <glib-unix.h>

#include <cstdio>
#include <random>

#include "app/log.hpp"

namespace rtcpeer {

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

Session::Session(Options options) : options_(std::move(options)) {
    loop_ = g_main_loop_new(nullptr, FALSE);
}

Session::~Session() {
    for (guint source : signal_sources_) {
        if (source != 0) g_source_remove(source);
    }
    // Layers go before the loop they are attached to.
    signaling_.reset();
    ice_.reset();
    g_main_loop_unref(loop_);
}

template <typename F>
void Session::guarded(F&& f) {
    try {
        f();
    } catch (const Failure& failure) {
        fail(failure);
    }
}

ExitCode Session::run() {
    guarded([this] { start(); });
    if (!finished_) g_main_loop_run(loop_);
    if (failure_) std::fprintf(stderr, "%s\n", failure_->line().c_str());
    return result_;
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
    ice::Config ice_config;
    ice_config.controlling = options_.role == Role::kOffer;  // DESIGN.md §4
    ice_config.host_addresses = options_.host_addresses;
    ice_ = std::make_unique<ice::Agent>(
        ice_config,
        ice::Agent::Callbacks{
            [this](const sdp::Candidate& c) { guarded([&] { on_local_candidate(c); }); },
            [this] { guarded([&] { on_gathering_done(); }); },
            [this](const ice::SelectedPair& pair) { guarded([&] { on_ice_connected(pair); }); },
            [this](const std::string& why) { fail(Failure(ExitCode::kConnection, "ice", why)); },
            nullptr,
        });

    const bool prompts = !options_.quiet;
    signaling_ = signaling::create_channel(options_.signaling, options_.role, prompts);
    signaling_->start(signaling::Channel::Callbacks{
        [this] { log::state("signaling connected (" + signaling_->describe() + ")"); },
        [this](signaling::Message message) { guarded([&] { on_message(std::move(message)); }); },
        [this] { guarded([&] { on_signaling_closed(); }); },
        [this](const Failure& failure) { fail(failure); },
    });
    if (finished_) return;
    log::state(std::string("started as ") + to_string(options_.role) + " over " +
               signaling_->describe() +
               (options_.signaling.trickle ? ", trickle" : ", no trickle"));

    // An explicit --signaling-timeout also bounds the wait for the remote's description.
    if (options_.signaling.timeout_seconds) {
        const double seconds = *options_.signaling.timeout_seconds;
        signaling_deadline_.start_once(
            std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)), [this, seconds] {
                fail(Failure(ExitCode::kTimeout, "signaling",
                             std::string("no ") +
                                 (options_.role == Role::kOffer ? "answer" : "offer") +
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
    log::state("gathering done (" + std::to_string(local_candidates_.size()) + " candidates)");
    if (local_candidates_.empty()) {
        throw Failure(ExitCode::kFailure, "ice",
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
            // Before its description the remote cannot have sent anything: it
            // left. After it, a bye cuts nothing off that is under way; the
            // connect time-out still bounds the wait.
            if (!remote_) {
                throw Failure(ExitCode::kConnection, "signaling",
                              "the remote said bye before its description");
            }
            return;
        case Type::kUnknown:
            log::warn("ignoring a signaling message of unknown type \"" +
                      message.unknown_type.substr(0, 40) + "\"");
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

    // From here ICE can run: the connect time-out starts (DESIGN.md §2).
    const double seconds = options_.connect_timeout_seconds;
    connect_deadline_.start_once(
        std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)), [this, seconds] {
            fail(Failure(ExitCode::kTimeout, "ice",
                         "not connected within " + seconds_text(seconds)));
        });

    ice_->set_remote_credentials({remote_->ice_ufrag, remote_->ice_pwd});
    for (const sdp::Candidate& candidate : remote_->candidates) use_remote_candidate(candidate);
    for (const auto& early : early_candidates_) on_remote_candidate(early);
    early_candidates_.clear();
    if (remote_->end_of_candidates) ice_->remote_gathering_done();

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
        ice_->remote_gathering_done();
        return;
    }
    try {
        use_remote_candidate(sdp::parse_candidate(message.candidate));
    } catch (const Failure& failure) {
        log::warn(std::string(failure.what()) + "; ignored");
    }
}

void Session::use_remote_candidate(const sdp::Candidate& candidate) {
    if (candidate.component != 1) return;  // RTCP component: rtcp-mux makes it unused
    std::string why;
    if (candidate.has_hostname()) {
        log::warn("remote candidate " + candidate.address + " is a host name; ignored");
        return;
    }
    if (!ice_->add_remote_candidate(candidate, why)) {
        log::state("remote candidate " + sdp::to_string(candidate) + " not used: " + why);
        return;
    }
    log::state("remote candidate " + sdp::to_string(candidate));
}

void Session::on_ice_connected(const ice::SelectedPair& pair) {
    ice_connected_ = true;
    connect_deadline_.reset();
    log::state("ICE connected: " + pair.describe());
    // The data path (DTLS, SCTP, the channel) attaches here.
    finish(ExitCode::kSuccess);
}

void Session::on_signaling_closed() {
    log::state("signaling closed by the remote");
    if (!remote_ && options_.signaling.kind != SignalingKind::kCopyAndPaste) {
        throw Failure(ExitCode::kConnection, "signaling",
                      "the remote closed the signaling connection before the exchange");
    }
    if (!remote_) {
        throw protocol_error("signaling",
                             "the signaling input ended before the remote's description");
    }
}

void Session::on_interrupt(ExitCode code) {
    log::state(code == ExitCode::kInterrupted ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    finish(code);
}

void Session::fail(const Failure& failure) {
    if (finished_) return;
    failure_ = failure;
    finish(failure.code());
}

void Session::finish(ExitCode code) {
    if (finished_) return;
    finished_ = true;
    result_ = code;
    signaling_deadline_.reset();
    connect_deadline_.reset();
    if (signaling_ && signaling_->connected()) {
        if (!remote_said_bye_) {
            signaling_->send(signaling::Message::bye());
            log::state("bye sent");
        }
        signaling_->close();
    }
    g_main_loop_quit(loop_);
}

}  // namespace rtcpeer
