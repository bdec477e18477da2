// Signaling messages and their wire form (rtcpeer(1), SIGNALING).
//
// One JSON object per line, byte-identical to what aiortc's
// contrib.signaling.object_to_string produces: keys sorted, Python's default
// separators (", " and ": "), non-ASCII escaped as \uXXXX. Pure functions over
// strings: no I/O, so they are unit-tested and fuzzed directly.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rtcpeer::signaling {

// Lines longer than this are rejected before they are buffered whole (§3).
inline constexpr std::size_t kMaxLineBytes = 1024 * 1024;

struct Message {
    enum class Type { kOffer, kAnswer, kCandidate, kBye, kUnknown };

    Type type = Type::kBye;
    std::string sdp;                 // offer, answer
    std::string candidate;           // candidate: the attribute value after "candidate:";
                                     // empty means the remote's end of candidates
    std::optional<std::string> mid;  // candidate: "id" (sdpMid), null allowed
    std::optional<int> mline_index;  // candidate: "label" (sdpMLineIndex), null allowed
    std::string unknown_type;        // kUnknown: the "type" that was not understood

    static Message offer(std::string sdp);
    static Message answer(std::string sdp);
    static Message ice_candidate(std::string candidate, std::string mid, int mline_index);
    static Message bye();
};

const char* to_string(Message::Type type);

// The JSON line for a message, without the terminating "\n".
std::string encode(const Message& message);

// Parses one received line (without its "\n"; a trailing "\r" is tolerated).
// Throws rtcpeer::Error of category kProtocol and a message that names
// what was wrong. An unknown "type" is not an error: it yields kUnknown.
Message decode(std::string_view line);

}  // namespace rtcpeer::signaling
