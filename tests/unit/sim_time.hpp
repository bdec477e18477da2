// The time of day in simulated-time tests.
//
// The layers' timers wait on a ManualScheduler, but two libraries also read
// the time of day: usrsctp (RTT samples; which chunks a T3-rtx expiry
// resends; whether a heartbeat is due; a PR-SCTP lifetime) and GnuTLS
// (whether a DTLS handshake flight is due again). While a SimulatedTimeOfDay
// lives, gettimeofday() and clock_gettime(CLOCK_REALTIME) of the test binary
// (sim_time.cpp, linked into each simulation binary) follow its scheduler's
// clock: frozen at the start, moving only when the test advances it. Outside
// one they give the real time plus an offset, so the time of day never goes
// back.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/scheduler.hpp"

namespace rtcpeer::sim {

// The real time of day, past the override.
std::int64_t real_time_us();
// What the overridden clocks say now.
std::int64_t time_of_day_us();

class SimulatedTimeOfDay {
  public:
    explicit SimulatedTimeOfDay(const ManualScheduler& scheduler);
    ~SimulatedTimeOfDay();
    SimulatedTimeOfDay(const SimulatedTimeOfDay&) = delete;
    SimulatedTimeOfDay& operator=(const SimulatedTimeOfDay&) = delete;
};

// A simulation that a test drives: deliver() hands over whatever waits on
// its link; step() and run_until() let simulated time pass in between.
class Driver {
  public:
    explicit Driver(std::int64_t step_ms) : step_ms_(step_ms) {}
    virtual ~Driver() = default;
    Driver(const Driver&) = delete;
    Driver& operator=(const Driver&) = delete;

    // Delivers, lets ms (default: one step) pass, and delivers what that sent.
    void step(std::int64_t ms = 0) {
        deliver();
        scheduler_.advance(ms > 0 ? ms : step_ms_);
        deliver();
    }

    // Steps until done() or until limit_ms of simulated time passed.
    bool run_until(const std::function<bool()>& done, std::int64_t limit_ms) {
        const std::int64_t end = scheduler_.now_ms() + limit_ms;
        while (!done()) {
            if (scheduler_.now_ms() >= end) return false;
            step();
        }
        return true;
    }

    ManualScheduler& scheduler() { return scheduler_; }

  protected:
    virtual void deliver() = 0;

    // First built, last gone: everything in the simulation waits on it.
    ManualScheduler scheduler_;

  private:
    std::int64_t step_ms_;
};

// A message whose content depends on its index and size.
inline std::string pattern(std::size_t index, std::size_t size) {
    std::string data(size, '\0');
    std::uint32_t x = static_cast<std::uint32_t>(index * 2654435761u + size);
    for (char& c : data) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
    }
    return data;
}

}  // namespace rtcpeer::sim
