// CRC32c (Castagnoli) as SCTP's common header carries it (RFC 4960 App. B).
//
// Over DTLS every SCTP packet is already authenticated, so rtcpeer tells
// usrsctp that checksums are "offloaded": incoming packets are not checked
// again (DTLS dropped anything altered), and outgoing ones get their checksum
// here, with the CPU's CRC32 instruction where there is one (SSE4.2), since
// the remote still checks it. Measured: usrsctp's table-driven CRC was 4-5%
// of each side's CPU in a bulk transfer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtcpeer::sctp {

// The value to store, as a native 32-bit word, in the checksum field of the
// packet: the same as usrsctp_crc32c().
std::uint32_t crc32c(const std::uint8_t* data, std::size_t size);

// Computes the packet's checksum (with its checksum field taken as zero) and
// writes it into the field. Needs at least the 12-byte common header.
void fill_checksum(std::uint8_t* packet, std::size_t size);

}  // namespace rtcpeer::sctp
