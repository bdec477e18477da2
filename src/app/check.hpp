// Connectivity-check mode (--check): the data channel carries round trips
// instead of stdin/stdout.
//
// The check protocol, on a channel labelled "rtcpeer-check":
//   - the measuring side sends the text message "ping N" (N = 1, 2, ...) and
//     sends ping N+1 once "pong N" came back;
//   - every rtcpeer answers "ping X" on such a channel with "pong X",
//     whatever its own mode, so a plain `rtcpeer answer` is a check
//     responder; aiortc's datachannel-cli answers the same way;
//   - a side that has nothing more to send sends the EOF marker (an empty
//     binary message, as in rtcpeer(1), DATA).
// A measuring side is done once its round trips are measured and the remote
// asks nothing more of it: the remote sent its EOF, or never sent a ping, or
// its pings stopped for kRemoteQuiet (aiortc's datachannel-cli answers every
// ping but sends no EOF). A side that only answers is done at the remote's
// EOF. A remote that is not rtcpeer may never answer: after kFirstPongWait
// without the first pong only the connection set-up counts as measured; a
// later pong missing for kPongWait is a time-out.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/loop.hpp"
#include "datachannel/data_channel.hpp"

namespace rtcpeer {

inline constexpr const char* kCheckLabel = "rtcpeer-check";

class ConnectivityCheck {
  public:
    static constexpr std::chrono::milliseconds kFirstPongWait{2000};
    static constexpr std::chrono::milliseconds kPongWait{5000};
    static constexpr std::chrono::milliseconds kRemoteQuiet{2000};

    struct Callbacks {
        std::function<void()> on_progress;             // measured, or the remote is done
        std::function<void(const Error&)> on_failure;  // a pong never came
    };

    // count 0: answer the remote's pings only.
    ConnectivityCheck(datachannel::DataChannel& channel, unsigned count, Callbacks callbacks);

    void start();
    void on_message(std::string_view data, bool binary);
    void on_remote_closed() { remote_done_ = true; }
    // The channel is gone: nothing more can be sent on it.
    void on_channel_closed() { channel_ = nullptr; }

    // Every ping we meant to send is answered, or the remote does not answer.
    bool measured() const { return measured_; }
    // Nothing is left to wait for on either side.
    bool complete() const {
        if (!measured_) return false;
        if (remote_done_) return true;
        return count_ > 0 && (!answered_ || !remote_pinged_ || remote_quiet_);
    }
    bool remote_answered() const { return answered_; }
    bool remote_done() const { return remote_done_; }
    const std::vector<double>& rtts_ms() const { return rtts_ms_; }

  private:
    void send_ping();
    void finish_measuring();
    void watch_remote_pings();
    void send(std::string_view text, bool binary);

    datachannel::DataChannel* channel_;  // null once closed
    unsigned count_;
    Callbacks callbacks_;
    unsigned next_ = 1;
    std::int64_t sent_at_us_ = 0;
    bool measured_ = false;
    bool answered_ = false;
    bool remote_done_ = false;
    bool remote_pinged_ = false;  // the remote measures too
    bool remote_quiet_ = false;   // ... but sent no ping for kRemoteQuiet
    std::vector<double> rtts_ms_;
    loop::Timer pong_wait_;
    loop::Timer remote_quiet_wait_;
};

}  // namespace rtcpeer
