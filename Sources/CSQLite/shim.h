// The system SQLite (Debian's libsqlite3-dev), for JobWireServer's durable store.
#include <sqlite3.h>
