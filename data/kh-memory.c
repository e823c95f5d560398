/* kh-memory.c: how the programs use glibc's malloc
 *
 * A sync moves pages of megabytes: the server makes, compresses and frees one per request, and
 * the client reads, writes and frees it, while SQLite sorts a first pull's indexes in large
 * buffers. By default glibc gives freed memory at the top of a heap back to the system from
 * 128 KB on, and maps large blocks on their own: the next page then touches fresh memory, every
 * 4 KB of it a page fault that the kernel fills with zeros. So every program keeps up to 64 MB
 * of what it freed, and maps only blocks of 16 MB or more, on its own (kh_memory_setup(), first
 * thing in main()); a client gives what it keeps back after a large sync
 * (kh_memory_release()), when it goes quiet.
 *
 * With it the server takes a small fraction of the page faults while a replica pulls, and so
 * less CPU time; the client reads pages and makes a first pull's indexes again faster.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-memory.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#define KEEP_FREED (64 * 1024 * 1024)
#define MAP_FROM   (16 * 1024 * 1024)

/* Before any thread starts: glibc reads these when it makes an arena. */
void
kh_memory_setup (void)
{
#ifdef __GLIBC__
  mallopt (M_TRIM_THRESHOLD, KEEP_FREED);
  mallopt (M_MMAP_THRESHOLD, MAP_FROM);
#endif
}

/* Gives the memory freed and kept back to the system, from every thread's heap. */
void
kh_memory_release (void)
{
#ifdef __GLIBC__
  malloc_trim (0);
#endif
}
