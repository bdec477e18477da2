// Splits a byte stream into "\n"-terminated lines with a hard bound on what is
// buffered: a line that grows past the limit is rejected as soon as the limit
// is crossed, never after it has been buffered whole (rtcpeer(1), SIGNALING).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace rtcpeer::signaling {

class LineFramer {
  public:
    explicit LineFramer(std::size_t max_line_bytes) : max_(max_line_bytes) {}

    // Appends bytes and calls on_line for each complete line (without "\n").
    // Throws rtcpeer::Error (protocol error) when a line exceeds the bound;
    // the framer is then unusable.
    void feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line);

    // Bytes of an incomplete line held back.
    std::size_t pending() const { return partial_.size(); }

  private:
    std::size_t max_;
    std::string partial_;
};

}  // namespace rtcpeer::signaling
