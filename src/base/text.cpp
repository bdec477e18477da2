#include "base/text.hpp"

namespace rtcpeer::text {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

std::string printable(std::string_view text, std::size_t max) {
    std::string out;
    for (char c : text.substr(0, max)) out += (c >= ' ' && c < 0x7f) ? c : '?';
    if (text.size() > max) out += "...";
    return out;
}

}  // namespace rtcpeer::text
