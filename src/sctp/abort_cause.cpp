#include "sctp/abort_cause.hpp"

#include <algorithm>

#include "base/bytes.hpp"

namespace rtcpeer::sctp {

std::optional<std::string> user_abort_reason(const std::uint8_t* chunk, std::size_t size) {
    constexpr std::uint8_t kAbortChunk = 6;
    constexpr std::uint16_t kUserInitiatedAbort = 12;
    if (size < 4 || chunk[0] != kAbortChunk) return std::nullopt;
    // The chunk's own length bounds the walk, not the buffer it came in.
    const std::size_t end = std::min<std::size_t>(size, bytes::get16(chunk + 2));
    for (std::size_t at = 4; at + 4 <= end;) {
        const std::uint16_t code = bytes::get16(chunk + at);
        const std::size_t length = bytes::get16(chunk + at + 2);
        if (length < 4 || at + length > end) break;
        if (code == kUserInitiatedAbort)
            return std::string(reinterpret_cast<const char*>(chunk + at + 4), length - 4);
        at += (length + 3) & ~std::size_t{3};  // causes are padded to 4 bytes
    }
    return std::nullopt;
}

}  // namespace rtcpeer::sctp
