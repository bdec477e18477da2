// usrsctp's process-wide state, set up explicitly.
//
// usrsctp is one global stack per process: usrsctp_init_nothreads() starts it
// with the output callback that every association's packets leave through,
// and its tunables (sysctls) are defaults for every socket made afterwards.
// A Stack object stands for that state while associations use it: whoever
// owns the associations creates one Stack first and keeps it until the last
// association is gone (the session does). At most one Stack exists at a time.
//
// The Stack drives usrsctp from a Scheduler (base/scheduler.hpp), GLib's main
// loop in the program: a 10 ms timer advances usrsctp's timers by the time
// read from its clock. With usrsctp_init_nothreads() that is the only way
// usrsctp's timers move (T1-init, T3-rtx, delayed SACK, heartbeat, shutdown,
// stream reset), so on a ManualScheduler they follow simulated time; its RTT
// samples and PR-SCTP lifetimes still read the real time. After every call into
// usrsctp each association reads and writes what became possible (pump_all).
// usrsctp itself is initialised once per process and never finished:
// usrsctp_finish() fails while a closed socket still lingers in its tables,
// and starting again afterwards is not supported by usrsctp.
#pragma once

#include <cstdint>
#include <vector>

#include "base/clock.hpp"
#include "base/loop.hpp"
#include "base/scheduler.hpp"

namespace rtcpeer::sctp {

class Association;

class Stack {
  public:
    // Socket buffers (SO_SNDBUF, SO_RCVBUF and their sysctl defaults): the
    // send buffer bounds what waits for acknowledgement, the receive buffer
    // is the advertised receive window.
    static constexpr int kSendBufferBytes = 2 << 20;
    static constexpr int kReceiveBufferBytes = 2 << 20;
    // How long a receiver may wait before it acknowledges data (the
    // delayed-SACK time; RFC 4960 says 200 ms): why 20, in stack.cpp.
    static constexpr std::uint32_t kDelayedSackMs = 20;

    // Initialises usrsctp the first time in the process, and starts the timer.
    // Throws std::logic_error if another Stack exists.
    explicit Stack(const Clock& clock = system_clock());
    // Timers and time from scheduler instead (a test's ManualScheduler).
    explicit Stack(Scheduler& scheduler);
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    // For Association: registers it as an AF_CONN address, and back.
    void add(Association* association);
    void remove(Association* association);
    // After calls into usrsctp: let every association read and write what
    // became possible. This runs after every packet: no copy, no allocation;
    // indexing stays valid if a callback removes an association.
    void pump_all();
    // Whether address is an association of the live Stack (usrsctp's output
    // callback checks before it trusts the pointer it is given).
    static bool serves(void* address);
    // The time usrsctp's timers follow (a test's simulated clock).
    const Clock& clock() const { return clock_; }

  private:
    Stack(const Clock& clock, Scheduler& scheduler);
    const Clock& clock_;
    std::vector<Association*> associations_;  // one per run, in practice
    loop::Timer timer_;
    std::int64_t last_tick_ms_ = 0;
};

}  // namespace rtcpeer::sctp
