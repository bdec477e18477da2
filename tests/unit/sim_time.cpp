// The simulated time of day (sim_time.hpp). usrsctp and GnuTLS are shared
// libraries: the executable's definitions of these functions come first in
// symbol lookup, so they read the time from here.
#include "sim_time.hpp"

#include <dlfcn.h>
#include <sys/time.h>
#include <time.h>

namespace rtcpeer::sim {

using ClockGettime = int (*)(clockid_t, struct timespec*);
ClockGettime real_clock_gettime();
bool simulating();

namespace {
const ManualScheduler* g_simulated = nullptr;
std::int64_t g_start_us = 0;   // the time of day when the simulation began
std::int64_t g_start_ms = 0;   // its scheduler's clock then
std::int64_t g_offset_us = 0;  // added to the real time outside a simulation

}  // namespace

ClockGettime real_clock_gettime() {
    static const auto real = reinterpret_cast<ClockGettime>(dlsym(RTLD_NEXT, "clock_gettime"));
    return real;
}

std::int64_t real_time_us() {
    timespec now{};
    real_clock_gettime()(CLOCK_REALTIME, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
}

std::int64_t time_of_day_us() {
    if (g_simulated == nullptr) return real_time_us() + g_offset_us;
    return g_start_us + (g_simulated->now_ms() - g_start_ms) * 1000;
}

SimulatedTimeOfDay::SimulatedTimeOfDay(const ManualScheduler& scheduler) {
    g_start_us = time_of_day_us();
    g_start_ms = scheduler.now_ms();
    g_simulated = &scheduler;
}

SimulatedTimeOfDay::~SimulatedTimeOfDay() {
    const std::int64_t now = time_of_day_us();
    g_simulated = nullptr;
    g_offset_us = now - real_time_us();
}

bool simulating() { return g_simulated != nullptr; }

}  // namespace rtcpeer::sim

extern "C" int gettimeofday(struct timeval* __restrict tv, void* __restrict) __THROW {
    const std::int64_t now = rtcpeer::sim::time_of_day_us();
    tv->tv_sec = static_cast<time_t>(now / 1000000);
    tv->tv_usec = static_cast<suseconds_t>(now % 1000000);
    return 0;
}

extern "C" int clock_gettime(clockid_t clock, struct timespec* tp) __THROW {
    if (clock != CLOCK_REALTIME || !rtcpeer::sim::simulating())
        return rtcpeer::sim::real_clock_gettime()(clock, tp);
    const std::int64_t now = rtcpeer::sim::time_of_day_us();
    tp->tv_sec = static_cast<time_t>(now / 1000000);
    tp->tv_nsec = static_cast<long>(now % 1000000) * 1000;
    return 0;
}
