#include "datachannel/data_channel.hpp"

#include "datachannel/registry.hpp"

namespace rtcpeer::datachannel {

DataChannel::DataChannel(Registry& registry, StreamId stream, std::string label,
                         ChannelOptions options, bool acked)
    : registry_(registry),
      stream_(stream),
      label_(std::move(label)),
      options_(std::move(options)),
      acked_(acked) {}

bool DataChannel::send(std::string_view data, bool binary, bool reliable) {
    if (state_ != State::kOpen) return false;
    Registry::Entry entry(registry_);
    if (data.empty()) {
        // RFC 8831 §6.6: SCTP cannot carry an empty message.
        registry_.enqueue(*this, std::string(1, '\0'),
                          binary ? Ppid::kBinaryEmpty : Ppid::kStringEmpty, 0, reliable);
    } else {
        const Ppid ppid = binary ? Ppid::kBinary : Ppid::kString;
        if (registry_.send_now(*this, data, ppid, reliable)) return true;
        registry_.enqueue(*this, std::string(data), ppid, data.size(), reliable);
    }
    registry_.flush();
    return true;
}

void DataChannel::close() {
    if (state_ != State::kOpen) return;
    Registry::Entry entry(registry_);
    state_ = State::kClosing;
    registry_.reset_when_drained(*this);
}

}  // namespace rtcpeer::datachannel
