// The signaling JSON decoder. Property: whatever decodes re-encodes to a
// line that decodes to the same message.
#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "signaling/message.hpp"

using namespace rtcpeer::signaling;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string line(reinterpret_cast<const char*>(data), size);
    Message message;
    try {
        message = decode(line);
    } catch (const rtcpeer::Error&) {
        return 0;  // a protocol error is a correct answer to garbage
    }
    if (message.type == Message::Type::kUnknown) return 0;
    const std::string encoded = encode(message);
    if (encode(decode(encoded)) != encoded) __builtin_trap();
    return 0;
}
