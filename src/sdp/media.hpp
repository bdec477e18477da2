// Audio and video in session descriptions: what each m= section says about
// RTP (codecs, feedback, header extensions, SSRCs, direction), an offer with
// media sections, and the answer to a remote's offer. Pure functions over
// text, like sdp/description.hpp, whose transport parameters (ICE, DTLS,
// candidates) and data-channel section these build on.
//
// What rtcpeer negotiates: one codec per media section (it forwards RTP and
// does not transcode), no RTX, RED or FEC (a NACK is answered with the
// original packet), feedback "nack", "nack pli" and "ccm fir" for video,
// the RFC 9143 mid header extension, rtcp-mux and rtcp-rsize, everything in
// one BUNDLE group.
//
// Answering, an offered audio or video section that rtcpeer does not want
// (a kind not asked for, a second one of a kind), or wants but has no codec
// for (a warning names the codecs offered), is answered inactive with its
// port kept, echoing one offered codec. Rejecting it with port 0 is what
// JSEP suggests, but aiortc 1.4 refuses a whole answer in which an audio or
// video section has no codec it knows (port 0 or not), and a section that
// leaves the BUNDLE group makes it start an ICE transport of its own, which
// then fails; inactive also keeps the group's first mid, so the transport
// never moves. Port 0 is for what cannot be answered at all: a section the
// offer rejected, one of another kind (m=text, ...), one without rtcp-mux or
// outside the BUNDLE group, one with no codec to echo. Those still carry
// ICE credentials and a=setup (aiortc wants them in every section).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sdp/description.hpp"

namespace rtcpeer::sdp {

enum class MediaKind { kAudio, kVideo, kApplication, kOther };
const char* to_string(MediaKind kind);  // "audio", "video", "application", "other"

// a=sendrecv / sendonly / recvonly / inactive, from the point of view of the
// side that wrote the description.
enum class Direction { kSendrecv, kSendonly, kRecvonly, kInactive };
const char* to_string(Direction direction);
Direction make_direction(bool send, bool receive);
bool sends(Direction direction);
bool receives(Direction direction);
// What the other side's direction is for this one (sendonly <-> recvonly).
Direction reverse(Direction direction);

// One payload type of an m= section: a=rtpmap, a=fmtp and a=rtcp-fb.
struct Codec {
    std::uint8_t payload_type = 0;
    std::string name;  // as written: "VP8", "opus", "H264", "rtx"
    std::uint32_t clock_rate = 0;
    std::uint8_t channels = 1;  // the rtpmap's third field, 1 when absent
    // a=fmtp as key=value pairs in their order; a value without '=' (RED's
    // "111/111") is a key with an empty value.
    std::vector<std::pair<std::string, std::string>> parameters;
    std::vector<std::string> feedback;  // a=rtcp-fb values: "nack", "nack pli", "ccm fir", ...
    // For rtx: the payload type it repairs (fmtp apt=).
    std::optional<std::uint8_t> apt;

    // The fmtp value for key, if present.
    std::optional<std::string_view> parameter(std::string_view key) const;
    bool has_feedback(std::string_view value) const;
    // "a=fmtp:" value as written back: "k1=v1;k2=v2".
    std::string fmtp() const;
};

struct Extmap {
    std::uint16_t id = 0;  // 1..14 one-byte, up to 255 two-byte (RFC 8285)
    std::string uri;
};

struct SsrcLine {
    std::uint32_t ssrc = 0;
    std::string cname;  // a=ssrc:<ssrc> cname:
    std::string msid;   // a=ssrc:<ssrc> msid: (stream and track id)
};

inline constexpr std::string_view kMidExtensionUri = "urn:ietf:params:rtp-hdrext:sdes:mid";

// Everything one m= section says about RTP. Sections of any kind are kept,
// in their order, so that indexes match SessionDescription::media.
struct RtpSection {
    MediaKind kind = MediaKind::kOther;
    std::string media;       // the m= line's media word as written
    std::uint16_t port = 0;  // 0: rejected
    std::string proto;
    std::vector<std::string> formats;
    std::string mid;  // its index as text when a=mid is absent
    Direction direction = Direction::kSendrecv;
    bool rtcp_mux = false;
    bool rtcp_rsize = false;
    std::vector<Codec> codecs;  // in the m= line's order; payload types without rtpmap
                                // get their static name (0 PCMU, 8 PCMA, 9 G722)
    std::vector<Extmap> extmaps;
    std::vector<SsrcLine> ssrcs;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> fid_groups;  // media, rtx
    std::string msid;  // a=msid value: "<stream> <track>"

    bool rejected() const { return port == 0; }
    // An RTP profile ("UDP/TLS/RTP/SAVPF" and the like), not SCTP or other.
    bool is_rtp() const;
    const Codec* codec(std::uint8_t payload_type) const;
    // The rtx payload type that repairs payload_type, if offered.
    std::optional<std::uint8_t> rtx_for(std::uint8_t payload_type) const;
    std::optional<std::uint16_t> extmap_id(std::string_view uri) const;
};

struct MediaDescription {
    std::vector<RtpSection> sections;
    std::vector<std::string> bundle;  // a=group:BUNDLE mids

    // The first audio or video section that is not rejected.
    const RtpSection* first(MediaKind kind) const;
};

// Parses the RTP side of every m= section. Throws rtcpeer::Error (protocol,
// stage "sdp") on nonsense: a payload type above 127, a bad rtpmap, fmtp,
// extmap or ssrc line, more sections, codecs, extensions, SSRCs or feedback
// lines than any real description has (see media.cpp), an over-long line.
// Unknown attributes are ignored. Does not check ICE or DTLS (parse() does).
MediaDescription parse_media(std::string_view sdp);

// ---------------------------------------------------------------------------
// What the local side sends and receives.

enum class VideoCodec { kVp8, kVp9, kH264, kAv1 };
enum class AudioCodec { kOpus, kPcmu, kPcma, kG722 };
const char* to_string(VideoCodec codec);  // "vp8", ...
const char* to_string(AudioCodec codec);  // "opus", ...
std::optional<VideoCodec> parse_video_codec(std::string_view name);
std::optional<AudioCodec> parse_audio_codec(std::string_view name);

// The codec rtcpeer offers for each choice: the payload type, rtpmap and
// fmtp that WebRTC stacks use for it (VP8 96, VP9 98 profile-id=0, H.264
// 102 packetization-mode=1 profile-level-id=42e01f, AV1 45; opus 111
// minptime=10;useinbandfec=1, PCMU 0, PCMA 8, G722 9), with the video
// feedback rtcpeer implements.
Codec offered_codec(VideoCodec codec);
Codec offered_codec(AudioCodec codec);

struct LocalTrack {
    bool send = false;
    bool receive = false;
    std::uint32_t ssrc = 0;  // of what this side sends
    std::string track_id;    // the msid's second word
    bool wanted() const { return send || receive; }
};

struct LocalMedia {
    LocalTrack video;
    LocalTrack audio;
    VideoCodec video_codec = VideoCodec::kVp8;
    AudioCodec audio_codec = AudioCodec::kOpus;
    bool data_channel = true;  // offer one / accept one offered
    std::string cname;         // RTCP CNAME of every sending track
    std::string stream_id;     // the msid's first word
};

// A track as negotiated: what the media layer needs to run it.
struct NegotiatedTrack {
    MediaKind kind = MediaKind::kVideo;
    std::string mid;
    std::size_t section = 0;                     // index of its m= section
    Direction direction = Direction::kInactive;  // the local side's view
    Codec codec;                                 // with the payload type on the wire
    std::optional<std::uint16_t> mid_extension;  // the mid header extension's id
    bool rtcp_rsize = false;
    bool nack = false, pli = false, fir = false;  // feedback both sides agreed on
    std::uint32_t local_ssrc = 0;                 // when sending
    std::vector<std::uint32_t> remote_ssrcs;      // as the remote's description lists them
};

// An offer: an audio section (if the audio track is wanted), a video
// section (likewise), the data channel (if media.data_channel), mids
// "0", "1", "2" in that order, all in one BUNDLE group, each with the
// transport lines of build_offer. Throws a usage error when nothing at all is
// asked for.
std::string build_media_offer(const LocalParameters& local, const LocalMedia& media);

struct MediaAnswer {
    std::string sdp;
    std::vector<NegotiatedTrack> tracks;  // the audio and video sections accepted
    std::vector<std::string> warnings;    // what was asked for and cannot be had
    bool data_channel = false;            // a data-channel section was accepted
    // The answer's BUNDLE group's first mid: the offer's section whose
    // transport the session uses (parse(offer, kOptional, transport_mid)).
    // Empty when the answer accepts nothing.
    std::string transport_mid;
};

// The answer to `offer` (already through parse(..., DataChannel::kOptional)
// and parse_media): per offered section, a codec chosen by name (H.264 only
// with packetization-mode=1 and the profile of 42e01f, constrained baseline
// or baseline; VP9 profile 0; AV1 profile 0), keeping the remote's payload
// type, the direction intersected with what the remote offers, the data
// channel answered as build_answer does. Never throws for what the remote
// offers; what it lacks is a warning.
MediaAnswer build_media_answer(const LocalParameters& local, const LocalMedia& media,
                               const SessionDescription& offer,
                               const MediaDescription& offer_media);

// The tracks of our own offer as the remote's answer settled them (its
// chosen payload type, direction reversed to our view, its SSRCs); warnings
// for a wanted kind that the answer rejected or made inactive.
std::vector<NegotiatedTrack> accepted_tracks(const LocalMedia& media,
                                             const MediaDescription& answer,
                                             std::vector<std::string>& warnings);

}  // namespace rtcpeer::sdp
