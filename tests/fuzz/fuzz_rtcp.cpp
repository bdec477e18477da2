// RTCP compound packets from the remote, once decrypted. Properties: the
// packets of a sound compound packet tile it exactly; every typed parser
// stays in bounds; what parses as SR, RR, NACK, PLI or FIR builds back to
// something that parses to the same values.
#include <cstdint>
#include <set>
#include <vector>

#include "rtp/rtcp.hpp"

using namespace rtcpeer::rtp;

namespace {

RtcpPacket reparse_one(const std::vector<std::uint8_t>& bytes) {
    std::vector<RtcpPacket> packets;
    if (parse_compound(bytes, packets) != RtcpError::kNone || packets.size() != 1) __builtin_trap();
    return packets[0];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<RtcpPacket> packets;
    const RtcpError error = parse_compound({data, size}, packets);
    std::size_t covered = 0;
    for (const auto& packet : packets) {
        if (packet.bytes.data() != data + covered) __builtin_trap();
        covered += packet.bytes.size();
    }
    if (error == RtcpError::kNone && covered != size) __builtin_trap();

    for (const auto& packet : packets) {
        (void)parse_sdes(packet);
        (void)parse_bye(packet);
        if (auto sr = parse_sender_report(packet)) {
            std::vector<std::uint8_t> out;
            append_sender_report(out, *sr);
            auto again = parse_sender_report(reparse_one(out));
            if (!again || !(again->sender == sr->sender) || again->ntp_time != sr->ntp_time ||
                again->reports != sr->reports) {
                __builtin_trap();
            }
        }
        if (auto rr = parse_receiver_report(packet)) {
            std::vector<std::uint8_t> out;
            append_receiver_report(out, *rr);
            auto again = parse_receiver_report(reparse_one(out));
            if (!again || !(again->sender == rr->sender) || again->reports != rr->reports) {
                __builtin_trap();
            }
        }
        if (auto nack = parse_nack(packet)) {
            std::vector<std::uint8_t> out;
            append_nack(out, nack->sender, nack->media, nack->lost);
            auto again = parse_nack(reparse_one(out));
            std::set<std::uint16_t> before, after;
            for (auto s : nack->lost) before.insert(s.value());
            for (auto s : again->lost) after.insert(s.value());
            if (before != after || again->lost.size() != after.size()) __builtin_trap();
        }
        if (auto pli = parse_pli(packet)) {
            std::vector<std::uint8_t> out;
            append_pli(out, pli->sender, pli->media);
            auto again = parse_pli(reparse_one(out));
            if (!again || !(again->media == pli->media)) __builtin_trap();
        }
        if (auto fir = parse_fir(packet)) {
            std::vector<std::uint8_t> out;
            append_fir(out, fir->sender, fir->entries);
            auto again = parse_fir(reparse_one(out));
            if (!again || again->entries.size() != fir->entries.size()) __builtin_trap();
        }
    }
    return 0;
}
