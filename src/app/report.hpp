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
#include "app/options.hpp"
#include "ice/agent.hpp"
#include "sctp/association.hpp"

namespace rtcpeer {

// The connection's stages in the order they complete (as -v reports them).
inline constexpr const char* kStages[] = {"signaling_connected", "gathering_done", "ice_connected",
                                          "dtls_connected",      "sctp_up",        "channel_open"};

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
