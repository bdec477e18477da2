// The run's media (app/run.hpp): what --send-*, --recv-*, --sdp-file,
// --duration and --no-data change in a run. Kept apart from run.cpp, whose
// finishing rules call in here at a few marked places.
#include <glib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "app/run.hpp"
#include "base/log.hpp"

namespace rtcpeer {

void Run::create_media(peer::Config& config, peer::Connection::Callbacks& callbacks) {
    const MediaOptions& options = options_.media;
    if (options.duration_seconds) {
        const double seconds = *options.duration_seconds;
        duration_.start_once(
            std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)), [this, seconds] {
                log::state("--duration passed");
                media_done_ = true;
                try {
                    // Exit 0 says the pipe's data is whole: a
                    // transfer cut short by the clock says so.
                    if (auto missing = data_incomplete()) {
                        char text[32];
                        std::snprintf(text, sizeof text, "%g s", seconds);
                        throw Error(ErrorCategory::kTimeout, "duration",
                                    std::string(text) +
                                        " passed before the data was complete: " + *missing);
                    }
                    begin_finish();
                } catch (const Error& failure) {
                    fail(failure);
                }
            });
    }
    config.media = local_media(options);
    if (!config.media) return;
    // Binds the source ports now: a port taken is a usage error before
    // signaling, and a source may start before the connection is up.
    media::Engine::Config engine = engine_config(options);
    media_ = std::make_unique<media::Engine>(
        engine, media::Engine::Output{
                    [this](std::span<const std::uint8_t> packet) {
                        return connection_ && connection_->send_rtp(packet);
                    },
                    [this](std::span<const std::uint8_t> packet) {
                        return connection_ && connection_->send_rtcp(packet);
                    },
                });
    callbacks.on_media_ready = [this] {
        try {
            on_media_ready();
        } catch (const Error& failure) {
            fail(failure);
        }
    };
    callbacks.on_rtp = [this](std::span<const std::uint8_t> packet) {
        if (media_) media_->on_rtp(packet);
    };
    callbacks.on_rtcp = [this](std::span<const std::uint8_t> packet) {
        if (media_) media_->on_rtcp(packet);
    };
    callbacks.on_media_warning = [](const std::string& warning) { log::warn(warning); };
}

void Run::on_media_negotiated() {
    const MediaOptions& options = options_.media;
    if (!media_ || options.sdp_file.empty()) return;
    const std::string text =
        media::player_sdp(connection_->tracks(), options.recv_audio, options.recv_video);
    // Whole or not at all: a player may be polling for it.
    const std::string partial = options.sdp_file + ".part";
    FILE* file = std::fopen(partial.c_str(), "w");
    const bool written =
        file != nullptr && std::fwrite(text.data(), 1, text.size(), file) == text.size();
    const bool closed = file != nullptr && std::fclose(file) == 0;
    if (!written || !closed || std::rename(partial.c_str(), options.sdp_file.c_str()) != 0) {
        const int error = errno;
        ::unlink(partial.c_str());
        throw Error(ErrorCategory::kUsage, "media",
                    "cannot write --sdp-file " + options.sdp_file + ": " + std::strerror(error));
    }
    log::state("player SDP written to " + options.sdp_file);
}

void Run::on_media_ready() {
    if (!media_ || media_->started()) return;
    for (const std::string& warning : media_->start(connection_->tracks())) log::warn(warning);
}

void Run::on_media_only_open() {
    mark("channel_open");
    channel_open_us_ = g_get_monotonic_time();
    log::state("open for media only (no data channel)");
    if (remote_said_bye_) on_remote_bye();
}

void Run::stop_media() {
    duration_.reset();
    if (media_) media_->stop();
}

bool Run::media_only_running() const {
    return media_ && connection_ && connection_->state() == peer::State::kOpen &&
           !connection_->data_channel_negotiated();
}

bool Run::media_holds_run() const { return media_ && !media_done_; }

std::optional<std::string> Run::data_incomplete() {
    // Forwarding and checks end on rules of their own; a run without a
    // data channel has no data to miss.
    if (forwarder_ || check_ || !connection_ || !connection_->data_channel_negotiated())
        return std::nullopt;
    if (!pipe_) return "the data channel never opened (nothing from stdin was delivered)";
    std::string missing;
    // A terminal's input ends when the user stops typing (rtcpeer(1), DATA).
    const bool stdin_done =
        pipe_->local_eof_sent() || (pipe_->stdin_is_terminal() && !pipe_->stdin_has_unsent_data());
    if (!stdin_done) {
        missing = "stdin had not ended (" + std::to_string(pipe_->bytes_sent()) +
                  " bytes sent; the rest of stdin was not delivered)";
    }
    if (!stdout_done_) {
        if (!missing.empty()) missing += "; ";
        missing += (pipe_->remote_eof() ? "stdout had not taken all of the remote's data ("
                                        : "the remote's end of file had not come (") +
                   std::to_string(pipe_->bytes_received()) + " bytes to stdout)";
    }
    if (missing.empty()) return std::nullopt;
    return missing;
}

bool Run::remote_left_media() const {
    // rtcpeer and aiortc hold their signaling connection until they exit
    // and say bye first when they leave in order: a signaling connection
    // that closed without a bye, then silence (no RTP, no RTCP: a live
    // rtcpeer reports every second, media or not), means the remote is gone.
    return media_ && channel_open_us_ != 0 && !finishing_ && signaling_closed_without_bye();
}

}  // namespace rtcpeer
