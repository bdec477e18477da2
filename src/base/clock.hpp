// The time the layers read, behind an interface so that a test can set it.
//
// The program reads GLib's monotonic clock (system_clock()); a test gives a
// ManualClock instead and moves it forward by hand. The clock is read, never
// waited on: timers wait on a Scheduler (base/scheduler.hpp).
#pragma once

#include <glib.h>

#include <cstdint>

namespace rtcpeer {

class Clock {
  public:
    virtual ~Clock() = default;
    // Milliseconds since an arbitrary start; never goes back.
    virtual std::int64_t now_ms() const = 0;
};

// GLib's monotonic time (g_get_monotonic_time), the one the main loop uses.
class SystemClock final : public Clock {
  public:
    std::int64_t now_ms() const override { return g_get_monotonic_time() / 1000; }
};

// The program's clock, shared by everything that is not given another one.
inline const Clock& system_clock() {
    static const SystemClock clock;
    return clock;
}

// A clock that moves only when told to.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(std::int64_t start_ms = 0) : now_ms_(start_ms) {}
    std::int64_t now_ms() const override { return now_ms_; }
    void advance_ms(std::int64_t ms) {
        if (ms > 0) now_ms_ += ms;
    }

  private:
    std::int64_t now_ms_;
};

}  // namespace rtcpeer
