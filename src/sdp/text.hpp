// Small parsing helpers shared by the SDP parsers.
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/text.hpp"

namespace rtcpeer::sdp::text {

// Splits on runs of spaces and tabs.
std::vector<std::string_view> split_words(std::string_view line);

using rtcpeer::text::iequals;
using rtcpeer::text::parse_hex;
using rtcpeer::text::printable;

// An unsigned decimal with no sign, no spaces and no overflow, within max.
template <typename T>
std::optional<T> parse_unsigned(std::string_view s, T max = std::numeric_limits<T>::max()) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || value > max) return std::nullopt;
    return static_cast<T>(value);
}

// Printable ASCII with no spaces: what tokens, ufrags and foundations may hold.
bool is_token(std::string_view s);

}  // namespace rtcpeer::sdp::text
