// RAII handles for GLib main-loop sources.
//
// Threading: rtcpeer's state belongs to one GLib main context, run by the main
// thread. Every callback registered through these handles runs on that thread.
// A handle removes its source when destroyed or reset, so an object that owns
// its handles can never be called back after it is gone.
#pragma once

#include <glib-unix.h>
#include <glib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "base/scheduler.hpp"

namespace rtcpeer::loop {

// A file descriptor watch (g_unix_fd_add). The callback returns false to stop watching.
class FdWatch {
  public:
    using Callback = std::function<bool(GIOCondition)>;

    FdWatch() = default;
    FdWatch(int fd, GIOCondition condition, Callback callback);
    ~FdWatch() { reset(); }
    FdWatch(FdWatch&& other) noexcept;
    FdWatch& operator=(FdWatch&& other) noexcept;
    FdWatch(const FdWatch&) = delete;
    FdWatch& operator=(const FdWatch&) = delete;

    void reset();
    bool active() const { return source_ != nullptr; }

  private:
    static gboolean dispatch(gint fd, GIOCondition condition, gpointer data);
    GSource* source_ = nullptr;
    std::unique_ptr<Callback> callback_;
};

// A one-shot or repeating timer, on a Scheduler (base/scheduler.hpp): GLib's
// main loop unless told otherwise. The callback of a repeating timer returns
// false to stop; a one-shot timer's return value is ignored. The scheduler
// must outlive the timer.
class Timer {
  public:
    using Callback = std::function<bool()>;

    explicit Timer(Scheduler& scheduler = glib_scheduler()) : scheduler_(&scheduler) {}
    ~Timer() { reset(); }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void start_once(std::chrono::milliseconds delay, std::function<void()> callback);
    void start_repeating(std::chrono::milliseconds period, Callback callback);
    void reset();
    bool active() const { return id_ != 0; }

  private:
    void start(std::chrono::milliseconds delay, bool once, Callback callback);
    Scheduler* scheduler_;
    Scheduler::Id id_ = 0;
    std::uint64_t generation_ = 0;  // which start() a running callback belongs to
    // Gone with the timer: a callback that destroyed its own timer (its
    // owner ended) must not touch it afterwards.
    std::shared_ptr<const Timer*> alive_ = std::make_shared<const Timer*>(this);
};

}  // namespace rtcpeer::loop
