#include "sctp/stack.hpp"

#include <usrsctp.h>

#include <algorithm>
#include <stdexcept>

#include "sctp/association.hpp"
#include "sctp/sack_frequency.hpp"

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
    // recoveries are time-outs (see redundancy.hpp); longer paths measure
    // their own RTO above it. A lower floor recovers sooner, but a fast
    // path's RTT samples spike when the receiver falls behind (its 8 MiB
    // socket buffer holds 40 ms at 200 MB/s), and each spurious time-out
    // shrinks the window to one packet. Measured on the veth pair, 20 MB
    // one way at 20% random loss each way / 128 MB clean (same runs, other
    // work loading the machine):
    //   100 ms: 0.61-0.75 MB/s / 5-10 time-outs;
    //    60 ms: 1.04-1.09 MB/s / 8-14;
    //    50 ms: 1.30-1.36 MB/s / 15-17, clean rate the same as at 100 ms
    //           within the noise (61-63 against 61-64 MB/s);
    //    40 ms: 1.62-1.65 MB/s / 11-21, clean 105-120 against 105-122.
    // Later, with both sides about twice as fast, 50 against 30 ms
    // (alternating runs, quiet machine): 20% loss 1.4-1.5 against 1.8-2.2
    // MB/s (5 runs each); 5% loss 38.9 against 39.3 MB/s median, data phase
    // 42.3 against 45.3 (16 runs each); 128 MiB clean 237.6 against 242.3
    // MB/s, the same CPU (4 runs each). 30 ms moves a lossy path faster at
    // no measurable cost on a clean one.
    usrsctp_sysctl_set_sctp_rto_min_default(30);
    // An association has one path (one ICE pair). usrsctp marks a path
    // failed after 5 time-outs in a row and then waits for a heartbeat to
    // revive it: after an outage of 1 to 6 s one way, data moved again up
    // to 6 s after the link came back, 12 s with partly reliable messages
    // queued (test_sctp_sim.cpp, "after an outage"); with the failure
    // threshold at the association's, the next retransmission revives it,
    // at most rto_max later. 12 time-outs in a row (18.8 s at these RTOs)
    // outlast the connection's own 15 s silence limit (peer::Config), which
    // then ends it with a clearer message than an SCTP abort.
    usrsctp_sysctl_set_sctp_path_rtx_max_default(12);
    usrsctp_sysctl_set_sctp_assoc_rtx_max_default(12);
    // The RTO before the first round trip is measured: the association's
    // INIT and COOKIE-ECHO wait this long before they are sent again (their
    // copies, redundancy.hpp, make that rare: both lost). At 20% random loss
    // each way the former 1 s held the set-up back 1-4 s in about one run
    // in ten; data waits on a measured RTO (the handshake measures one).
    usrsctp_sysctl_set_sctp_rto_initial_default(300);
    // A SACK within 20 ms rather than 200 ms, so that the sender's window
    // opens promptly; every second data packet, or every fourth while data
    // streams in (each Association sets that as the rate changes,
    // sctp/sack_frequency.hpp).
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(Stack::kDelayedSackMs);
    // The sending side of a SACK every fourth packet: a SACK may release
    // twice that many packets at once (max burst; usrsctp's default of 4
    // cuts the window to what is in flight plus 4 packets whenever a SACK
    // would release more), and slow start grows by up to 4 packets a SACK
    // (RFC 3465's L; usrsctp's default is 2), so the window grows as fast
    // as with a SACK every second packet. With a remote that acknowledges
    // every second packet neither changes anything.
    usrsctp_sysctl_set_sctp_max_burst_default(2 * SackFrequency::kFast);
    usrsctp_sysctl_set_sctp_L2_abc_variable(SackFrequency::kFast);
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
