#include "datachannel/registry.hpp"

#include "base/error.hpp"
#include "base/log.hpp"
#include "base/text.hpp"

namespace rtcpeer::datachannel {

namespace {
constexpr std::uint16_t kReservedStream = 65535;  // RFC 8831 §6.5
constexpr unsigned kRefusalWarnings = 3;
constexpr int kWritableRetries = 64;

std::string quoted(const std::string& label) { return "\"" + text::printable(label, 60) + "\""; }
}  // namespace

Registry::Registry(sctp::Association& association, bool dtls_client, Callbacks callbacks)
    : association_(association), dtls_client_(dtls_client), callbacks_(std::move(callbacks)) {}

Registry::~Registry() = default;

std::optional<StreamId> Registry::free_stream() const {
    for (std::uint32_t id = dtls_client_ ? 0 : 1; id < kMaxStreams; id += 2) {
        if (channels_.count(StreamId(static_cast<std::uint16_t>(id))) == 0)
            return StreamId(static_cast<std::uint16_t>(id));
    }
    return std::nullopt;
}

DataChannel& Registry::open(std::string label, ChannelOptions options,
                            DataChannel::Callbacks callbacks) {
    validate(options);
    if (ended_ || !association_.up()) {
        throw Error(ErrorCategory::kConnection, "channel",
                    "cannot open a data channel: the association is not up");
    }
    std::optional<StreamId> stream = options.negotiated;
    if (stream) {
        if (stream->value() == kReservedStream || channels_.count(*stream) != 0) {
            throw Error(ErrorCategory::kUsage, "channel",
                        "stream id " + stream->to_string() + " is " +
                            (stream->value() == kReservedStream ? "reserved" : "in use"));
        }
    } else {
        stream = free_stream();
        if (!stream) {
            throw Error(ErrorCategory::kRuntime, "channel",
                        "every stream id for our channels is in use");
        }
    }
    Entry entry(*this);
    const bool negotiated = options.negotiated.has_value();
    DataChannel& channel = add(*stream, std::move(label), std::move(options), negotiated);
    if (!negotiated) {
        const auto message = build_open(to_open(channel.label_, channel.options_));
        enqueue(channel, std::string(message.begin(), message.end()), Ppid::kDcep, 0);
        flush();
        // The channel is forgotten when this returns (sweep).
        if (!channel.is_open()) {
            throw Error(ErrorCategory::kConnection, "channel",
                        "cannot send DATA_CHANNEL_OPEN on stream " + stream->to_string());
        }
    }
    log::state("channel " + quoted(channel.label_) + " opened on stream " + stream->to_string() +
               (negotiated ? " (negotiated)" : ""));
    channel.callbacks_ = std::move(callbacks);
    if (channel.callbacks_.on_open) channel.callbacks_.on_open();
    return channel;
}

DataChannel& Registry::add(StreamId stream, std::string label, ChannelOptions options, bool acked) {
    auto channel = std::unique_ptr<DataChannel>(
        new DataChannel(*this, stream, std::move(label), std::move(options), acked));
    DataChannel& ref = *channel;
    channels_[stream] = std::move(channel);
    return ref;
}

DataChannel* Registry::find(StreamId stream) {
    auto it = channels_.find(stream);
    if (it == channels_.end() || it->second->state_ == DataChannel::State::kClosed) return nullptr;
    return it->second.get();
}

std::size_t Registry::size() const {
    std::size_t n = 0;
    for (const auto& [id, channel] : channels_)
        if (channel->state_ != DataChannel::State::kClosed) ++n;
    return n;
}

void Registry::close_all() {
    Entry entry(*this);
    for (auto& [id, channel] : channels_) channel->close();
}

std::size_t Registry::buffered_amount() const {
    std::size_t n = 0;
    for (const auto& [id, channel] : channels_) n += channel->buffered_;
    return n;
}

void Registry::on_sctp_message(std::uint16_t stream_id, std::uint32_t ppid, std::string_view data) {
    Entry entry(*this);
    const StreamId stream(stream_id);
    if (ppid == to_wire(Ppid::kDcep)) return on_dcep(stream, data);
    DataChannel* channel = find(stream);
    if (channel == nullptr) {
        if (!warned_stray_) {
            warned_stray_ = true;
            log::warn("ignoring data on stream " + stream.to_string() +
                      ", which carries no open channel");
        }
        return;
    }
    // The remote's first message implies its ACK, which it sent before.
    channel->acked_ = true;
    bool binary = false;
    switch (static_cast<Ppid>(ppid)) {
        case Ppid::kString:
        case Ppid::kStringPartial:
            break;
        case Ppid::kBinary:
        case Ppid::kBinaryPartial:
            binary = true;
            break;
        case Ppid::kStringEmpty:
            data = {};
            break;
        case Ppid::kBinaryEmpty:
            data = {};
            binary = true;
            break;
        default:
            throw protocol_error("channel", "unknown payload protocol id " + std::to_string(ppid));
    }
    if (channel->callbacks_.on_message) channel->callbacks_.on_message(data, binary);
}

void Registry::on_dcep(StreamId stream, std::string_view data) {
    auto parsed = parse(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    if (!parsed) {
        throw protocol_error("channel", "malformed DCEP message on stream " + stream.to_string());
    }
    auto it = channels_.find(stream);
    DataChannel* existing = it == channels_.end() ? nullptr : it->second.get();
    if (parsed->type == MessageType::kAck) {
        // An ACK for no OPEN of ours is ignored.
        if (existing != nullptr && !existing->acked_) {
            existing->acked_ = true;
            log::state("channel " + quoted(existing->label_) + " acknowledged by the remote");
        }
        return;
    }
    if (existing != nullptr)
        throw protocol_error("channel", "a second DATA_CHANNEL_OPEN on the channel's stream");
    if (stream.even() == dtls_client_ && !warned_parity_) {
        warned_parity_ = true;
        log::warn("the remote opened stream " + stream.to_string() +
                  ", which has our DTLS role's parity");
    }
    IncomingChannel incoming{stream, parsed->open.label, from_open(parsed->open)};
    const bool accepted = !ended_ && stream.value() != kReservedStream && callbacks_.accept &&
                          callbacks_.accept(incoming);
    if (!accepted) {
        if (refused_++ < kRefusalWarnings) {
            log::warn("refusing extra data channel " + quoted(incoming.label) + " (stream " +
                      stream.to_string() + ")");
        }
        association_.reset_stream(stream.value());
        return;
    }
    DataChannel& channel =
        add(stream, std::move(incoming.label), std::move(incoming.options), true);
    const auto ack = build_ack();
    enqueue(channel, std::string(ack.begin(), ack.end()), Ppid::kDcep, 0);
    log::state("channel " + quoted(channel.label_) + " opened by the remote on stream " +
               stream.to_string());
    flush();
    if (!channel.is_open()) return;  // the ACK could not be sent: refused after all
    if (callbacks_.on_channel) callbacks_.on_channel(channel);
    if (channel.is_open() && channel.callbacks_.on_open) channel.callbacks_.on_open();
}

void Registry::on_incoming_reset(std::uint16_t stream_id) {
    Entry entry(*this);
    DataChannel* channel = find(StreamId(stream_id));
    if (channel == nullptr) return;  // a refused stream's answer, or a stray reset
    finish(*channel, channel->reset_sent_ ? "closed" : "closed by the remote");
}

void Registry::on_writable() {
    Entry entry(*this);
    waiting_writable_ = false;
    writable_signal_ = true;
    flush();
}

void Registry::on_association_ended() {
    Entry entry(*this);
    ended_ = true;
    for (auto& [id, channel] : channels_) {
        if (channel->state_ != DataChannel::State::kClosed) finish(*channel, "closed");
    }
}

void Registry::finish(DataChannel& channel, const char* why) {
    // RFC 8831 §6.7: answer the remote's reset with ours; what is still
    // queued has nobody to read it.
    channel.unsent_at_close_ = channel.buffered_;
    channel.queue_.clear();
    channel.buffered_ = 0;
    if (!channel.reset_sent_ && !ended_) association_.reset_stream(channel.stream_.value());
    channel.reset_sent_ = true;
    channel.state_ = DataChannel::State::kClosed;
    log::state("channel " + quoted(channel.label_) + " on stream " + channel.stream_.to_string() +
               " " + why);
    if (channel.callbacks_.on_closed) channel.callbacks_.on_closed();
}

void Registry::enqueue(DataChannel& channel, std::string data, Ppid ppid, std::size_t counted,
                       bool reliable) {
    channel.queue_.push_back({std::move(data), ppid, reliable});
    channel.buffered_ += counted;
    if (!channel.in_ring_) {
        channel.in_ring_ = true;
        ring_.push_back(&channel);
    }
}

void Registry::reset_when_drained(DataChannel& channel) {
    if (channel.state_ != DataChannel::State::kClosing || !channel.queue_.empty() ||
        channel.reset_sent_ || ended_)
        return;
    channel.reset_sent_ = true;
    association_.reset_stream(channel.stream_.value());
}

sctp::Association::SendResult Registry::send_message(DataChannel& channel, Ppid ppid, bool reliable,
                                                     std::string_view data) {
    sctp::SendOptions options =
        ppid == Ppid::kDcep ? sctp::SendOptions{} : send_options(channel.options_, channel.acked_);
    if (reliable) options.reliability = sctp::SendOptions::Reliability::kReliable;
    // An empty message is how a stream ends (docs/ARCHITECTURE.md, the
    // data path), and its sender then waits until everything is
    // acknowledged: ask for that acknowledgement at once rather than
    // after the remote's delayed-SACK time (20 ms in rtcpeer).
    options.sack_immediately = ppid == Ppid::kBinaryEmpty || ppid == Ppid::kStringEmpty;
    writable_signal_ = false;
    return association_.send(channel.stream_.value(), to_wire(ppid),
                             reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
                             options);
}

bool Registry::send_now(DataChannel& channel, std::string_view data, Ppid ppid, bool reliable) {
    if (flushing_ || waiting_writable_ || ended_ || !ring_.empty() || !channel.queue_.empty())
        return false;
    // A refused send arms the association's next writable signal, so the
    // queued copy's own attempt (flush) cannot miss it.
    if (send_message(channel, ppid, reliable, data) != sctp::Association::SendResult::kSent)
        return false;
    reset_when_drained(channel);
    if (channel.state_ != DataChannel::State::kClosed && channel.callbacks_.on_queue_drained)
        channel.callbacks_.on_queue_drained();
    return true;
}

void Registry::flush() {
    if (flushing_) {
        // A callback of a send below: the outer loop goes round again.
        flush_again_ = true;
        return;
    }
    flushing_ = true;
    int retries = 0;
    do {
        flush_again_ = false;
        while (!waiting_writable_ && !ended_ && !ring_.empty()) {
            DataChannel& channel = *ring_.front();
            if (channel.queue_.empty() || channel.state_ == DataChannel::State::kClosed) {
                ring_.pop_front();
                channel.in_ring_ = false;
                continue;
            }
            // Taken out while usrsctp runs: its callbacks may close the channel.
            DataChannel::Outgoing message = std::move(channel.queue_.front());
            channel.queue_.pop_front();
            const auto result = send_message(channel, message.ppid, message.reliable, message.data);
            const bool closed = channel.state_ == DataChannel::State::kClosed;
            if (result == sctp::Association::SendResult::kWouldBlock) {
                if (!closed) channel.queue_.push_front(std::move(message));
                // The association offers "writable" once per failed send; if
                // that came inside this very send, try again rather than wait
                // for a signal that was already spent.
                if (writable_signal_ && ++retries < kWritableRetries) {
                    flush_again_ = true;
                } else {
                    waiting_writable_ = true;
                }
                break;
            }
            if (result == sctp::Association::SendResult::kFailed) {
                if (ended_ || !association_.up()) break;
                if (!closed) {
                    log::warn("cannot send on stream " + channel.stream_.to_string() +
                              "; closing its channel " + quoted(channel.label_));
                    finish(channel, "failed");
                }
                continue;
            }
            if (closed) continue;
            const bool user_data = message.ppid != Ppid::kDcep;
            const std::size_t size = user_data && message.ppid != Ppid::kStringEmpty &&
                                             message.ppid != Ppid::kBinaryEmpty
                                         ? message.data.size()
                                         : 0;
            const std::size_t before = channel.buffered_;
            channel.buffered_ -= size;
            // Its turn is over: to the back of the ring, or out of it.
            ring_.pop_front();
            if (channel.queue_.empty()) {
                channel.in_ring_ = false;
            } else {
                ring_.push_back(&channel);
            }
            reset_when_drained(channel);
            if (size > 0 && before > channel.low_threshold_ &&
                channel.buffered_ <= channel.low_threshold_ &&
                channel.callbacks_.on_buffered_amount_low) {
                channel.callbacks_.on_buffered_amount_low();
            }
            if (channel.queue_.empty() && channel.state_ != DataChannel::State::kClosed &&
                channel.callbacks_.on_queue_drained) {
                channel.callbacks_.on_queue_drained();
            }
        }
    } while (flush_again_ && !waiting_writable_ && !ended_);
    flushing_ = false;
}

void Registry::sweep() {
    // Closed channels leave; their stream ids are free again.
    for (auto it = ring_.begin(); it != ring_.end();) {
        if ((*it)->state_ == DataChannel::State::kClosed) {
            (*it)->in_ring_ = false;
            it = ring_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = channels_.begin(); it != channels_.end();) {
        if (it->second->state_ == DataChannel::State::kClosed) {
            it = channels_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace rtcpeer::datachannel
