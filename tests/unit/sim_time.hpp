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

}  // namespace rtcpeer::sim
