#include "base/loop.hpp"

#include <utility>

namespace rtcpeer::loop {

FdWatch::FdWatch(int fd, GIOCondition condition, Callback callback)
    : callback_(std::make_unique<Callback>(std::move(callback))) {
    source_ = g_unix_fd_source_new(fd, condition);
    g_source_set_callback(
        source_, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(&FdWatch::dispatch)),
        callback_.get(), nullptr);
    g_source_attach(source_, nullptr);
}

FdWatch::FdWatch(FdWatch&& other) noexcept
    : source_(std::exchange(other.source_, nullptr)), callback_(std::move(other.callback_)) {}

FdWatch& FdWatch::operator=(FdWatch&& other) noexcept {
    if (this != &other) {
        reset();
        source_ = std::exchange(other.source_, nullptr);
        callback_ = std::move(other.callback_);
    }
    return *this;
}

void FdWatch::reset() {
    if (source_ != nullptr) {
        g_source_destroy(source_);
        g_source_unref(source_);
        source_ = nullptr;
    }
    // The callback may be running (a watch that resets itself); it is freed
    // with the handle or replaced by the next assignment, never while in use,
    // because GLib does not call a destroyed source again.
}

gboolean FdWatch::dispatch(gint, GIOCondition condition, gpointer data) {
    // Copy: the callback may reset or reassign the watch that owns it.
    Callback callback = *static_cast<Callback*>(data);
    return callback(condition) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void Timer::start_once(std::chrono::milliseconds delay, std::function<void()> callback) {
    start(delay, true, [callback = std::move(callback)] {
        callback();
        return false;
    });
}

void Timer::start_repeating(std::chrono::milliseconds period, Callback callback) {
    start(period, false, std::move(callback));
}

void Timer::start(std::chrono::milliseconds delay, bool once, Callback callback) {
    reset();
    const std::uint64_t generation = ++generation_;
    std::weak_ptr<const Timer*> alive = alive_;
    id_ = scheduler_->schedule(delay,
                               [this, alive, generation, once, callback = std::move(callback)] {
                                   // The callback may restart, reset or destroy the timer: only a
                                   // timer that still exists and is still this start() of it
                                   // finishes here.
                                   const bool keep = callback() && !once;
                                   if (alive.expired()) return false;
                                   if (!keep && generation_ == generation) id_ = 0;
                                   return keep;
                               });
}

void Timer::reset() {
    if (id_ != 0) {
        scheduler_->cancel(id_);
        id_ = 0;
    }
}

}  // namespace rtcpeer::loop
