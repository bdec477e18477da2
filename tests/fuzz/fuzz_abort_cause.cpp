// ABORT chunks from the remote. Property: a reason is never longer than the
// chunk that carried it, less the chunk and cause headers.
#include <cstdint>

#include "sctp/abort_cause.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto reason = rtcpeer::sctp::user_abort_reason(data, size);
    if (reason && reason->size() + 8 > size) __builtin_trap();
    return 0;
}
