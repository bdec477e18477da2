// The media part of the command line (rtcpeer(1), MEDIA): where RTP comes
// from and goes to, the codecs, the player's SDP file, the run's duration
// and --no-data; what the connection and the media engine are given from
// it; and the media counters in the --stats summary.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "media/engine.hpp"
#include "sdp/media.hpp"

namespace rtcpeer {

struct MediaOptions {
    std::optional<media::Endpoint> send_video, send_audio;  // --send-*: bound here
    std::optional<media::Endpoint> recv_video, recv_audio;  // --recv-*: sent there
    sdp::VideoCodec video_codec = sdp::VideoCodec::kVp8;
    sdp::AudioCodec audio_codec = sdp::AudioCodec::kOpus;
    std::string sdp_file;                    // --sdp-file
    std::optional<double> duration_seconds;  // --duration
    bool no_data = false;                    // --no-data

    // Any --send-* or --recv-*.
    bool any() const { return send_video || send_audio || recv_video || recv_audio; }
};

// Adds the media options to the program's command line; their values land
// in `media` once parsed.
void add_media_options(CLI::App& app, MediaOptions& media);
// What is wrong with the combination, as a usage line; nullopt when fine.
std::optional<std::string> check_media_options(const CLI::App& app, const MediaOptions& media,
                                               bool check);
// An Error about a media setting ("video source", ...) with the flag in its
// words' place; nullopt when it is about none.
std::optional<Error> name_media_option(const Error& error);

// What the connection offers or accepts (nullopt: data channel only).
std::optional<sdp::LocalMedia> local_media(const MediaOptions& media);
media::Engine::Config engine_config(const MediaOptions& media);

// The tracks' counters for --stats.
nlohmann::json media_json(const std::vector<media::TrackStatus>& tracks,
                          const media::Engine& engine);

}  // namespace rtcpeer
