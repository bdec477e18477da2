// What the remote said when it aborted the association: the reason text of
// a User-Initiated Abort cause (RFC 4960 §3.3.10.12) in its ABORT chunk.
// rtcpeer aborts with "interrupted by SIGINT|SIGTERM" when a signal cuts a
// stream short, so that the receiver can tell a truncated stream from a
// whole one (rtcpeer(1), EXIT STATUS). Pure: no usrsctp, fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace rtcpeer::sctp {

// chunk: an ABORT chunk as the remote sent it (usrsctp appends it to the
// COMM_LOST notification); nullopt when it is no ABORT or holds no such cause.
std::optional<std::string> user_abort_reason(const std::uint8_t* chunk, std::size_t size);

}  // namespace rtcpeer::sctp
