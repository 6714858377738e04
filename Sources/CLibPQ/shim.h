// Debian's libpq (libpq-dev), for the PostgreSQL store. Only jobwired links it.
#include <libpq-fe.h>
