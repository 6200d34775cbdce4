/* benchcg: callgrind's client requests for bench/nginx/bench.lua (loaded with
 * ffi.load), so a loop inside the nginx worker is counted alone: zero the
 * counters, run the loop, dump them under the contender's name (valgrind's
 * manual, Callgrind, "Client request reference": CALLGRIND_ZERO_STATS,
 * CALLGRIND_DUMP_STATS_AT).  Outside valgrind a client request "consumes very
 * few (eg. 7) instructions" and changes nothing (valgrind.h). */
#include <valgrind/callgrind.h>

void kbench_cg_zero(void);
void kbench_cg_dump(const char *what);

void kbench_cg_zero(void) { CALLGRIND_ZERO_STATS; }

void kbench_cg_dump(const char *what) { CALLGRIND_DUMP_STATS_AT(what); }
