#include <sqlite3.h>

/// sqlite3_config is variadic, which Swift cannot call. Memory statistics make every SQLite
/// allocation take a global mutex (3.4 % of the writer thread's time in the ingest profile);
/// pitd never reads them. Must run before the first connection opens; later it is a no-op
/// (SQLITE_MISUSE).
static inline int pit_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
