// Offers and answers with audio and video (sdp/media.hpp): the sections
// rtcpeer offers, the sections it answers, and what the offerer makes of an
// answer. Parsing the sections is in media.cpp, codec choice in codecs.cpp.
#include <algorithm>

#include "base/error.hpp"
#include "sdp/codecs.hpp"
#include "sdp/media.hpp"
#include "sdp/text.hpp"

namespace rtcpeer::sdp {

namespace {

bool is_repair_or_comfort(const Codec& c) {
    for (const char* name : {"rtx", "red", "ulpfec", "flexfec-03", "CN", "telephone-event"}) {
        if (text::iequals(c.name, name)) return true;
    }
    return false;
}

std::string codec_names(const RtpSection& s) {
    std::string out;
    for (const Codec& c : s.codecs) {
        if (is_repair_or_comfort(c)) continue;
        std::string name =
            c.name.empty() ? "payload type " + std::to_string(c.payload_type) : c.name;
        if (auto profile = c.parameter("profile-level-id")) name += " " + std::string(*profile);
        if (auto mode = c.parameter("packetization-mode")) name += " mode " + std::string(*mode);
        if (out.find(name) != std::string::npos) continue;
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out.empty() ? "none" : out;
}

std::string codec_lines(const Codec& c, bool with_feedback) {
    const std::string pt = std::to_string(c.payload_type);
    std::string out = "a=rtpmap:" + pt + " " + c.name + "/" + std::to_string(c.clock_rate);
    if (c.channels > 1) out += "/" + std::to_string(c.channels);
    out += "\r\n";
    if (with_feedback) {
        for (const std::string& feedback : c.feedback)
            out += "a=rtcp-fb:" + pt + " " + feedback + "\r\n";
    }
    if (!c.parameters.empty()) out += "a=fmtp:" + pt + " " + c.fmtp() + "\r\n";
    return out;
}

std::string sending_lines(const LocalMedia& media, const LocalTrack& track) {
    const std::string msid = media.stream_id + " " + track.track_id;
    const std::string ssrc = std::to_string(track.ssrc);
    return "a=msid:" + msid + "\r\n" + "a=ssrc:" + ssrc + " cname:" + media.cname + "\r\n" +
           "a=ssrc:" + ssrc + " msid:" + msid + "\r\n";
}

// Port 0, the offer's formats and mid, and (no candidates) the transport
// attributes: aiortc 1.4 refuses an answer with any m= section lacking ICE
// credentials or a=setup, or an audio or video one lacking rtcp-mux.
std::string rejected_section(const LocalParameters& local, const RtpSection& s) {
    std::string out = "m=" + s.media + " 0 " + s.proto;
    for (const std::string& format : s.formats) out += " " + format;
    out += "\r\nc=IN IP4 0.0.0.0\r\na=mid:" + s.mid + "\r\n";
    if (s.kind == MediaKind::kAudio || s.kind == MediaKind::kVideo) out += "a=rtcp-mux\r\n";
    out += "a=ice-ufrag:" + local.ice_ufrag + "\r\n";
    out += "a=ice-pwd:" + local.ice_pwd + "\r\n";
    out += "a=fingerprint:" + to_string(local.fingerprint) + "\r\n";
    out += std::string("a=setup:") + to_string(local.setup) + "\r\n";
    return out;
}

const LocalTrack* track_of(const LocalMedia& media, MediaKind kind) {
    if (kind == MediaKind::kVideo) return &media.video;
    if (kind == MediaKind::kAudio) return &media.audio;
    return nullptr;
}

std::vector<std::uint32_t> media_ssrcs(const RtpSection& s) {
    std::vector<std::uint32_t> out;
    for (const SsrcLine& line : s.ssrcs) {
        const bool repair =
            std::any_of(s.fid_groups.begin(), s.fid_groups.end(),
                        [&](const auto& group) { return group.second == line.ssrc; });
        if (!repair) out.push_back(line.ssrc);
    }
    return out;
}

void agree_feedback(NegotiatedTrack& track, const Codec& offered) {
    track.nack = offered.has_feedback("nack");
    track.pli = offered.has_feedback("nack pli");
    track.fir = offered.has_feedback("ccm fir");
    track.codec.feedback.clear();
    if (track.kind != MediaKind::kVideo) return;
    for (const char* feedback : kVideoFeedback) {
        if (offered.has_feedback(feedback)) track.codec.feedback.emplace_back(feedback);
    }
}

// What a negotiated section comes to: the track the media of one kind runs on.
NegotiatedTrack negotiated_track(const RtpSection& s, std::size_t index, Direction direction,
                                 const Codec& chosen, const LocalTrack& local) {
    NegotiatedTrack t;
    t.kind = s.kind;
    t.mid = s.mid;
    t.section = index;
    t.direction = direction;
    t.codec = chosen;
    agree_feedback(t, chosen);
    t.mid_extension = s.extmap_id(kMidExtensionUri);
    t.rtcp_rsize = s.rtcp_rsize;
    t.remote_ssrcs = media_ssrcs(s);
    if (sends(direction)) t.local_ssrc = local.ssrc;
    return t;
}

}  // namespace

std::string build_media_offer(const LocalParameters& local, const LocalMedia& media) {
    struct Planned {
        MediaKind kind;
        const LocalTrack* track;
        Codec codec;
    };
    std::vector<Planned> planned;
    if (media.audio.wanted())
        planned.push_back({MediaKind::kAudio, &media.audio, offered_codec(media.audio_codec)});
    if (media.video.wanted())
        planned.push_back({MediaKind::kVideo, &media.video, offered_codec(media.video_codec)});
    if (planned.empty() && !media.data_channel) {
        throw Error(ErrorCategory::kUsage, "sdp", "nothing to offer: no media and no data channel");
    }
    std::string bundle;
    const std::size_t count = planned.size() + (media.data_channel ? 1 : 0);
    for (std::size_t i = 0; i < count; ++i) bundle += (i ? " " : "") + std::to_string(i);

    std::string out = detail::session_lines(local, bundle);
    std::size_t mid = 0;
    for (const Planned& p : planned) {
        out +=
            detail::connection_lines(local, std::string("m=") + to_string(p.kind) + " ",
                                     "UDP/TLS/RTP/SAVPF " + std::to_string(p.codec.payload_type));
        out += "a=mid:" + std::to_string(mid++) + "\r\n";
        out +=
            std::string("a=") + to_string(make_direction(p.track->send, p.track->receive)) + "\r\n";
        out += "a=rtcp-mux\r\na=rtcp-rsize\r\n";
        out += "a=extmap:1 " + std::string(kMidExtensionUri) + "\r\n";
        out += codec_lines(p.codec, true);
        if (p.track->send) out += sending_lines(media, *p.track);
        out += detail::transport_lines(local, Setup::kActpass);
    }
    if (media.data_channel) {
        out +=
            detail::connection_lines(local, "m=application ", "UDP/DTLS/SCTP webrtc-datachannel");
        out += "a=mid:" + std::to_string(mid) + "\r\n";
        out += "a=sctp-port:" + std::to_string(local.sctp_port) + "\r\n";
        out += "a=max-message-size:" + std::to_string(local.max_message_size) + "\r\n";
        out += detail::transport_lines(local, Setup::kActpass);
    }
    return out;
}

MediaAnswer build_media_answer(const LocalParameters& local, const LocalMedia& media,
                               const SessionDescription& offer,
                               const MediaDescription& offer_media) {
    MediaAnswer answer;
    std::vector<bool> accepted(offer_media.sections.size(), false);
    std::string body;
    // Without BUNDLE every section would need a transport of its own; only
    // the first one accepted then runs.
    const bool bundled = !offer_media.bundle.empty();
    bool transport_taken = false;
    auto in_bundle = [&](const RtpSection& s) {
        return std::find(offer_media.bundle.begin(), offer_media.bundle.end(), s.mid) !=
               offer_media.bundle.end();
    };
    bool offered[2] = {false, false};  // audio, video with a port

    for (std::size_t i = 0; i < offer_media.sections.size(); ++i) {
        const RtpSection& s = offer_media.sections[i];
        const bool transport_ok = bundled ? in_bundle(s) : !transport_taken;
        const bool is_data = offer.has_data_channel && i == offer.data_index;
        if (is_data) {
            if (media.data_channel && transport_ok && i < offer.media.size()) {
                body += detail::data_section_answer(local, offer.media[i], offer.form);
                accepted[i] = true;
                transport_taken = true;
                answer.data_channel = true;
            } else {
                if (media.data_channel) {
                    answer.warnings.push_back("the offer's data channel (mid " + s.mid +
                                              ") is not in its BUNDLE group; rejected");
                }
                body += rejected_section(local, s);
            }
            continue;
        }
        const LocalTrack* track = track_of(media, s.kind);
        if (track == nullptr || s.rejected() || !s.is_rtp() || s.codecs.empty()) {
            body += rejected_section(local, s);
            continue;
        }
        const bool video = s.kind == MediaKind::kVideo;
        offered[video ? 1 : 0] = true;
        const char* kind = to_string(s.kind);
        auto reject = [&](const std::string& why) {
            answer.warnings.push_back(std::string("the offered ") + kind + " (mid " + s.mid + ") " +
                                      why + "; rejected");
            body += rejected_section(local, s);
        };
        if (!transport_ok) {
            reject(bundled ? "is not in the BUNDLE group"
                           : "needs a transport of its own (no BUNDLE)");
            continue;
        }
        if (!s.rtcp_mux) {
            reject("does not offer rtcp-mux");
            continue;
        }
        // One track per kind: a second section of a kind already taken is
        // answered as one that is not wanted.
        const bool kind_taken =
            std::any_of(answer.tracks.begin(), answer.tracks.end(),
                        [&](const NegotiatedTrack& t) { return t.kind == s.kind; });
        const Codec* chosen = nullptr;
        Direction direction = Direction::kInactive;
        const bool wanted = track->wanted() && !kind_taken;
        if (wanted) chosen = choose_codec(s, media);
        const std::string no_codec =
            wanted && chosen == nullptr
                ? std::string("the offered ") + kind + " (mid " + s.mid + ") has no " +
                      (video ? to_string(media.video_codec) : to_string(media.audio_codec)) +
                      " codec rtcpeer can take (offered: " + codec_names(s) + "); "
                : std::string();
        if (chosen != nullptr) {
            direction = make_direction(track->send && receives(s.direction),
                                       track->receive && sends(s.direction));
            if (direction == Direction::kInactive) {
                answer.warnings.push_back(std::string("the offered ") + kind + " (mid " + s.mid +
                                          ") is " + to_string(s.direction) +
                                          ", so nothing can go the way rtcpeer asked (" +
                                          to_string(make_direction(track->send, track->receive)) +
                                          "); answered inactive");
            } else if (direction != make_direction(track->send, track->receive)) {
                answer.warnings.push_back(std::string("the offered ") + kind + " (mid " + s.mid +
                                          ") is " + to_string(s.direction) + "; only " +
                                          to_string(direction) + " is possible");
            }
        } else {
            // Not wanted or no codec to take: inactive, echoing one real
            // codec of the offer.
            for (const Codec& c : s.codecs) {
                if (!is_repair_or_comfort(c) && !c.name.empty() && c.clock_rate != 0) {
                    chosen = &c;
                    break;
                }
            }
            if (chosen == nullptr) {
                if (!no_codec.empty()) answer.warnings.push_back(no_codec + "rejected");
                body += rejected_section(local, s);
                continue;
            }
            if (!no_codec.empty()) answer.warnings.push_back(no_codec + "answered inactive");
        }
        NegotiatedTrack negotiated = negotiated_track(s, i, direction, *chosen, *track);

        body += detail::connection_lines(local, "m=" + s.media + " ",
                                         s.proto + " " + std::to_string(chosen->payload_type));
        body += "a=mid:" + s.mid + "\r\n";
        body += std::string("a=") + to_string(direction) + "\r\n";
        body += "a=rtcp-mux\r\n";
        if (s.rtcp_rsize) body += "a=rtcp-rsize\r\n";
        if (negotiated.mid_extension) {
            body += "a=extmap:" + std::to_string(*negotiated.mid_extension) + " " +
                    std::string(kMidExtensionUri) + "\r\n";
        }
        body += codec_lines(negotiated.codec, true);
        if (sends(direction)) body += sending_lines(media, *track);
        body += detail::transport_lines(local, local.setup);
        accepted[i] = true;
        transport_taken = true;
        if (direction != Direction::kInactive) answer.tracks.push_back(std::move(negotiated));
    }

    if (media.audio.wanted() && !offered[0]) {
        answer.warnings.push_back("the offer has no audio; nothing to send or receive there");
    }
    if (media.video.wanted() && !offered[1]) {
        answer.warnings.push_back("the offer has no video; nothing to send or receive there");
    }
    if (media.data_channel && !offer.has_data_channel) {
        answer.warnings.push_back("the offer has no data channel; media only");
    }

    std::string group;
    for (const std::string& mid : offer_media.bundle) {
        for (std::size_t i = 0; i < offer_media.sections.size(); ++i) {
            if (accepted[i] && offer_media.sections[i].mid == mid) {
                group += (group.empty() ? "" : " ") + mid;
            }
        }
    }
    if (bundled) {
        answer.transport_mid = group.substr(0, group.find(' '));
    } else {
        for (std::size_t i = 0; i < accepted.size() && answer.transport_mid.empty(); ++i) {
            if (accepted[i]) answer.transport_mid = offer_media.sections[i].mid;
        }
    }
    answer.sdp = detail::session_lines(local, group) + body;
    return answer;
}

std::vector<NegotiatedTrack> accepted_tracks(const LocalMedia& media,
                                             const MediaDescription& answer,
                                             std::vector<std::string>& warnings) {
    std::vector<NegotiatedTrack> tracks;
    for (std::size_t i = 0; i < answer.sections.size(); ++i) {
        const RtpSection& s = answer.sections[i];
        const LocalTrack* track = track_of(media, s.kind);
        if (track == nullptr || !track->wanted()) continue;
        const char* kind = to_string(s.kind);
        if (s.rejected()) {
            warnings.push_back(std::string("the remote rejected the ") + kind + " (mid " + s.mid +
                               ")");
            continue;
        }
        const Codec* chosen = choose_codec(s, media);
        if (chosen == nullptr) {
            warnings.push_back(std::string("the remote answered the ") + kind + " (mid " + s.mid +
                               ") with no codec rtcpeer offered (" + codec_names(s) + ")");
            continue;
        }
        const Direction direction = make_direction(track->send && receives(s.direction),
                                                   track->receive && sends(s.direction));
        if (direction == Direction::kInactive) {
            warnings.push_back(std::string("the remote answered the ") + kind + " (mid " + s.mid +
                               ") " + to_string(s.direction) + "; nothing flows there");
            continue;
        }
        tracks.push_back(negotiated_track(s, i, direction, *chosen, *track));
    }
    return tracks;
}

}  // namespace rtcpeer::sdp
