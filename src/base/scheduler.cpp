#include "base/scheduler.hpp"

#include <glib.h>

#include <algorithm>

namespace rtcpeer {

struct GlibScheduler::Entry {
    GlibScheduler* owner;
    Id id;
    GSource* source;
    Callback callback;
};

GlibScheduler::~GlibScheduler() {
    for (auto& [id, entry] : entries_) {
        g_source_destroy(entry->source);
        g_source_unref(entry->source);
    }
}

Scheduler::Id GlibScheduler::schedule(std::chrono::milliseconds delay, Callback callback) {
    const Id id = next_id_++;
    auto entry = std::make_unique<Entry>(Entry{this, id, nullptr, std::move(callback)});
    entry->source =
        g_timeout_source_new(static_cast<guint>(std::max<std::int64_t>(0, delay.count())));
    g_source_set_callback(entry->source, &GlibScheduler::dispatch, entry.get(), nullptr);
    g_source_attach(entry->source, nullptr);
    entries_.emplace(id, std::move(entry));
    return id;
}

void GlibScheduler::cancel(Id id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    g_source_destroy(it->second->source);
    g_source_unref(it->second->source);
    // The callback may be running (a timer that cancels itself): it runs
    // from a copy (dispatch), so the entry can go now.
    entries_.erase(it);
}

int GlibScheduler::dispatch(void* data) {
    auto* entry = static_cast<Entry*>(data);
    GlibScheduler* owner = entry->owner;
    const Id id = entry->id;
    Callback callback = entry->callback;  // the callback may cancel or reschedule
    const bool again = callback();
    auto it = owner->entries_.find(id);
    if (it == owner->entries_.end()) return G_SOURCE_REMOVE;  // cancelled meanwhile
    if (again) return G_SOURCE_CONTINUE;
    // Finished by returning false: drop our reference; GLib drops its own.
    g_source_unref(it->second->source);
    owner->entries_.erase(it);
    return G_SOURCE_REMOVE;
}

Scheduler& glib_scheduler() {
    static auto* scheduler = new GlibScheduler;
    return *scheduler;
}

Scheduler::Id ManualScheduler::schedule(std::chrono::milliseconds delay, Callback callback) {
    const Id id = next_id_++;
    const std::int64_t period = std::max<std::int64_t>(0, delay.count());
    const std::int64_t due = clock_.now_ms() + period;
    entries_.emplace(id, Entry{due, period, std::move(callback)});
    queue_.emplace(due, id);
    return id;
}

void ManualScheduler::cancel(Id id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    queue_.erase({it->second.due_ms, id});
    entries_.erase(it);
}

void ManualScheduler::advance(std::int64_t ms) {
    const std::int64_t target = clock_.now_ms() + std::max<std::int64_t>(0, ms);
    while (!queue_.empty() && queue_.begin()->first <= target) {
        const auto [due, id] = *queue_.begin();
        queue_.erase(queue_.begin());
        clock_.advance_ms(due - clock_.now_ms());
        Callback callback = entries_.at(id).callback;  // may cancel or reschedule
        const bool again = callback();
        auto it = entries_.find(id);
        if (it == entries_.end()) continue;  // cancelled itself
        if (!again) {
            entries_.erase(it);
            continue;
        }
        // A repeating callback with no delay would never let time move.
        it->second.due_ms = due + std::max<std::int64_t>(1, it->second.period_ms);
        queue_.emplace(it->second.due_ms, id);
    }
    clock_.advance_ms(target - clock_.now_ms());
}

}  // namespace rtcpeer
