// One run of rtcpeer: signaling, then the connection, then the pipe.
//
// The Session owns every layer and the program's state; it lives on the GLib
// main loop (see base/loop.hpp). It reacts to the signaling messages and to
// the layers' callbacks, enforces the time-outs of rtcpeer(1) and turns
// every ending into one ExitCode.
#pragma once

#include <glib.h>

#include <memory>
#include <optional>
#include <vector>

#include "app/check.hpp"
#include "app/exit_code.hpp"
#include "app/forwarder.hpp"
#include "app/options.hpp"
#include "app/report.hpp"
#include "app/stream_pipe.hpp"
#include "base/clock.hpp"
#include "base/loop.hpp"
#include "datachannel/registry.hpp"
#include "dtls/certificate.hpp"
#include "dtls/transport.hpp"
#include "ice/agent.hpp"
#include "ice/mdns.hpp"
#include "sctp/association.hpp"
#include "sctp/stack.hpp"
#include "sdp/description.hpp"
#include "signaling/channel.hpp"

namespace rtcpeer {

class Session {
  public:
    explicit Session(Options options);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // Runs until the session ends; prints the failure line if any.
    ExitCode run();

  private:
    void start();
    void on_message(signaling::Message message);
    void on_remote_description(const signaling::Message& message);
    void on_remote_candidate(const signaling::Message& message);
    void use_remote_candidate(const sdp::Candidate& candidate);
    void resolve_remote_candidate(const sdp::Candidate& candidate);
    void remote_gathering_done();
    void on_local_candidate(const sdp::Candidate& candidate);
    void on_gathering_done();
    void send_local_description();
    void send_candidate(const sdp::Candidate& candidate);
    void on_ice_connected(const ice::SelectedPair& pair);
    void on_signaling_closed();
    void on_interrupt(ExitCode code);

    // The data path, layer by layer.
    void create_dtls();
    void on_dtls_connected();
    void on_sctp_up();
    void on_channel_open();
    void on_association_ended(const std::string& why, bool graceful);
    void on_remote_bye();
    void check_liveness();
    void start_check(bool measuring);
    void notify_remote_closed();  // to the pipe or the check
    // The channel is open and carries the pipe or a check.
    bool channel_user() const { return pipe_ || check_ || forwarder_; }
    void show_progress();

    // The data channels (the registry on the association, the pipe's channel).
    void create_registry(bool dtls_client);
    void open_local_channel();  // the offerer's, or a negotiated one in either role
    bool accept_channel(const datachannel::IncomingChannel& incoming);
    datachannel::DataChannel::Callbacks channel_callbacks();
    void on_channel_closed();
    void start_forwarding();  // --listen/--connect instead of the pipe

    // Reporting: stage times, the --check JSON and the --stats file.
    void mark(const char* stage);
    RunSummary summary() const;
    void report() const;

    // Finishing (docs/ARCHITECTURE.md): decide, wait for acknowledgements, close.
    void check_finish();
    void begin_finish();
    void fail_undelivered(const std::string& what_happened);

    // Ends the run: the first call decides the exit code.
    void finish(ExitCode code);
    void fail(const Error& failure);
    // Runs f, turning a thrown Error into fail(): the layers' callbacks go through it.
    template <typename F>
    void guarded(F&& f);

    Options options_;
    const Clock& clock_ = system_clock();
    GMainLoop* loop_ = nullptr;
    std::optional<dtls::Certificate> certificate_;
    std::unique_ptr<ice::Agent> ice_;
    std::unique_ptr<signaling::Channel> signaling_;
    std::unique_ptr<ice::mdns::Resolver> mdns_;  // made when a ".local" candidate comes
    int pending_resolutions_ = 0;
    unsigned remote_candidates_ = 0;
    unsigned bad_candidates_ = 0;
    bool remote_end_of_candidates_ = false;  // held back while names resolve
    // Destroyed in reverse: the pipe uses the channel, the channel the
    // association, the association sends through DTLS, DTLS through ICE.
    std::unique_ptr<dtls::Transport> dtls_;
    std::unique_ptr<sctp::Stack> sctp_stack_;  // outlives the association
    std::unique_ptr<sctp::Association> sctp_;
    std::unique_ptr<datachannel::Registry> registry_;
    datachannel::DataChannel* channel_ = nullptr;  // the pipe's or check's; null once closed
    bool channel_taken_ = false;                   // the one channel of the run is chosen
    bool association_ended_ = false;
    std::optional<ChannelSummary> channel_summary_;  // what the channel asked for, for --stats
    std::optional<std::uint64_t> abandoned_;         // messages PR-SCTP gave up
    std::unique_ptr<StreamPipe> pipe_;
    std::unique_ptr<ConnectivityCheck> check_;  // instead of the pipe: --check or a check channel
    std::unique_ptr<Forwarder> forwarder_;      // instead of the pipe: --listen/--connect
    bool forward_closed_ = false;               // a forwarded connection ended (--once)

    std::optional<sdp::SessionDescription> remote_;
    std::vector<sdp::Candidate> local_candidates_;
    std::vector<signaling::Message> early_candidates_;  // arrived before the description
    bool local_description_sent_ = false;
    bool gathering_done_ = false;
    bool remote_said_bye_ = false;
    bool ice_connected_ = false;
    bool stdout_done_ = false;    // the remote's EOF is written out
    bool remote_closed_ = false;  // channel reset or association ended
    bool finishing_ = false;
    bool finished_ = false;
    const char* stage_ = "ice";  // what the connect time-out interrupts
    std::int64_t last_packet_ms_ = 0;
    std::int64_t start_us_ = 0;
    std::int64_t channel_open_us_ = 0;
    std::int64_t end_us_ = 0;
    std::vector<std::pair<std::string, double>> stage_ms_;
    std::optional<ice::SelectedPair> pair_;
    std::optional<sctp::Counters> sctp_counters_;
    std::int64_t last_message_ms_ = 0;
    ExitCode result_ = ExitCode::kSuccess;
    std::optional<Error> failure_;

    loop::Timer signaling_deadline_;
    loop::Timer connect_deadline_;
    loop::Timer eof_wait_;
    loop::Timer bye_grace_;
    loop::Timer dtls_drain_;   // DTLS closed: waiting for SCTP's buffer to be read
    loop::Timer abort_grace_;  // an ABORT waiting for the bye that makes it orderly
    loop::Timer ack_wait_;
    loop::Timer liveness_;
    loop::Timer progress_;
    guint signal_sources_[2] = {0, 0};
};

}  // namespace rtcpeer
