#include "app/progress.hpp"

#include <glib.h>

#include <cstdio>

#include "base/log.hpp"

namespace rtcpeer {

std::string amount_text(double bytes) {
    char text[32];
    if (bytes >= 1e9)
        std::snprintf(text, sizeof text, "%.2f GB", bytes / 1e9);
    else if (bytes >= 1e6)
        std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1e3)
        std::snprintf(text, sizeof text, "%.1f kB", bytes / 1e3);
    else
        std::snprintf(text, sizeof text, "%.0f B", bytes);
    return text;
}

void Progress::start(const StreamPipe& pipe, std::int64_t since_us) {
    pipe_ = &pipe;
    since_us_ = since_us;
    timer_.start_repeating(std::chrono::milliseconds(1000), [this] {
        show();
        return true;
    });
}

void Progress::show() const {
    const double seconds = static_cast<double>(g_get_monotonic_time() - since_us_) / 1e6;
    const auto sent = static_cast<double>(pipe_->bytes_sent());
    const auto received = static_cast<double>(pipe_->bytes_received());
    log::progress("rtcpeer: sent " + amount_text(sent) + " (" + amount_text(sent / seconds) +
                  "/s), received " + amount_text(received) + " (" +
                  amount_text(received / seconds) + "/s)");
}

}  // namespace rtcpeer
