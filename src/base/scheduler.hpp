// Where timers wait: the GLib main loop in the program, a hand-driven queue
// in tests.
//
// loop::Timer (base/loop.hpp) schedules through a Scheduler. The program
// uses glib_scheduler(), whose callbacks are GLib timeout sources of the
// default main context, run by the main thread. A test gives a
// ManualScheduler instead: nothing fires until the test calls advance(),
// which moves its clock forward and runs what fell due, in time order. Code
// that both reads the time and waits (sctp::Stack) takes a Scheduler, so that
// its clock and its timers agree.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <unordered_map>
#include <utility>

#include "base/clock.hpp"

namespace rtcpeer {

class Scheduler {
  public:
    using Id = std::uint64_t;
    // Returns true to run again after the same delay, false to finish.
    using Callback = std::function<bool()>;

    virtual ~Scheduler() = default;
    virtual const Clock& clock() const = 0;
    // Runs callback after delay, on the thread that drives this scheduler.
    // Ids are never 0 and never reused by one scheduler.
    virtual Id schedule(std::chrono::milliseconds delay, Callback callback) = 0;
    // Forgets id; it will not run again. Unknown or finished ids are ignored.
    // A callback may cancel itself or any other.
    virtual void cancel(Id id) = 0;
};

// GLib timeout sources on the default main context, with system_clock().
class GlibScheduler final : public Scheduler {
  public:
    GlibScheduler() = default;
    ~GlibScheduler() override;
    GlibScheduler(const GlibScheduler&) = delete;
    GlibScheduler& operator=(const GlibScheduler&) = delete;

    const Clock& clock() const override { return system_clock(); }
    Id schedule(std::chrono::milliseconds delay, Callback callback) override;
    void cancel(Id id) override;

  private:
    struct Entry;
    static int dispatch(void* data);
    std::unordered_map<Id, std::unique_ptr<Entry>> entries_;
    Id next_id_ = 1;
};

// The program's scheduler, used by every timer that is not given another.
// Never destroyed, so that a timer may outlive static destruction.
Scheduler& glib_scheduler();

// Time moves only in advance(); callbacks run inside it.
class ManualScheduler final : public Scheduler {
  public:
    explicit ManualScheduler(std::int64_t start_ms = 0) : clock_(start_ms) {}

    const Clock& clock() const override { return clock_; }
    std::int64_t now_ms() const { return clock_.now_ms(); }
    Id schedule(std::chrono::milliseconds delay, Callback callback) override;
    void cancel(Id id) override;

    // Moves the clock forward by ms, running every callback that falls due on
    // the way at its own time (earliest first; equal times in the order they
    // were scheduled), including those that the callbacks schedule.
    void advance(std::int64_t ms);
    // How many callbacks wait.
    std::size_t pending() const { return entries_.size(); }

  private:
    struct Entry {
        std::int64_t due_ms;
        std::int64_t period_ms;
        Callback callback;
    };
    ManualClock clock_;
    std::unordered_map<Id, Entry> entries_;
    std::set<std::pair<std::int64_t, Id>> queue_;  // (due, id): ids grow, so ties keep order
    Id next_id_ = 1;
};

}  // namespace rtcpeer
