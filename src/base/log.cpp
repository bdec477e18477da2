#include "base/log.hpp"

#include <glib.h>

#include <cstdio>
#include <string_view>

namespace rtcpeer::log {

namespace {
int g_verbosity = 0;
bool g_quiet = false;
const gint64 g_start_us = g_get_monotonic_time();
std::string g_progress;  // the status line on screen, if any

// "\r\033[K": back to the start of the line and clear it.
void print_line(const char* format, const std::string& text) {
    if (!g_progress.empty()) std::fputs("\r\033[K", stderr);
    std::fprintf(stderr, format, text.c_str());
    if (!g_progress.empty()) std::fprintf(stderr, "%s\033[K", g_progress.c_str());
    std::fflush(stderr);
}

// GLib's own writer prints debug and info messages on stdout, which carries
// the data: with G_MESSAGES_DEBUG set (libnice's debugging, say), a transfer
// would receive the library's log lines in the middle of the file. Every
// message that GLib would print goes to stderr instead.
GLogWriterOutput write_to_stderr(GLogLevelFlags level, const GLogField* fields, gsize count,
                                 gpointer) {
    const char* domain = nullptr;
    for (gsize i = 0; i < count; ++i) {
        if (std::string_view(fields[i].key) == "GLIB_DOMAIN")
            domain = static_cast<const char*>(fields[i].value);
    }
    if (g_log_writer_default_would_drop(level, domain)) return G_LOG_WRITER_HANDLED;
    gchar* line = g_log_writer_format_fields(level, fields, count, FALSE);
    print_line("%s\n", line);
    g_free(line);
    return G_LOG_WRITER_HANDLED;
}
}  // namespace

void configure(int verbosity, bool quiet) {
    g_verbosity = verbosity;
    g_quiet = quiet;
    static const bool writer_set = [] {
        g_log_set_writer_func(&write_to_stderr, nullptr, nullptr);
        return true;
    }();
    (void)writer_set;
}

bool verbose() { return g_verbosity > 0; }

void state(const std::string& text) {
    if (g_verbosity <= 0) return;
    const double seconds = static_cast<double>(g_get_monotonic_time() - g_start_us) / 1e6;
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[%8.3f] ", seconds);
    print_line("rtcpeer: %s\n", stamp + text);
}

void warn(const std::string& text) {
    if (!g_quiet) print_line("rtcpeer: warning: %s\n", text);
}

void info(const std::string& text) {
    if (!g_quiet) print_line("rtcpeer: %s\n", text);
}

void progress(const std::string& text) {
    if (text.empty()) return;
    g_progress = text;
    std::fprintf(stderr, "\r%s\033[K", g_progress.c_str());
    std::fflush(stderr);
}

void end_progress() {
    if (g_progress.empty()) return;
    g_progress.clear();
    std::fputs("\n", stderr);
}

}  // namespace rtcpeer::log
