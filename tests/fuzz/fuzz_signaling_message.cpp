// The signaling JSON decoder. Property: whatever decodes re-encodes to a
// line that decodes to the same message.
#include <cstdint>
#include <string>

#include "signaling/message.hpp"
#include "text_round_trip.hpp"

using namespace rtcpeer::signaling;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_text_round_trip(
        data, size, [](const std::string& line) { return decode(line); },
        [](const Message& message) { return encode(message); },
        [](const Message& message) { return message.type != Message::Type::kUnknown; });
    return 0;
}
