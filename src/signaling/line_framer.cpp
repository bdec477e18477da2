#include "signaling/line_framer.hpp"

#include "base/error.hpp"

namespace rtcpeer::signaling {

void LineFramer::feed(std::string_view bytes,
                      const std::function<void(std::string_view)>& on_line) {
    while (!bytes.empty()) {
        const std::size_t newline = bytes.find('\n');
        const std::size_t take = newline == std::string_view::npos ? bytes.size() : newline;
        if (partial_.size() + take > max_) {
            partial_.clear();
            partial_.shrink_to_fit();
            throw protocol_error("signaling",
                                 "message line longer than " + std::to_string(max_) + " bytes");
        }
        if (newline == std::string_view::npos) {
            partial_.append(bytes);
            return;
        }
        if (partial_.empty()) {
            on_line(bytes.substr(0, newline));
        } else {
            partial_.append(bytes.substr(0, newline));
            std::string line = std::move(partial_);
            partial_.clear();
            on_line(line);
        }
        bytes.remove_prefix(newline + 1);
    }
}

}  // namespace rtcpeer::signaling
