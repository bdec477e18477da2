#include "rtp/send_history.hpp"

namespace rtcpeer::rtp {

SendHistory::SendHistory(std::size_t max_packets, std::size_t max_bytes)
    : max_packets_(max_packets), max_bytes_(max_bytes) {}

void SendHistory::store(SequenceNumber sequence, std::span<const std::uint8_t> packet) {
    if (packet.size() > max_bytes_ || max_packets_ == 0) return;
    // The buffer of the last packet forgotten takes the new one: once the
    // history is full, storing allocates nothing.
    std::vector<std::uint8_t> buffer;
    while (!packets_.empty() &&
           (packets_.size() >= max_packets_ || bytes_ + packet.size() > max_bytes_)) {
        bytes_ -= packets_.front().packet.size();
        buffer = std::move(packets_.front().packet);
        packets_.pop_front();
    }
    buffer.assign(packet.begin(), packet.end());
    packets_.push_back({sequence, std::move(buffer)});
    bytes_ += packet.size();
}

std::span<const std::uint8_t> SendHistory::find(SequenceNumber sequence) const {
    // Sent packets are numbered consecutively, so the place of a sequence
    // number is its distance from the newest; a source restart or a gap in
    // numbering breaks that, and then a scan from the newest finds it.
    if (packets_.empty()) return {};
    const std::int32_t back = distance(sequence, packets_.back().sequence);
    if (back >= 0 && static_cast<std::size_t>(back) < packets_.size()) {
        const auto& entry = packets_[packets_.size() - 1 - static_cast<std::size_t>(back)];
        if (entry.sequence == sequence) return entry.packet;
    }
    for (auto it = packets_.rbegin(); it != packets_.rend(); ++it) {
        if (it->sequence == sequence) return it->packet;
    }
    return {};
}

void SendHistory::clear() {
    packets_.clear();
    bytes_ = 0;
}

}  // namespace rtcpeer::rtp
