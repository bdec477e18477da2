// What a run reports about itself as JSON: the --check result on stdout and
// the --stats summary. Both are one JSON object on one line.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "app/exit_code.hpp"
#include "app/forwarder.hpp"
#include "app/options.hpp"
#include "datachannel/options.hpp"
#include "ice/agent.hpp"
#include "sctp/association.hpp"

namespace rtcpeer {

// The connection's stages in the order they complete (as -v reports them).
inline constexpr const char* kStages[] = {"signaling_connected", "gathering_done", "ice_connected",
                                          "dtls_connected",      "sctp_up",        "channel_open"};

// The run's data channel: what it asked for, and who opened it.
struct ChannelSummary {
    std::string label;
    datachannel::ChannelOptions options;
    std::uint16_t stream = 0;
    bool opened_by_remote = false;
};

struct RunSummary {
    Role role = Role::kOffer;
    ExitCode code = ExitCode::kSuccess;
    std::optional<Error> failure;
    std::vector<std::pair<std::string, double>> stage_ms;  // since the start
    double duration_s = 0;
    std::optional<ice::SelectedPair> pair;

    // Normal runs.
    std::uint64_t bytes_sent = 0, bytes_received = 0;
    std::uint64_t messages_sent = 0, messages_received = 0;
    std::optional<double> data_seconds;  // from channel open to the end
    std::optional<sctp::Counters> sctp;
    std::optional<std::uint64_t> abandoned_messages;  // given up by partial reliability
    std::optional<ChannelSummary> channel;
    std::optional<std::uint64_t> connections;    // forwarded
    std::vector<ForwardedConnection> forwarded;  // each (the last Forwarder::kKeptRecords)
    std::uint64_t forwarded_omitted = 0;         // older ones left out

    // --check.
    bool remote_answered = false;
    std::vector<double> rtts_ms;

    // Media runs: the tracks' counters (app/media_options.hpp); null otherwise.
    nlohmann::json media;
};

nlohmann::json check_json(const RunSummary& summary);
nlohmann::json stats_json(const RunSummary& summary);

// The --check JSON on stdout, and the --stats file (or stderr for "-").
void write_reports(const Options& options, const RunSummary& summary);

}  // namespace rtcpeer
