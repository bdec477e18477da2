#include "ice/mdns.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "base/bytes.hpp"
#include "sdp/text.hpp"

namespace rtcpeer::ice::mdns {

namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kClassIn = 1;
constexpr const char* kGroup = "224.0.0.251";
constexpr std::uint16_t kPort = 5353;
// Resend after 250 ms and 1 s, give up after 3 s: the mDNS responder is on
// the same link, so an answer that has not come by then will not come.
constexpr std::int64_t kResendMs[] = {250, 1000};
constexpr std::int64_t kGiveUpMs = 3000;

using bytes::put16;

std::string_view trim_dot(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    return name;
}

// Reads a (possibly compressed) name at offset; advances offset past it.
// False on anything malformed, including pointer loops.
bool read_name(const std::uint8_t* data, std::size_t size, std::size_t& offset, std::string& name) {
    name.clear();
    std::size_t at = offset;
    bool jumped = false;
    for (int hops = 0; hops < 32; ++hops) {
        if (at >= size) return false;
        const std::uint8_t length = data[at];
        if (length == 0) {
            if (!jumped) offset = at + 1;
            return true;
        }
        if ((length & 0xC0) == 0xC0) {
            if (at + 1 >= size) return false;
            const std::size_t target = static_cast<std::size_t>(length & 0x3F) << 8 | data[at + 1];
            if (!jumped) offset = at + 2;
            jumped = true;
            at = target;
            continue;
        }
        if ((length & 0xC0) != 0 || at + 1 + length > size || name.size() + length > 255)
            return false;
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<const char*>(data + at + 1), length);
        at += 1 + length;
    }
    return false;
}

}  // namespace

std::vector<std::uint8_t> build_query(std::string_view name, std::uint16_t id) {
    std::vector<std::uint8_t> out;
    put16(out, id);
    put16(out, 0);  // a standard query
    put16(out, 2);  // two questions: A and AAAA
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    std::vector<std::uint8_t> encoded;
    std::string_view rest = trim_dot(name);
    while (!rest.empty()) {
        const std::size_t dot = rest.find('.');
        std::string_view label = rest.substr(0, dot);
        if (label.empty() || label.size() > 63) return {};
        encoded.push_back(static_cast<std::uint8_t>(label.size()));
        encoded.insert(encoded.end(), label.begin(), label.end());
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    }
    encoded.push_back(0);
    for (std::uint16_t type : {kTypeA, kTypeAaaa}) {
        out.insert(out.end(), encoded.begin(), encoded.end());
        put16(out, type);
        put16(out, kClassIn);
    }
    return out;
}

std::vector<std::string> parse_answers(const std::uint8_t* data, std::size_t size,
                                       std::string_view name) {
    std::vector<std::string> addresses;
    if (size < 12) return addresses;
    auto get16 = [&](std::size_t at) { return bytes::get16(data + at); };
    const std::uint16_t flags = get16(2);
    if (!(flags & 0x8000)) return addresses;  // not a response
    const unsigned questions = get16(4);
    const unsigned records = get16(6) + get16(8) + get16(10);
    std::size_t offset = 12;
    std::string owner;
    for (unsigned i = 0; i < questions; ++i) {
        if (!read_name(data, size, offset, owner) || offset + 4 > size) return {};
        offset += 4;
    }
    name = trim_dot(name);
    for (unsigned i = 0; i < records && addresses.size() < 16; ++i) {
        if (!read_name(data, size, offset, owner) || offset + 10 > size) return addresses;
        const std::uint16_t type = get16(offset);
        const std::uint16_t klass = get16(offset + 2) & 0x7FFF;  // top bit: cache-flush
        const std::uint16_t length = get16(offset + 8);
        offset += 10;
        if (offset + length > size) return addresses;
        if (klass == kClassIn && sdp::text::iequals(trim_dot(owner), name)) {
            char text[INET6_ADDRSTRLEN] = {};
            if (type == kTypeA && length == 4) {
                inet_ntop(AF_INET, data + offset, text, sizeof text);
                addresses.emplace_back(text);
            } else if (type == kTypeAaaa && length == 16) {
                inet_ntop(AF_INET6, data + offset, text, sizeof text);
                addresses.emplace_back(text);
            }
        }
        offset += length;
    }
    return addresses;
}

struct Resolver::Query {
    std::string name;
    std::uint16_t id;
    Callback callback;
    std::int64_t started_ms;
    std::size_t resent = 0;
    loop::Timer timer;
    bool done = false;
};

Resolver::Resolver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    const unsigned char ttl = 255;  // RFC 6762 §11
    ::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    const unsigned char loop = 1;  // a responder on this host answers too
    ::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    watch_ = loop::FdWatch(fd_, G_IO_IN, [this](GIOCondition) { return on_readable(); });
}

Resolver::~Resolver() {
    watch_.reset();
    if (fd_ >= 0) ::close(fd_);
}

void Resolver::resolve(const std::string& name, Callback callback) {
    auto query = std::make_unique<Query>();
    query->name = name;
    query->id = next_id_++;
    query->callback = std::move(callback);
    query->started_ms = loop::now_ms();
    Query& q = *query;
    queries_.push_back(std::move(query));
    send(q);
}

void Resolver::send(Query& query) {
    const auto packet = build_query(query.name, query.id);
    if (fd_ >= 0 && !packet.empty()) {
        sockaddr_in group{};
        group.sin_family = AF_INET;
        group.sin_port = htons(kPort);
        inet_pton(AF_INET, kGroup, &group.sin_addr);
        ::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&group),
                 sizeof group);
    }
    const std::int64_t elapsed = loop::now_ms() - query.started_ms;
    const std::int64_t next =
        query.resent < std::size(kResendMs) ? kResendMs[query.resent] : kGiveUpMs;
    query.timer.start_once(std::chrono::milliseconds(std::max<std::int64_t>(1, next - elapsed)),
                           [this, &query] {
                               if (query.resent < std::size(kResendMs)) {
                                   ++query.resent;
                                   send(query);
                                   return;
                               }
                               query.done = true;
                               query.callback({});
                           });
}

bool Resolver::on_readable() {
    std::uint8_t buffer[9000];
    for (;;) {
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        for (auto& query : queries_) {
            if (query->done) continue;
            auto addresses = parse_answers(buffer, static_cast<std::size_t>(n), query->name);
            if (addresses.empty()) continue;
            query->done = true;
            query->timer.reset();
            query->callback(addresses);
        }
    }
    return true;
}

}  // namespace rtcpeer::ice::mdns
