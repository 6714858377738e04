// Linux headers that Swift's Glibc module does not include: epoll and
// eventfd for JobWireServer's event loops, getrandom for its job ids.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
