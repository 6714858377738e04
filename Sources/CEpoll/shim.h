// Linux headers that Swift's Glibc module does not include: epoll and
// eventfd for JobWireServer's event loops, getrandom for its job ids.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/random.h>

// Names the calling thread (at most 15 bytes are kept), so `top -H`, gdb and
// the tests can tell the event loops apart. prctl is variadic, which Swift
// cannot call.
static inline int jobwire_name_thread(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}
