#include "app/exit_code.hpp"

#include <cstddef>
#include <iterator>

namespace rtcpeer {

ExitCode exit_code(ErrorCategory category) {
    // In the order of ErrorCategory.
    static constexpr ExitCode kCodes[] = {ExitCode::kUsage,      ExitCode::kFailure,
                                          ExitCode::kTimeout,    ExitCode::kProtocol,
                                          ExitCode::kConnection, ExitCode::kSecurity};
    static_assert(std::size(kCodes) == static_cast<std::size_t>(ErrorCategory::kSecurity) + 1);
    return kCodes[static_cast<std::size_t>(category)];
}

}  // namespace rtcpeer
