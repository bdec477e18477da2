#include "app/check.hpp"

#include <glib.h>

#include <string>

#include "app/log.hpp"

namespace rtcpeer {

ConnectivityCheck::ConnectivityCheck(datachannel::Channel& channel, unsigned count,
                                     std::function<void()> on_progress)
    : channel_(channel), count_(count), on_progress_(std::move(on_progress)) {}

void ConnectivityCheck::start() {
    if (count_ == 0) return finish_measuring();
    first_pong_wait_.start_once(kFirstPongWait, [this] {
        log::state("no answer to the first ping: the remote does not answer checks");
        finish_measuring();
    });
    send_ping();
}

void ConnectivityCheck::send_ping() {
    sent_at_us_ = g_get_monotonic_time();
    send("ping " + std::to_string(next_), false);
}

void ConnectivityCheck::send(std::string_view text, bool binary) {
    // Check messages are tiny and few: SCTP's buffer always has room.
    if (channel_.send(text, binary) != sctp::Association::SendResult::kSent) {
        throw Failure(ExitCode::kConnection, "check", "cannot send on the data channel");
    }
}

void ConnectivityCheck::finish_measuring() {
    if (measured_) return;
    measured_ = true;
    first_pong_wait_.reset();
    send({}, true);  // our EOF
    on_progress_();
}

void ConnectivityCheck::on_message(std::string_view data, bool binary) {
    if (data.empty()) {
        if (binary) {
            remote_done_ = true;
            on_progress_();
        }
        return;
    }
    if (data.substr(0, 4) == "ping") {
        std::string reply = "pong";
        reply.append(data.substr(4));
        return send(reply, false);
    }
    if (measured_ || data != "pong " + std::to_string(next_)) {
        log::warn("unexpected check message ignored");
        return;
    }
    rtts_ms_.push_back(static_cast<double>(g_get_monotonic_time() - sent_at_us_) / 1000.0);
    answered_ = true;
    first_pong_wait_.reset();
    if (next_++ >= count_) return finish_measuring();
    send_ping();
}

}  // namespace rtcpeer
