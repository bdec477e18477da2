#include "app/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace rtcpeer {

namespace {

// Milliseconds to the microsecond: dividing (not multiplying by 0.001)
// gives the double nearest to the decimal, so JSON shows 0.142, not
// 0.14200000000000002.
double rounded(double value) { return std::round(value * 1000) / 1000; }

nlohmann::json candidate_json(const sdp::Candidate& c, const std::string& relay_protocol) {
    nlohmann::json j;
    j["type"] = c.type;
    j["protocol"] = c.transport;
    j["address"] = c.address;
    j["port"] = c.port;
    j["relay_protocol"] =
        relay_protocol.empty() ? nlohmann::json(nullptr) : nlohmann::json(relay_protocol);
    return j;
}

nlohmann::json common_json(const RunSummary& s) {
    nlohmann::json j;
    j["result"] = s.code == ExitCode::kSuccess ? "ok" : "failed";
    j["exit_code"] = static_cast<int>(s.code);
    j["role"] = to_string(s.role);
    if (s.failure) {
        j["failure"] = {{"stage", s.failure->stage()}, {"reason", s.failure->what()}};
    } else {
        j["failure"] = nullptr;
    }
    nlohmann::json stages = nlohmann::json::object();
    for (const char* stage : kStages) {
        auto found = std::find_if(s.stage_ms.begin(), s.stage_ms.end(),
                                  [&](const auto& entry) { return entry.first == stage; });
        stages[stage] = found == s.stage_ms.end() ? nlohmann::json(nullptr)
                                                  : nlohmann::json(rounded(found->second));
    }
    j["timings_ms"] = stages;
    if (s.pair) {
        j["selected_pair"] = {
            {"local", candidate_json(s.pair->local, s.pair->local_relay_protocol)},
            {"remote", candidate_json(s.pair->remote, "")}};
    } else {
        j["selected_pair"] = nullptr;
    }
    j["duration_s"] = rounded(s.duration_s);
    return j;
}

nlohmann::json optional_json(const std::optional<std::uint32_t>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json channel_json(const ChannelSummary& c) {
    return {{"label", c.label},
            {"opened_by", c.opened_by_remote ? "remote" : "local"},
            {"ordered", c.options.ordered},
            {"max_retransmits", optional_json(c.options.max_retransmits)},
            {"max_packet_lifetime_ms", optional_json(c.options.max_packet_lifetime_ms)},
            {"protocol", c.options.protocol},
            {"negotiated", c.options.negotiated.has_value()},
            {"id", c.stream}};
}

nlohmann::json forwarded_json(const RunSummary& s) {
    nlohmann::json list = nlohmann::json::array();
    for (const ForwardedConnection& c : s.forwarded) {
        list.push_back({{"label", c.label},
                        {"side", c.accepted ? "listen" : "connect"},
                        {"scheme", c.scheme},
                        {"peer", c.peer},
                        {"stream", c.stream},
                        {"bytes_sent", c.bytes_sent},
                        {"bytes_received", c.bytes_received},
                        {"end", c.end}});
    }
    return {{"connections", list}, {"omitted", s.forwarded_omitted}};
}

}  // namespace

nlohmann::json check_json(const RunSummary& s) {
    nlohmann::json j = common_json(s);
    j["remote_answered"] = s.remote_answered;
    if (s.rtts_ms.empty()) {
        j["rtt_ms"] = nullptr;
    } else {
        std::vector<double> sorted = s.rtts_ms;
        std::sort(sorted.begin(), sorted.end());
        const std::size_t n = sorted.size();
        const double median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        j["rtt_ms"] = {{"count", n},
                       {"min", rounded(sorted.front())},
                       {"median", rounded(median)},
                       {"max", rounded(sorted.back())}};
    }
    return j;
}

nlohmann::json stats_json(const RunSummary& s) {
    nlohmann::json j = common_json(s);
    j["sent"] = {{"bytes", s.bytes_sent}, {"messages", s.messages_sent}};
    j["received"] = {{"bytes", s.bytes_received}, {"messages", s.messages_received}};
    // The rates count from the channel's opening: set-up time is in timings_ms.
    if (s.data_seconds && *s.data_seconds > 0) {
        j["rate_bytes_per_s"] = {
            {"sent", std::llround(static_cast<double>(s.bytes_sent) / *s.data_seconds)},
            {"received", std::llround(static_cast<double>(s.bytes_received) / *s.data_seconds)}};
    } else {
        j["rate_bytes_per_s"] = nullptr;
    }
    if (s.sctp) {
        j["sctp"] = {{"data_chunks_sent", s.sctp->data_chunks_sent},
                     {"data_chunks_received", s.sctp->data_chunks_received},
                     {"retransmitted_chunks", s.sctp->retransmitted_chunks},
                     {"fast_retransmitted_chunks", s.sctp->fast_retransmitted_chunks},
                     {"retransmission_timeouts", s.sctp->retransmission_timeouts},
                     {"duplicate_chunks_received", s.sctp->duplicate_chunks_received},
                     {"sacks_sent", s.sctp->sacks_sent}};
        if (s.abandoned_messages) j["sctp"]["abandoned_messages"] = *s.abandoned_messages;
    } else {
        j["sctp"] = nullptr;
    }
    if (s.connections) {
        j["connections"] = *s.connections;
        j["forwarded"] = forwarded_json(s);
    }
    j["channel"] = s.channel ? channel_json(*s.channel) : nlohmann::json(nullptr);
    if (!s.media.is_null()) j["media"] = s.media;
    return j;
}

void write_reports(const Options& options, const RunSummary& run) {
    if (options.check) {
        std::printf("%s\n", check_json(run).dump().c_str());
        std::fflush(stdout);
    }
    if (options.stats_file.empty()) return;
    const std::string text = stats_json(run).dump() + "\n";
    if (options.stats_file == "-") {
        std::fputs(text.c_str(), stderr);
        return;
    }
    FILE* file = std::fopen(options.stats_file.c_str(), "w");
    if (file == nullptr || std::fputs(text.c_str(), file) < 0 || std::fclose(file) != 0) {
        std::fprintf(stderr, "rtcpeer: warning: cannot write --stats %s\n",
                     options.stats_file.c_str());
    }
}

}  // namespace rtcpeer
