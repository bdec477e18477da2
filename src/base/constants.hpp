// Sizes that several layers must agree on, derived in one place.
//
// The data path's unit is one SCTP packet in one DTLS record in one UDP
// datagram: SCTP never sends a packet that DTLS would have to split, and
// DTLS never sees one larger than it accepts.
//
//   - SCTP packets are at most 1200 bytes, common header included. DTLS
//     wraps each in one record (37 bytes more with AES-GCM: 13 of header, 8
//     of explicit nonce, 16 of tag), so a data datagram carries at most
//     1237 bytes: under the 1500-byte Ethernet MTU with UDP/IP and a TURN
//     relay's framing added, so no path MTU discovery is needed.
//   - The DTLS handshake fragments its flights to 1200-byte datagrams: the
//     IPv6 minimum MTU (1280) less IPv6 and UDP headers (1232), with some
//     room for TURN.
//   - usrsctp's path MTU (spp_pathmtu) does not count the 12-byte common
//     header: 1200 - 12 = 1188.
//   - GnuTLS's data MTU bounds the application data of one record; a record
//     with more fails the whole session (GNUTLS_E_LARGE_PACKET). It is set a
//     margin above the largest SCTP packet so that a packet slightly larger
//     than planned still goes out: 1200 + 64 = 1264.
#pragma once

#include <cstddef>

namespace rtcpeer {

// The largest SCTP packet, common header included (sctp/association.cpp).
inline constexpr std::size_t kSctpPacketBytes = 1200;
// What usrsctp is told as its path MTU: the packet without the common header.
inline constexpr std::size_t kSctpPathMtu = kSctpPacketBytes - 12;
// The most application data one DTLS record carries (dtls/transport.cpp).
inline constexpr std::size_t kDtlsDataMtu = kSctpPacketBytes + 64;
// The datagram size that DTLS handshake flights are fragmented to.
inline constexpr std::size_t kDtlsHandshakeMtu = 1200;

}  // namespace rtcpeer
