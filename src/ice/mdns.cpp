#include "ice/mdns.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace rtcpeer::ice::mdns {

namespace {

constexpr const char* kGroup = "224.0.0.251";
constexpr std::uint16_t kPort = 5353;
// Resend after 250 ms and 1 s, give up after 3 s: the mDNS responder is on
// the same link, so an answer that has not come by then will not come.
constexpr std::int64_t kResendMs[] = {250, 1000};
constexpr std::int64_t kGiveUpMs = 3000;

}  // namespace

struct Resolver::Query {
    std::string name;
    std::uint16_t id;
    Callback callback;
    std::int64_t started_ms;
    std::size_t resent = 0;
    loop::Timer timer;
    bool done = false;
};

Resolver::Resolver(const Clock& clock) : clock_(clock) {
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
    query->started_ms = clock_.now_ms();
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
    const std::int64_t elapsed = clock_.now_ms() - query.started_ms;
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
