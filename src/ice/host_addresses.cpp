#include "ice/host_addresses.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

#include "base/error.hpp"

namespace rtcpeer::ice {

bool family_allowed(Family family, const std::string& address) {
    const bool v6 = address.find(':') != std::string::npos;
    return family == Family::kAny || (family == Family::kIpv6) == v6;
}

std::vector<std::string> host_addresses(const Config& config) {
    std::vector<std::string> addresses = config.host_addresses;
    // Without --host-address, libnice takes every non-loopback address of
    // both families. -4/-6 and --interface narrow that list, so it is made
    // here from the interfaces.
    if (addresses.empty() && (!config.interfaces.empty() || config.family != Family::kAny)) {
        ifaddrs* list = nullptr;
        if (getifaddrs(&list) != 0) {
            throw Error(ErrorCategory::kRuntime, "ice", "cannot list the network interfaces");
        }
        for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
            if (entry->ifa_addr == nullptr || (entry->ifa_flags & IFF_UP) == 0) continue;
            const int family = entry->ifa_addr->sa_family;
            if (family != AF_INET && family != AF_INET6) continue;
            const bool named = std::find(config.interfaces.begin(), config.interfaces.end(),
                                         entry->ifa_name) != config.interfaces.end();
            if (!config.interfaces.empty() && !named) continue;
            // Loopback only when its interface is named; IPv6 link-local
            // addresses need a scope that candidates cannot carry.
            if ((entry->ifa_flags & IFF_LOOPBACK) != 0 && !named) continue;
            char text[INET6_ADDRSTRLEN] = {};
            if (family == AF_INET) {
                inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(entry->ifa_addr)->sin_addr, text,
                          sizeof text);
            } else {
                const in6_addr& a6 = reinterpret_cast<sockaddr_in6*>(entry->ifa_addr)->sin6_addr;
                if (IN6_IS_ADDR_LINKLOCAL(&a6)) continue;
                inet_ntop(AF_INET6, &a6, text, sizeof text);
            }
            if (family_allowed(config.family, text)) addresses.emplace_back(text);
        }
        freeifaddrs(list);
        if (addresses.empty()) {
            std::string where = config.interfaces.empty() ? "any interface" : "";
            for (const std::string& name : config.interfaces)
                where += (where.empty() ? "" : ", ") + name;
            const char* family = config.family == Family::kIpv4   ? "IPv4 "
                                 : config.family == Family::kIpv6 ? "IPv6 "
                                                                  : "";
            throw Error(ErrorCategory::kRuntime, "ice",
                        std::string("no usable ") + family + "address on " + where);
        }
    }
    return addresses;
}

}  // namespace rtcpeer::ice
