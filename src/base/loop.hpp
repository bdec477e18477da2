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
#include <functional>
#include <memory>

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

// A one-shot or repeating timer. The callback of a repeating timer returns
// false to stop; a one-shot timer's return value is ignored.
class Timer {
  public:
    using Callback = std::function<bool()>;

    Timer() = default;
    ~Timer() { reset(); }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void start_once(std::chrono::milliseconds delay, std::function<void()> callback);
    void start_repeating(std::chrono::milliseconds period, Callback callback);
    void reset();
    bool active() const { return source_ != nullptr; }

  private:
    static gboolean dispatch(gpointer data);
    GSource* source_ = nullptr;
    bool once_ = false;
    Callback callback_;
};

}  // namespace rtcpeer::loop
