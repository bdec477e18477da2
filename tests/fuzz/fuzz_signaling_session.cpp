// The receive path of one signaling session, as the session runs it on the
// bytes a remote sends: line framing with its bound, JSON decoding, then the
// SDP or candidate inside each message. Stops at the first protocol error,
// as rtcpeer does.
#include <cstdint>
#include <string_view>

#include "base/error.hpp"
#include "sdp/candidate.hpp"
#include "sdp/description.hpp"
#include "signaling/line_framer.hpp"
#include "signaling/message.hpp"

using namespace rtcpeer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // A small line bound so that the fuzzer reaches it.
    signaling::LineFramer framer(4096);
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    try {
        // Fed in two pieces, as reads split a stream anywhere.
        const std::size_t half = size / 2;
        for (std::string_view piece : {bytes.substr(0, half), bytes.substr(half)}) {
            framer.feed(piece, [](std::string_view line) {
                const signaling::Message message = signaling::decode(line);
                if (message.type == signaling::Message::Type::kOffer ||
                    message.type == signaling::Message::Type::kAnswer) {
                    sdp::parse(message.sdp);
                } else if (message.type == signaling::Message::Type::kCandidate &&
                           !message.candidate.empty()) {
                    try {
                        sdp::parse_candidate(message.candidate);
                    } catch (const Error&) {
                        // a bad candidate is ignored with a warning
                    }
                }
            });
        }
    } catch (const Error& failure) {
        if (failure.category() != ErrorCategory::kProtocol) __builtin_trap();
    }
    return 0;
}
