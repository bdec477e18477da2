// Data-channel session descriptions: parse what real peers
// send, build offers and answers.
//
// Two wire forms of the data-channel m= section exist and both are accepted:
//   RFC 8841:  m=application 9 UDP/DTLS/SCTP webrtc-datachannel + a=sctp-port:5000
//   legacy:    m=application 9 DTLS/SCTP 5000 + a=sctpmap:5000 webrtc-datachannel N
// An answer uses the form of the offer it answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sdp/candidate.hpp"

namespace rtcpeer::sdp {

// A remote that omits a=max-message-size gets messages of at most 65535
// bytes. RFC 8841 §6.1 says 64 KiB, but pion v3 advertises nothing and reads
// each message into a 65535-byte buffer: a 65536-byte one kills its channel.
inline constexpr std::size_t kDefaultRemoteMaxMessageSize = 65535;
// What rtcpeer advertises and accepts (usrsctp reassembles messages this large).
inline constexpr std::size_t kLocalMaxMessageSize = 262144;
inline constexpr std::uint16_t kDefaultSctpPort = 5000;

enum class Type { kOffer, kAnswer };
enum class SctpForm { kRfc8841, kLegacySctpmap };
// a=setup (RFC 4145/8842): who starts the DTLS handshake.
enum class Setup { kActpass, kActive, kPassive, kHoldconn };

const char* to_string(Setup setup);

struct Fingerprint {
    std::string algorithm;             // lower case: "sha-256"
    std::vector<std::uint8_t> digest;  // raw bytes
};
// "sha-256 AB:CD:..." as in a=fingerprint.
std::string to_string(const Fingerprint& fingerprint);
// Parses the a=fingerprint value; std::nullopt when malformed.
std::optional<Fingerprint> parse_fingerprint(std::string_view value);

struct MediaSection {
    std::string media;  // "application", "audio", ...
    std::uint16_t port = 0;
    std::string proto;  // "UDP/DTLS/SCTP", "DTLS/SCTP", "UDP/TLS/RTP/SAVPF", ...
    std::vector<std::string> formats;
    std::optional<std::string> mid;
};

struct SessionDescription {
    std::vector<MediaSection> media;
    // false only from parse(..., DataChannel::kOptional) for a description
    // without one: data_index and mid then name the transport section, and
    // the SCTP fields keep their defaults.
    bool has_data_channel = true;
    std::size_t data_index = 0;  // which m= section carries the data channel
    std::string mid;             // its mid (its index as text when a=mid is absent)
    // The section whose ICE credentials, fingerprints, setup and candidates
    // the fields below are: the data section from parse(sdp), the BUNDLE
    // group's first (or a chosen) section from parse(sdp, kOptional, ...).
    std::size_t transport_index = 0;
    std::string transport_mid;
    std::vector<std::string> bundle;  // a=group:BUNDLE mids

    SctpForm form = SctpForm::kRfc8841;
    std::uint16_t sctp_port = kDefaultSctpPort;
    std::optional<std::size_t> max_message_size;  // absent: kDefaultRemoteMaxMessageSize

    std::string ice_ufrag;
    std::string ice_pwd;
    bool ice_lite = false;
    bool trickle = false;  // a=ice-options contains "trickle"
    std::vector<Fingerprint> fingerprints;
    Setup setup = Setup::kActpass;

    std::vector<Candidate> candidates;  // of the data section
    bool end_of_candidates = false;
    std::vector<std::string> warnings;  // tolerated oddities (skipped candidate lines, ...)

    std::size_t remote_max_message_size() const {
        return max_message_size.value_or(kDefaultRemoteMaxMessageSize);
    }
};

// Parses and validates an SDP for a data-channel session. Throws
// rtcpeer::Error (protocol error, stage "sdp") naming what is wrong or
// missing: no data-channel m= section, no ICE credentials, no usable
// fingerprint, a bad setup value. Accepts CRLF or LF line ends.
SessionDescription parse(std::string_view sdp);

// For sessions with media. kOptional: an SDP without a data-channel
// section (or with one rejected) is accepted too, and the transport (ICE,
// DTLS, candidates) is read from the section with transport_mid, by default
// the BUNDLE group's first section (RFC 8843: every bundled section uses
// its transport; aiortc gives each of its sections credentials of its own
// and keeps the first's), else the data section, else the first not
// rejected. An answerer whose answer leaves the offer's first bundled
// section out reads the transport of the first one its answer keeps
// (MediaAnswer::transport_mid).
enum class DataChannel { kRequired, kOptional };
SessionDescription parse(std::string_view sdp, DataChannel data_channel,
                         std::optional<std::string_view> transport_mid = std::nullopt);

// What the local side puts into its description.
struct LocalParameters {
    std::string ice_ufrag;
    std::string ice_pwd;
    Fingerprint fingerprint;
    std::vector<Candidate> candidates;
    bool end_of_candidates = false;
    std::uint16_t sctp_port = kDefaultSctpPort;
    std::size_t max_message_size = kLocalMaxMessageSize;
    std::uint64_t session_id = 0;
    // Answers only: active unless the offer insists on being the DTLS client.
    Setup setup = Setup::kActive;
};

// The a=setup an answer takes for an offer's (RFC 8842 §5.3): the answerer is
// the DTLS client (active) unless the offerer said active itself. Throws a
// protocol error for holdconn.
Setup answer_setup(Setup offered);

// An RFC 8841 offer: one m=application section, mid 0, a=setup:actpass.
std::string build_offer(const LocalParameters& local);

// An answer to offer: the data section in the offer's form and mid, with
// local.setup; every other m= section rejected with port 0.
std::string build_answer(const LocalParameters& local, const SessionDescription& offer);

// The pieces of a description that sdp/media.cpp shares with the builders here.
namespace detail {
std::string connection_lines(const LocalParameters& local, const std::string& m_prefix,
                             const std::string& m_suffix);
std::string transport_lines(const LocalParameters& local, Setup setup);
std::string session_lines(const LocalParameters& local, const std::string& bundle);
// The accepted data-channel m= section answering m, in the given form.
std::string data_section_answer(const LocalParameters& local, const MediaSection& m, SctpForm form);
}  // namespace detail

}  // namespace rtcpeer::sdp
