#include "sctp/stack.hpp"

#include <usrsctp.h>

#include <algorithm>
#include <stdexcept>

#include "sctp/association.hpp"

namespace rtcpeer::sctp {

namespace {

constexpr int kTimerTickMs = 10;  // how often the loop advances usrsctp's timers

Stack* g_live = nullptr;  // the Stack that exists, if any
bool g_initialised = false;

// Once per process: start usrsctp and set its defaults.
void initialise_usrsctp() {
    usrsctp_init_nothreads(0, &Association::conn_output, nullptr);
    // Checksums: see crc32c.hpp (DTLS authenticates; conn_output fills them in).
    usrsctp_enable_crc32c_offload();
    // Browsers' choices, which peers expect: no ECN, no ASCONF, no AUTH.
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_asconf_enable(0);
    usrsctp_sysctl_set_sctp_auth_enable(0);
    // PR-SCTP (RFC 3758) for partially reliable data channels (RFC 8831
    // §6.1): on by default in usrsctp; set so that no build changes it.
    usrsctp_sysctl_set_sctp_pr_enable(1);
    // RFC 4960's 60 s RTO ceiling turns a loss burst into a minute's
    // stall. At 20% random loss in both directions retransmissions fail
    // in a row often enough that a 10 s ceiling made transfers crawl (a
    // few stalls of several seconds per MiB, measured); 3 s still backs
    // off, and stays well below the 15 s silence that ends a session.
    usrsctp_sysctl_set_sctp_rto_max_default(3000);
    usrsctp_sysctl_set_sctp_init_rto_max_default(3000);
    // RFC 4960's 1 s minimum RTO was set for the internet of 2000. On a
    // short path the RTO is this floor, and under heavy loss most
    // recoveries are time-outs (see redundancy.hpp): 100 ms recovers
    // sooner; longer paths measure their own RTO above it. Lower floors
    // recover sooner still (at 20% loss each way 20 MiB took 15 s at
    // 40 ms, 21 s at 60 ms, 32-36 s at 100 ms), but a fast path's RTT
    // samples spike when the receiver falls behind (its 8 MiB socket
    // buffer holds 40 ms at 200 MB/s): at 40 ms, time-outs on the clean
    // veth pair of scripts/bench went from 6 to 16 per 256 MiB, each
    // shrinking the window to one packet.
    usrsctp_sysctl_set_sctp_rto_min_default(100);
    // The RTO before the first round trip is measured: the association's
    // INIT and COOKIE-ECHO wait this long before they are sent again (their
    // copies, redundancy.hpp, make that rare: both lost). At 20% random loss
    // each way the former 1 s held the set-up back 1-4 s in about one run
    // in ten; data waits on a measured RTO (the handshake measures one).
    usrsctp_sysctl_set_sctp_rto_initial_default(300);
    // SACK every other packet, and within 20 ms rather than 200 ms, so
    // that the sender's window opens promptly.
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    // The default cap of 512 queued chunks stalls a 2 MiB window of 1200-byte chunks.
    usrsctp_sysctl_set_sctp_max_chunks_on_queue(16384);
    usrsctp_sysctl_set_sctp_sendspace(Stack::kSendBufferBytes);
    usrsctp_sysctl_set_sctp_recvspace(Stack::kReceiveBufferBytes);
}

}  // namespace

Stack::Stack(const Clock& clock) : Stack(clock, glib_scheduler()) {}

Stack::Stack(Scheduler& scheduler) : Stack(scheduler.clock(), scheduler) {}

Stack::Stack(const Clock& clock, Scheduler& scheduler) : clock_(clock), timer_(scheduler) {
    if (g_live != nullptr) throw std::logic_error("a second usrsctp stack");
    if (!g_initialised) {
        initialise_usrsctp();
        g_initialised = true;
    }
    g_live = this;
    last_tick_ms_ = clock_.now_ms();
    timer_.start_repeating(std::chrono::milliseconds(kTimerTickMs), [this] {
        const std::int64_t now = clock_.now_ms();
        usrsctp_handle_timers(static_cast<std::uint32_t>(now - last_tick_ms_));
        last_tick_ms_ = now;
        pump_all();
        return true;
    });
}

Stack::~Stack() {
    timer_.reset();
    g_live = nullptr;
}

void Stack::add(Association* association) {
    associations_.push_back(association);
    usrsctp_register_address(association);
}

void Stack::remove(Association* association) {
    usrsctp_deregister_address(association);
    associations_.erase(std::remove(associations_.begin(), associations_.end(), association),
                        associations_.end());
}

void Stack::pump_all() {
    for (std::size_t i = 0; i < associations_.size(); ++i) associations_[i]->pump();
}

bool Stack::serves(void* address) {
    return g_live != nullptr &&
           std::find(g_live->associations_.begin(), g_live->associations_.end(), address) !=
               g_live->associations_.end();
}

}  // namespace rtcpeer::sctp
