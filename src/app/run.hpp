// One run of rtcpeer: signaling, the connection, and what uses its channel.
//
// The Run lives on the GLib main loop (see base/loop.hpp). It carries the
// signaling messages to and from the connection (peer/connection.hpp), which
// wires the layers, negotiates and bounds the connect time; the Run starts
// the channel's user (the stdin/stdout pipe or the --check probe), draws the
// progress line, writes the reports, and decides when the run is finished
// (docs/ARCHITECTURE.md, "Where time-outs and finishing rules live"): every
// ending becomes one ExitCode here. run.cpp is longer than most files on
// purpose: the finishing rules are read together or not at all.
#pragma once

#include <glib.h>

#include <memory>
#include <optional>
#include <vector>

#include "app/check.hpp"
#include "app/exit_code.hpp"
#include "app/forwarder.hpp"
#include "app/options.hpp"
#include "app/progress.hpp"
#include "app/report.hpp"
#include "app/stream_pipe.hpp"
#include "base/clock.hpp"
#include "base/loop.hpp"
#include "media/engine.hpp"
#include "peer/connection.hpp"
#include "sctp/stack.hpp"
#include "signaling/channel.hpp"

namespace rtcpeer {

class Run {
  public:
    explicit Run(Options options);
    ~Run();
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    // Runs until the run ends; prints the failure line if any.
    ExitCode run();

  private:
    void start();
    void on_message(signaling::Message message);
    void on_local_description(peer::DescriptionType type, const std::string& sdp);
    void on_state(peer::State state);
    void on_signaling_closed();
    void on_interrupt(ExitCode code);
    // The GLib callback of the signal that ends the run with `code`.
    template <ExitCode code>
    static gboolean on_signal(gpointer self) {
        static_cast<Run*>(self)->on_interrupt(code);
        return G_SOURCE_CONTINUE;
    }

    // The channel's users.
    void on_channel_open();
    void start_check(bool measuring);
    void notify_remote_closed();  // to the pipe or the check
    // The channel is open and carries the pipe or a check.
    bool channel_user() const { return pipe_ || check_ || forwarder_; }

    // The data channels (the pipe's or the check's channel).
    void open_local_channel();  // the offerer's
    bool accept_channel(const datachannel::IncomingChannel& incoming);
    datachannel::DataChannel::Callbacks channel_callbacks();
    void on_channel_closed();
    void start_forwarding();  // --listen/--connect instead of the pipe

    // Reporting: stage times, the --check JSON and the --stats file.
    void mark(const char* stage);
    RunSummary summary() const;
    void report() const;

    // Finishing (docs/ARCHITECTURE.md): decide, wait for acknowledgements, close.
    void on_association_ended(const std::string& why, bool graceful);
    void on_remote_bye();
    void check_remote_left(std::int64_t silent_ms);
    void check_finish();
    void begin_finish();
    void fail_undelivered(const std::string& what_happened);

    // Media (run_media.cpp): the engine made with the connection, the
    // player's SDP once the tracks are known, the engine running once SRTP
    // is keyed, --duration, and what a media run changes in finishing.
    void create_media(peer::Config& config, peer::Connection::Callbacks& callbacks);
    void on_media_negotiated();
    void on_media_ready();
    void on_media_only_open();
    void stop_media();
    bool media_only_running() const;  // open without a data channel
    bool media_holds_run() const;     // the pipe's end does not end a media run
    // What of the pipe's data is not complete when --duration passes (none: nullopt).
    std::optional<std::string> data_incomplete();
    // The remote's socket signaling connection closed without a bye
    // (copy-and-paste has no connection to close).
    bool signaling_closed_without_bye() const;
    // That, during an open media run (a live remote would still send RTCP).
    bool remote_left_media() const;

    // Ends the run: the first call decides the exit code.
    void finish(ExitCode code);
    void fail(const Error& failure);
    // Runs f, turning a thrown Error into fail(): the callbacks go through it.
    template <typename F>
    void guarded(F&& f);

    Options options_;
    const Clock& clock_ = system_clock();
    GMainLoop* loop_ = nullptr;
    // Destroyed in reverse, but by hand (~Run): the pipe and the check use
    // the channel; the connection's data path goes before signaling, its
    // ICE transport after; the Stack outlives the association.
    std::unique_ptr<sctp::Stack> sctp_stack_;
    std::unique_ptr<peer::Connection> connection_;
    std::unique_ptr<signaling::Channel> signaling_;
    datachannel::DataChannel* channel_ = nullptr;  // the pipe's or check's; null once closed
    bool channel_taken_ = false;                   // the one channel of the run is chosen
    bool association_ended_ = false;
    std::optional<ChannelSummary> channel_summary_;  // what the channel asked for, for --stats
    std::optional<std::uint64_t> abandoned_;         // messages PR-SCTP gave up
    std::unique_ptr<StreamPipe> pipe_;
    std::unique_ptr<ConnectivityCheck> check_;  // instead of the pipe: --check or a check channel
    std::unique_ptr<Forwarder> forwarder_;      // instead of the pipe: --listen/--connect
    bool forward_closed_ = false;               // a forwarded connection ended (--once)
    std::unique_ptr<media::Engine> media_;      // with --send-* or --recv-*
    bool media_done_ = false;                   // --duration passed or the remote said bye
    loop::Timer duration_;

    bool remote_said_bye_ = false;
    bool stdout_done_ = false;    // the remote's EOF is written out
    bool remote_closed_ = false;  // channel reset or association ended
    bool finishing_ = false;
    bool finished_ = false;
    std::int64_t start_us_ = 0;
    std::int64_t channel_open_us_ = 0;
    std::int64_t end_us_ = 0;
    std::vector<std::pair<std::string, double>> stage_ms_;
    std::optional<sctp::Counters> sctp_counters_;
    ExitCode result_ = ExitCode::kSuccess;
    std::optional<Error> failure_;

    loop::Timer signaling_deadline_;
    loop::Timer eof_wait_;
    loop::Timer bye_grace_;
    loop::Timer abort_grace_;  // an ABORT waiting for the bye that makes it orderly
    loop::Timer ack_wait_;
    Progress progress_;
    guint signal_sources_[2] = {0, 0};
};

}  // namespace rtcpeer
