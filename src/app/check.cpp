#include "app/check.hpp"

#include <glib.h>

#include <string>

#include "base/log.hpp"

namespace rtcpeer {

ConnectivityCheck::ConnectivityCheck(datachannel::DataChannel& channel, unsigned count,
                                     Callbacks callbacks)
    : channel_(&channel), count_(count), callbacks_(std::move(callbacks)) {}

void ConnectivityCheck::start() {
    if (count_ == 0) return finish_measuring();
    send_ping();
}

void ConnectivityCheck::send_ping() {
    sent_at_us_ = g_get_monotonic_time();
    send("ping " + std::to_string(next_), false);
    if (!answered_) {
        pong_wait_.start_once(kFirstPongWait, [this] {
            log::state("no answer to the first ping: the remote does not answer checks");
            try {
                finish_measuring();
            } catch (const Error& failure) {
                callbacks_.on_failure(failure);
            }
        });
        return;
    }
    pong_wait_.start_once(kPongWait, [this] {
        callbacks_.on_failure(Error(ErrorCategory::kTimeout, "check",
                                    "no answer to ping " + std::to_string(next_) + " within " +
                                        std::to_string(kPongWait.count() / 1000) + " s"));
    });
}

void ConnectivityCheck::send(std::string_view text, bool binary) {
    // Check messages are tiny and few: the channel queues them.
    if (channel_ == nullptr || !channel_->send(text, binary)) {
        throw Error(ErrorCategory::kConnection, "check", "cannot send on the data channel");
    }
}

void ConnectivityCheck::finish_measuring() {
    if (measured_) return;
    measured_ = true;
    pong_wait_.reset();
    send({}, true);  // our EOF
    watch_remote_pings();
    callbacks_.on_progress();
}

void ConnectivityCheck::watch_remote_pings() {
    // Measured, with a remote that pings us and has not sent its EOF: go on
    // answering while its pings keep coming.
    if (!measured_ || count_ == 0 || !remote_pinged_ || remote_done_) return;
    remote_quiet_wait_.start_once(kRemoteQuiet, [this] {
        log::state("the remote sent no ping for " + std::to_string(kRemoteQuiet.count() / 1000) +
                   " s and no end of file");
        remote_quiet_ = true;
        callbacks_.on_progress();
    });
}

void ConnectivityCheck::on_message(std::string_view data, bool binary) {
    if (data.empty()) {
        if (binary) {
            remote_done_ = true;
            remote_quiet_wait_.reset();
            callbacks_.on_progress();
        }
        return;
    }
    if (data.substr(0, 4) == "ping") {
        remote_pinged_ = true;
        watch_remote_pings();
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
    pong_wait_.reset();
    if (next_++ >= count_) return finish_measuring();
    send_ping();
}

}  // namespace rtcpeer
