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
    reset();
    once_ = true;
    callback_ = [callback = std::move(callback)] {
        callback();
        return false;
    };
    source_ = g_timeout_source_new(static_cast<guint>(delay.count()));
    g_source_set_callback(source_, &Timer::dispatch, this, nullptr);
    g_source_attach(source_, nullptr);
}

void Timer::start_repeating(std::chrono::milliseconds period, Callback callback) {
    reset();
    once_ = false;
    callback_ = std::move(callback);
    source_ = g_timeout_source_new(static_cast<guint>(period.count()));
    g_source_set_callback(source_, &Timer::dispatch, this, nullptr);
    g_source_attach(source_, nullptr);
}

void Timer::reset() {
    if (source_ != nullptr) {
        g_source_destroy(source_);
        g_source_unref(source_);
        source_ = nullptr;
    }
}

gboolean Timer::dispatch(gpointer data) {
    auto* self = static_cast<Timer*>(data);
    GSource* source = self->source_;
    Callback callback = self->callback_;  // the callback may restart or destroy the timer
    const bool keep = callback() && !self->once_;
    if (!keep && self->source_ == source) {
        // Finished by returning false: drop our reference; GLib drops its own.
        g_source_unref(source);
        self->source_ = nullptr;
    }
    return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

}  // namespace rtcpeer::loop
