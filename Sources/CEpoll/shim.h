// epoll and eventfd, which Swift's Glibc module does not include; used by
// JobWireServer's event loops.
#include <sys/epoll.h>
#include <sys/eventfd.h>
