#include "app/media_options.hpp"

#include <cmath>

#include "app/cli_checks.hpp"

namespace rtcpeer {

namespace {

// The validator names are empty so that help shows only the metavariable.
CLI::Validator endpoint_validator() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            if (media::parse_endpoint(value)) return {};
            return value + " is not HOST:PORT (a name or address, and a port 1 to 65535)";
        },
        "");
}

void add_endpoint(CLI::App& app, const char* name, std::optional<media::Endpoint>& target,
                  const char* metavariable, const char* description) {
    app.add_option_function<std::string>(
           name, [&target](const std::string& value) { target = media::parse_endpoint(value); },
           description)
        ->check(endpoint_validator())
        ->type_name(metavariable);
}

const std::pair<const char*, const char*> kSettings[] = {
    {"video source", "--send-video"},
    {"audio source", "--send-audio"},
    {"video sink", "--recv-video"},
    {"audio sink", "--recv-audio"},
};

}  // namespace

void add_media_options(CLI::App& app, MediaOptions& media) {
    add_endpoint(app, "--send-video", media.send_video, "ADDR:PORT",
                 "media: bind a UDP port there; the RTP arriving on it is the local video track");
    add_endpoint(app, "--send-audio", media.send_audio, "ADDR:PORT",
                 "media: bind a UDP port there; the RTP arriving on it is the local audio track");
    add_endpoint(app, "--recv-video", media.recv_video, "HOST:PORT",
                 "media: send the remote's video there as RTP (RTCP to PORT+1)");
    add_endpoint(app, "--recv-audio", media.recv_audio, "HOST:PORT",
                 "media: send the remote's audio there as RTP (RTCP to PORT+1)");
    app.add_option_function<std::string>(
           "--video-codec",
           [&media](const std::string& value) {
               media.video_codec = *sdp::parse_video_codec(value);
           },
           "media: the video codec sent and received")
        ->check(CLI::IsMember({"vp8", "vp9", "h264", "av1"}).name(""))
        ->type_name("{vp8,vp9,h264,av1}")
        ->default_str("vp8");
    app.add_option_function<std::string>(
           "--audio-codec",
           [&media](const std::string& value) {
               media.audio_codec = *sdp::parse_audio_codec(value);
           },
           "media: the audio codec sent and received")
        ->check(CLI::IsMember({"opus", "pcmu", "pcma", "g722"}).name(""))
        ->type_name("{opus,pcmu,pcma,g722}")
        ->default_str("opus");
    app.add_option("--sdp-file", media.sdp_file,
                   "media: write an SDP there that ffplay, ffmpeg or VLC open to receive what "
                   "--recv-* forwards")
        ->type_name("FILE");
    app.add_option_function<double>(
           "--duration", [&media](double seconds) { media.duration_seconds = seconds; },
           "end the run after SEC seconds (bye, exit 0; exit 3 if the data channel's "
           "transfer is not complete by then)")
        ->check(positive_seconds())
        ->type_name("SEC");
    app.add_flag("--no-data", media.no_data,
                 "media: no data channel (the offerer offers none, the answerer accepts none)");
}

std::optional<std::string> check_media_options(const CLI::App& app, const MediaOptions& media,
                                               bool check) {
    if (check && (media.any() || media.no_data))
        return "--check measures the data channel; media options do not apply";
    if (media.no_data && !media.any()) return "--no-data needs --send-* or --recv-*";
    if (!media.sdp_file.empty() && !media.recv_video && !media.recv_audio)
        return "--sdp-file goes with --recv-video or --recv-audio";
    if (app.count("--video-codec") > 0 && !media.send_video && !media.recv_video)
        return "--video-codec goes with --send-video or --recv-video";
    if (app.count("--audio-codec") > 0 && !media.send_audio && !media.recv_audio)
        return "--audio-codec goes with --send-audio or --recv-audio";
    for (const auto* sink : {&media.recv_video, &media.recv_audio}) {
        if (*sink && (*sink)->port == 65535)
            return "--recv-* " + (*sink)->to_string() + ": PORT+1 (RTCP) must be a port too";
    }
    return std::nullopt;
}

std::optional<Error> name_media_option(const Error& error) {
    for (const auto& [setting, option] : kSettings) {
        if (error.setting() != setting) continue;
        std::string why = error.what();
        const std::size_t at = why.find(setting);
        if (at == std::string::npos) return std::nullopt;
        why.replace(at, std::string_view(setting).size(), option);
        return Error(error.category(), error.stage(), why);
    }
    return std::nullopt;
}

std::optional<sdp::LocalMedia> local_media(const MediaOptions& options) {
    if (!options.any()) return std::nullopt;
    sdp::LocalMedia media;
    media.video.send = options.send_video.has_value();
    media.video.receive = options.recv_video.has_value();
    media.audio.send = options.send_audio.has_value();
    media.audio.receive = options.recv_audio.has_value();
    media.video_codec = options.video_codec;
    media.audio_codec = options.audio_codec;
    media.data_channel = !options.no_data;
    return media;
}

media::Engine::Config engine_config(const MediaOptions& options) {
    media::Engine::Config config;
    config.send_video = options.send_video;
    config.send_audio = options.send_audio;
    config.recv_video = options.recv_video;
    config.recv_audio = options.recv_audio;
    return config;
}

nlohmann::json media_json(const std::vector<media::TrackStatus>& tracks,
                          const media::Engine& engine) {
    nlohmann::json list = nlohmann::json::array();
    for (const media::TrackStatus& t : tracks) {
        const media::TrackCounters& c = t.counters;
        nlohmann::json j = {
            {"kind", sdp::to_string(t.track.kind)},
            {"mid", t.track.mid},
            {"codec", t.track.codec.name},
            {"payload_type", t.track.codec.payload_type},
            {"direction", sdp::to_string(t.track.direction)},
        };
        if (t.source) {
            j["sent"] = {{"ssrc", t.track.local_ssrc},
                         {"source", t.source->to_string()},
                         {"source_packets", c.source_packets},
                         {"source_malformed", c.source_malformed},
                         {"source_dropped", c.source_dropped},
                         {"source_restarts", c.source_restarts},
                         {"packets", c.packets_sent},
                         {"bytes", c.bytes_sent},
                         {"nacks_received", c.nacks_received},
                         {"retransmissions", c.retransmissions},
                         {"retransmit_missed", c.retransmit_missed},
                         {"retransmit_refused", c.retransmit_refused},
                         {"plis_received", c.plis_received},
                         {"firs_received", c.firs_received},
                         {"remote_lost", c.remote_lost},
                         {"rtt_ms", c.rtt_ms ? nlohmann::json(*c.rtt_ms) : nlohmann::json()}};
        }
        if (t.sink) {
            j["received"] = {
                {"ssrc", t.remote_ssrc ? nlohmann::json(*t.remote_ssrc) : nlohmann::json()},
                {"sink", t.sink->to_string()},
                {"packets", c.packets_received},
                {"bytes", c.bytes_received},
                {"lost", c.lost},
                {"duplicates", c.duplicates},
                {"recovered", c.recovered},
                {"nacks_sent", c.nacks_sent},
                {"nacked_packets", c.nacked_packets},
                {"unrepaired", c.unrepaired},
                {"plis_sent", c.plis_sent},
                {"jitter_ms", std::round(c.jitter_ms * 100) / 100},
                {"forward_failures", c.forward_failures}};
        }
        list.push_back(std::move(j));
    }
    return {{"tracks", list},
            {"unknown_rtp", engine.unknown_rtp()},
            {"malformed_rtp", engine.malformed_rtp()},
            {"malformed_rtcp", engine.malformed_rtcp()}};
}

}  // namespace rtcpeer
