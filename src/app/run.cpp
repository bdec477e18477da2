#include "app/run.hpp"

#include <glib-unix.h>
#include <unistd.h>

#include <cstdio>

#include "app/channel_options.hpp"
#include "base/log.hpp"
#include "ice/agent.hpp"
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

}  // namespace

Run::Run(Options options) : options_(std::move(options)) {
    loop_ = g_main_loop_new(nullptr, FALSE);
}

Run::~Run() {
    for (guint source : signal_sources_) {
        if (source != 0) g_source_remove(source);
    }
    // No timer of the run may fire while the ICE agent releases its TURN
    // allocations (which runs the loop).
    for (loop::Timer* timer :
         {&signaling_deadline_, &eof_wait_, &bye_grace_, &abort_grace_, &ack_wait_})
        timer->reset();
    progress_.stop();
    // Layers go before the loop they are attached to, top first: the
    // channel's users, the connection's channel, association and DTLS,
    // signaling, then its mDNS resolver and ICE; the Stack last.
    pipe_.reset();
    forwarder_.reset();
    check_.reset();  // its timers use the channel
    media_.reset();  // sends through the connection
    if (connection_) connection_->release_data_path();
    signaling_.reset();
    connection_.reset();
    sctp_stack_.reset();
    g_main_loop_unref(loop_);
}

template <typename F>
void Run::guarded(F&& f) {
    try {
        f();
    } catch (const Error& failure) {
        fail(failure);
    }
}

ExitCode Run::run() {
    start_us_ = g_get_monotonic_time();
    guarded([this] { start(); });
    if (!finished_) g_main_loop_run(loop_);
    if (connection_ && connection_->has_association()) {
        sctp_counters_ = sctp::Association::counters();
        abandoned_ = connection_->abandoned_messages();
    }
    log::end_progress();
    if (failure_) std::fprintf(stderr, "%s\n", failure_->line().c_str());
    report();
    return result_;
}

void Run::mark(const char* stage) {
    stage_ms_.emplace_back(stage, static_cast<double>(g_get_monotonic_time() - start_us_) / 1000.0);
}

RunSummary Run::summary() const {
    RunSummary s;
    s.role = options_.role;
    s.code = result_;
    s.failure = failure_;
    s.stage_ms = stage_ms_;
    s.duration_s = static_cast<double>(end_us_ - start_us_) / 1e6;
    if (connection_) s.pair = connection_->selected_pair();
    if (forwarder_) {
        s.bytes_sent = forwarder_->bytes_sent();
        s.bytes_received = forwarder_->bytes_received();
        s.connections = forwarder_->connections();
        s.forwarded = forwarder_->records();
        s.forwarded_omitted = forwarder_->records_omitted();
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
    if (media_) s.media = media_json(media_->status(), *media_);
    return s;
}

void Run::report() const { write_reports(options_, summary()); }

void Run::start() {
    log::configure(options_.verbosity, options_.quiet);
    signal_sources_[0] = g_unix_signal_add(SIGINT, &Run::on_signal<ExitCode::kInterrupted>, this);
    signal_sources_[1] = g_unix_signal_add(SIGTERM, &Run::on_signal<ExitCode::kTerminated>, this);

    ice::Config ice_config = options_.ice;
    ice_config.controlling =
        options_.role == Role::kOffer;  // the offerer controls (RFC 8445 §6.1.1)
    peer::Config config;
    config.offerer = options_.role == Role::kOffer;
    config.trickle = options_.signaling.trickle;
    config.relay_only = options_.ice.relay_only;
    config.connect_timeout = milliseconds(options_.connect_timeout_seconds);
    peer::Connection::Callbacks callbacks;
    callbacks.on_local_description = [this](peer::DescriptionType type, const std::string& sdp) {
        on_local_description(type, sdp);
    };
    callbacks.on_local_candidate = [this](const std::string& candidate, const std::string& mid,
                                          int index) {
        if (signaling_) signaling_->send(signaling::Message::ice_candidate(candidate, mid, index));
    };
    callbacks.on_state = [this](peer::State state) { on_state(state); };
    callbacks.on_gathering_done = [this] { mark("gathering_done"); };
    callbacks.on_remote_candidates_done = [this] {
        if (signaling_) signaling_->remote_complete();
    };
    callbacks.explain_unused_candidate = [this](const sdp::Candidate& candidate,
                                                const std::string& why) {
        if (!candidate.is_udp() && !options_.ice.tcp) return why + "; --ice-tcp allows it";
        return why;
    };
    callbacks.on_silence = [this](std::int64_t silent_ms) { check_remote_left(silent_ms); };
    callbacks.accept_channel = [this](const datachannel::IncomingChannel& incoming) {
        if (forwarder_) return forwarder_->accept(incoming);
        return accept_channel(incoming);
    };
    callbacks.on_channel = [this](datachannel::DataChannel& channel) {
        if (forwarder_) return forwarder_->on_channel(channel);
        channel_ = &channel;
        auto callbacks = channel_callbacks();
        callbacks.on_open = [this] { guarded([&] { on_channel_open(); }); };
        channel.set_callbacks(std::move(callbacks));
    };
    callbacks.on_ended = [this](const std::string& why, bool graceful) {
        guarded([&] { on_association_ended(why, graceful); });
        // The channels close next: that is this end's to judge, not theirs.
        association_ended_ = true;
    };
    callbacks.on_failure = [this](const Error& failure) { fail(failure); };
    create_media(config, callbacks);
    connection_ = std::make_unique<peer::Connection>(
        config,
        [ice_config](ice::Transport::Callbacks transport_callbacks) {
            return std::make_unique<ice::Agent>(ice_config, std::move(transport_callbacks));
        },
        [this]() -> sctp::Stack& {
            // usrsctp's process-wide state, made for the connection's association.
            if (!sctp_stack_) sctp_stack_ = std::make_unique<sctp::Stack>(clock_);
            return *sctp_stack_;
        },
        std::move(callbacks));

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
    connection_->start();
}

void Run::on_local_description(peer::DescriptionType type, const std::string& sdp) {
    if (!signaling_) return;
    if (type == peer::DescriptionType::kOffer) {
        signaling_->send(signaling::Message::offer(sdp));
        log::state("offer sent");
    } else {
        signaling_->send(signaling::Message::answer(sdp));
        log::state("answer sent");
    }
}

void Run::on_state(peer::State state) {
    switch (state) {
        case peer::State::kHandshakingDtls:
            return mark("ice_connected");
        case peer::State::kConnectingSctp:
            return mark("dtls_connected");
        case peer::State::kOpeningChannel:
            mark("sctp_up");
            if (options_.forwarding()) return start_forwarding();
            return open_local_channel();
        case peer::State::kOpen:
            // With a data channel, its user starts at the channel's on_open.
            if (!connection_->data_channel_negotiated()) return on_media_only_open();
            return;
        default:
            return;
    }
}

void Run::on_message(signaling::Message message) {
    using Type = signaling::Message::Type;
    switch (message.type) {
        case Type::kOffer:
        case Type::kAnswer: {
            const bool had_remote = connection_->has_remote_description();
            connection_->set_remote_description(message.type == Type::kOffer
                                                    ? peer::DescriptionType::kOffer
                                                    : peer::DescriptionType::kAnswer,
                                                message.sdp);
            if (!had_remote) signaling_deadline_.reset();
            if (!had_remote) on_media_negotiated();
            return;
        }
        case Type::kCandidate:
            return connection_->add_remote_candidate(message.candidate);
        case Type::kBye:
            log::state("bye received");
            remote_said_bye_ = true;
            // Before its description the remote cannot have sent anything: it left.
            if (!connection_->has_remote_description()) {
                throw Error(ErrorCategory::kConnection, "signaling",
                            "the remote said bye before its description");
            }
            if (abort_grace_.active()) {
                // The association already ended: this was an orderly leave.
                abort_grace_.reset();
                connection_->cancel_pending_end();
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

void Run::on_channel_open() {
    mark("channel_open");
    channel_open_us_ = g_get_monotonic_time();
    datachannel::DataChannel& channel = *channel_;
    const bool check_channel = channel.label() == kCheckLabel;
    if (options_.check || check_channel) {
        start_check(options_.check && check_channel);
        if (remote_said_bye_) on_remote_bye();
        return;
    }
    const sdp::SessionDescription& remote = connection_->remote_description();
    StreamPipeConfig config;
    config.lines = options_.lines;
    config.message_size = std::min(options_.message_size, remote.remote_max_message_size());
    // Unordered, the EOF marker could overtake data: it waits until SCTP
    // has everything before it acknowledged.
    if (!channel.options().ordered) {
        config.all_acknowledged = [this] {
            return !connection_ || connection_->all_acknowledged();
        };
    }
    if (config.message_size < options_.message_size) {
        log::state("messages capped at " + std::to_string(config.message_size) +
                   (remote.max_message_size ? " bytes (the remote's a=max-message-size)"
                                            : " bytes (the remote gives no a=max-message-size)"));
    }
    pipe_ = std::make_unique<StreamPipe>(
        config, channel,
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
                if (connection_) connection_->set_receiving(receiving);
            },
        });
    pipe_->start();
    if (log::verbose() && isatty(STDERR_FILENO)) progress_.start(*pipe_, channel_open_us_);
    // A bye may have come before the channel opened.
    if (remote_said_bye_) on_remote_bye();
}

void Run::start_check(bool measuring) {
    datachannel::DataChannel& channel = *channel_;
    if (options_.check && !measuring) {
        // The remote opened a channel of its own: it is not checking, so
        // only the set-up is measured.
        log::state("the remote's channel \"" + sdp::text::printable(channel.label(), 60) +
                   "\" is no check channel: only the set-up is measured");
        return begin_finish();
    }
    if (!options_.check) log::state("answering a connectivity check");
    check_ = std::make_unique<ConnectivityCheck>(
        channel, measuring ? options_.check_count : 0,
        ConnectivityCheck::Callbacks{[this] { guarded([&] { check_finish(); }); },
                                     [this](const Error& failure) { fail(failure); }});
    check_->start();
}

void Run::notify_remote_closed() {
    if (pipe_) pipe_->on_remote_closed();
    if (check_) check_->on_remote_closed();
}

void Run::on_association_ended(const std::string& why, bool graceful) {
    remote_closed_ = true;
    if (finishing_) return;
    if (media_only_running() && (graceful || remote_said_bye_)) return begin_finish();
    // A remote that aborts with a reason (rtcpeer when interrupted, browsers
    // when closed) before its end of file (marker or channel close) cut its
    // stream short: what stdout got is not the whole, bye or not.
    const std::optional<std::string> reason = connection_->remote_abort_reason();
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
        if (connection_->ended_unacknowledged()) return fail_undelivered(who);
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

void Run::on_remote_bye() {
    media_done_ = true;
    if (media_only_running()) return begin_finish();
    if (!channel_user() || finishing_) return;  // the connect time-out still applies
    // A bye cuts nothing off that is in flight: read on until the remote's
    // EOF, a channel close or the association's end, or until the channel
    // has been quiet for a moment (aiortc's receivers say bye without EOF).
    bye_grace_.start_repeating(std::chrono::milliseconds(250), [this] {
        // Quiet means nothing arrived for a second and nothing is held
        // unread by back-pressure: only then is there nothing in flight.
        if (clock_.now_ms() - connection_->last_message_ms() < 1000 || connection_->has_unread())
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

bool Run::signaling_closed_without_bye() const {
    return options_.signaling.kind != SignalingKind::kCopyAndPaste && !remote_said_bye_ &&
           signaling_ && !signaling_->connected();
}

void Run::check_remote_left(std::int64_t silent_ms) {
    // A remote process that ends without closing its connection (killed,
    // or a program that exits when its channel breaks) drops its signaling
    // socket without a bye. With our data unacknowledged, a live remote
    // answers every retransmission (RTO at most 3 s); in a media run it
    // sends RTCP every second or so. 4 s of silence after that means it is
    // gone, and waiting for the connection's 15 s of silence tells nothing
    // more.
    constexpr std::int64_t kLeftMs = 4000;
    if (finished_ || silent_ms < kLeftMs || !signaling_closed_without_bye()) return;
    const std::string since = "the remote left (its signaling connection closed without a bye, ";
    const std::string seconds = std::to_string(kLeftMs / 1000) + " s)";
    if (channel_user() && connection_->has_association() && !connection_->all_acknowledged()) {
        const std::string why = since + "then nothing heard for " + seconds;
        if (pipe_) return fail_undelivered(why);
        throw Error(ErrorCategory::kConnection, "connection", why);
    }
    // A media run, with or without data in flight.
    if (remote_left_media()) {
        const std::string why = since + "then no RTP, RTCP or data for " + seconds;
        if (pipe_ && !pipe_->local_eof_sent()) return fail_undelivered(why);
        throw Error(ErrorCategory::kConnection, "connection", why);
    }
}

void Run::check_finish() {
    if (finishing_ || finished_ || media_holds_run()) return;
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

void Run::fail_undelivered(const std::string& what_happened) {
    fail(Error(ErrorCategory::kConnection, "channel",
               what_happened + " after " + std::to_string(pipe_->bytes_sent()) +
                   " bytes from stdin; the rest of stdin was not delivered"));
}

void Run::begin_finish() {
    if (finishing_ || finished_) return;
    finishing_ = true;
    connection_->closing();
    eof_wait_.reset();
    bye_grace_.reset();
    if (pipe_) pipe_->stop_input();
    // Exit 0 promises that everything sent was acknowledged.
    auto done = [this] {
        return !connection_->up() || remote_closed_ || connection_->all_acknowledged();
    };
    if (done()) return finish(ExitCode::kSuccess);
    // The last acknowledgement comes within a round trip (the EOF marker
    // asks for it at once), so a coarse poll would set the pace of a short
    // run: --check pairs end a few ms sooner with 1 ms than with 5.
    ack_wait_.start_repeating(std::chrono::milliseconds(1), [this, done] {
        if (!done()) return true;
        finish(ExitCode::kSuccess);
        return false;
    });
}

void Run::on_signaling_closed() {
    log::state("signaling closed by the remote");
    const bool have_remote = connection_ && connection_->has_remote_description();
    if (!have_remote && options_.signaling.kind != SignalingKind::kCopyAndPaste) {
        throw Error(ErrorCategory::kConnection, "signaling",
                    "the remote closed the signaling connection before the exchange");
    }
    if (!have_remote) {
        throw protocol_error("signaling",
                             "the signaling input ended before the remote's description");
    }
    // rtcpeer and aiortc hold the socket connection until they exit, and
    // one that leaves in order says bye first: a remote whose connection
    // ends without a bye before the channel is open is gone (killed, or its
    // host went away), and the connect time-out need not be waited out.
    if (options_.signaling.kind != SignalingKind::kCopyAndPaste && !remote_said_bye_ &&
        channel_open_us_ == 0 && !finishing_) {
        const std::string stage = connection_->stage();
        throw Error(ErrorCategory::kConnection, "signaling",
                    "the remote closed the signaling connection without a bye while " + stage +
                        " was not " + (stage == "ice" ? "connected" : "up") +
                        " (the remote is gone)");
    }
}

void Run::on_interrupt(ExitCode code) {
    log::state(code == ExitCode::kInterrupted ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    finish(code);
}

void Run::fail(const Error& failure) {
    if (finished_) return;
    failure_ = name_option(failure);
    finish(exit_code(failure));
}

void Run::finish(ExitCode code) {
    if (finished_) return;
    finished_ = true;
    result_ = code;
    end_us_ = g_get_monotonic_time();
    progress_.stop();
    signaling_deadline_.reset();
    eof_wait_.reset();
    bye_grace_.reset();
    ack_wait_.reset();
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
    stop_media();
    if (connection_) {
        if (code == ExitCode::kSuccess) {
            connection_->close();
        } else if (interrupted) {
            connection_->abort(kInterruptReasonPrefix +
                               std::string(code == ExitCode::kInterrupted ? "SIGINT" : "SIGTERM"));
            connection_->close_dtls();
        } else {
            connection_->abort();
        }
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

// ---- The channels ----

void Run::open_local_channel() {
    // The answerer waits for the remote's channel, unless both sides
    // negotiated it (then each opens it on the stream id given).
    if (options_.role != Role::kOffer && !options_.channel.negotiated) return;
    channel_taken_ = true;
    channel_ = &connection_->open_channel(options_.check ? kCheckLabel : options_.label,
                                          options_.channel, channel_callbacks());
    log::state("our channel: " + describe(options_.channel));
    channel_summary_ =
        ChannelSummary{channel_->label(), options_.channel, channel_->stream().value(), false};
    on_channel_open();
}

bool Run::accept_channel(const datachannel::IncomingChannel& incoming) {
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

datachannel::DataChannel::Callbacks Run::channel_callbacks() {
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

void Run::on_channel_closed() {
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

void Run::start_forwarding() {
    // The connection is open without a channel of the run's own: the
    // forwarder opens one per local connection, and takes the remote's.
    connection_->open_without_channel();
    mark("channel_open");
    channel_open_us_ = g_get_monotonic_time();
    Forwarder::Config config;
    config.listen = options_.listen;
    config.connect = options_.connect;
    config.max_channels = options_.max_channels;
    config.message_size = std::min(options_.message_size,
                                   connection_->remote_description().remote_max_message_size());
    forwarder_ = std::make_unique<Forwarder>(std::move(config), connection_->channels(),
                                             Forwarder::Callbacks{
                                                 [this] {
                                                     forward_closed_ = true;
                                                     guarded([&] { check_finish(); });
                                                 },
                                                 [this](bool receiving) {
                                                     if (connection_)
                                                         connection_->set_receiving(receiving);
                                                 },
                                             });
    forwarder_->start();
    if (remote_said_bye_) on_remote_bye();
}

}  // namespace rtcpeer
