// The -v progress line on a terminal: bytes and rates both ways, once a
// second while the pipe runs (rtcpeer(1), -v).
#pragma once

#include <cstdint>
#include <string>

#include "app/stream_pipe.hpp"
#include "base/loop.hpp"

namespace rtcpeer {

// "1.5 MB", "12.0 kB", "800 B".
std::string amount_text(double bytes);

class Progress {
  public:
    // Draws the line every second from now; since_us: when the channel
    // opened (g_get_monotonic_time). pipe must outlive the drawing (stop()).
    void start(const StreamPipe& pipe, std::int64_t since_us);
    void stop() { timer_.reset(); }

  private:
    void show() const;
    loop::Timer timer_;
    const StreamPipe* pipe_ = nullptr;
    std::int64_t since_us_ = 0;
};

}  // namespace rtcpeer
